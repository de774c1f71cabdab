"""The questions of opened surveys, read once per engine (`bot.services.surveys.settled`): what an
answer and Submit read them from."""

from __future__ import annotations

from sqlalchemy import event, inspect, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.services import surveys as service
from bot.services.surveys.settled import settled_questions
from storage.db import create_session_factory
from storage.models import SurveyQuestion
from tests.test_surveys import answer_all, survey_open_to


async def test_read_once_shared_by_sessions_and_emptied_by_a_write_to_the_questions(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        survey, (member, other) = await survey_open_to(session, 2)
        survey_id = survey.id or 0
        await answer_all(session, survey, member)  # the answers and Submit fill the cache
    statements: list[str] = []

    def counted(*arguments: object) -> None:
        statements.append(str(arguments[2]))

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    async with sessions() as session:
        questions = await settled_questions(session, survey_id)
    assert statements == []  # no read
    assert [q.text for q in questions] == [
        "City?",
        "Interests?",
        "Satisfaction?",
        "Years abroad?",
        "Ideas?",
        "Volunteer?",
    ]
    assert all(inspect(q).detached for q in questions)  # in no session: nothing a rollback expires

    async with sessions() as session:  # a write to the table (drafts only, in the bot) empties it
        await session.exec(
            update(SurveyQuestion).where(col(SurveyQuestion.id) == questions[0].id).values(text="Town?")
        )
        await session.commit()
    async with sessions() as session:
        assert (await settled_questions(session, survey_id))[0].text == "Town?"
    assert statements[-1].lstrip().upper().startswith("SELECT")  # read again
    event.remove(engine.sync_engine, "before_cursor_execute", counted)

    async with sessions() as session:  # and the second member answers from it as before
        response = await answer_all(session, await service.get_survey(session, survey_id), other)
        assert len(await service.answers_of(session, response.id or 0)) == 6

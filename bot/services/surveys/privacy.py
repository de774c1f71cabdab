"""A member's own survey data: what `/mydata` lists, and what `/forget` erases (anonymous answers
already submitted are no one's and stay)."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import PAGE
from bot.services.surveys.building import questions_of
from bot.services.surveys.exports import cell_text
from bot.services.surveys.responses import answers_of
from storage.models import (
    PollDelivery,
    PollVote,
    ResponseStatus,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)


async def member_survey_data(session: AsyncSession, member_id: int) -> dict[str, Any]:
    """For `/mydata`: the member's attributed answers and poll votes, and which anonymous surveys
    they took part in (their answers there cannot be told apart from others', so are not listed)."""
    responses = (
        await session.exec(
            select(SurveyResponse, Survey.title)
            .join(Survey, col(Survey.id) == col(SurveyResponse.survey_id))
            .where(SurveyResponse.member_id == member_id)
            .order_by(col(SurveyResponse.id))
        )
    ).all()
    answered = []
    for response, title in responses:
        stored = await answers_of(session, response.id or 0)
        questions = await questions_of(session, response.survey_id)
        answered.append(
            {
                "survey": title,
                "status": str(response.status),
                "started_at": response.started_at.isoformat() if response.started_at else None,
                "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
                "answers": [
                    {"question": q.text, "answer": cell_text(q, stored[q.id or 0]).lstrip("'")}
                    for q in questions
                    if q.id in stored
                ],
            }
        )
    votes = (
        await session.exec(
            select(PollVote, Survey.title, SurveyQuestion)
            .join(Survey, col(Survey.id) == col(PollVote.survey_id))
            .join(PollDelivery, col(PollDelivery.id) == col(PollVote.delivery_id))
            .join(SurveyQuestion, col(SurveyQuestion.id) == col(PollDelivery.question_id))
            .where(PollVote.member_id == member_id)
            .order_by(col(PollVote.id))
        )
    ).all()
    anonymous = (
        await session.exec(
            select(Survey.title, SurveyParticipation.submitted)
            .join(Survey, col(Survey.id) == col(SurveyParticipation.survey_id))
            .where(SurveyParticipation.member_id == member_id, col(Survey.anonymous).is_(True))
            .order_by(col(Survey.id))
        )
    ).all()
    return {
        "survey_answers": answered,
        "poll_votes": [
            {
                "poll": title,
                "question": question.text,
                "chosen": [question.options[index] for index in vote.option_ids],
                "updated_at": vote.updated_at.isoformat(),
            }
            for vote, title, question in votes
        ],
        "anonymous_surveys": [{"survey": title, "submitted": submitted} for title, submitted in anonymous],
    }


async def erase_member_surveys(session: AsyncSession, member_id: int) -> None:
    """For `/forget`: the member's attributed responses, answers and poll votes are deleted, and so
    is an anonymous answer they had not submitted yet (its resume token is the only link). Submitted
    anonymous responses carry no link to anyone and stay in the results."""
    connection = await session.connection()
    tokens = list(
        (
            await session.exec(
                select(SurveyParticipation.progress_token).where(
                    SurveyParticipation.member_id == member_id,
                    col(SurveyParticipation.progress_token).is_not(None),
                )
            )
        ).all()
    )
    mine = select(SurveyResponse.id).where(
        (col(SurveyResponse.member_id) == member_id)
        | (
            col(SurveyResponse.respondent_key).in_(tokens)
            & (col(SurveyResponse.status) == ResponseStatus.IN_PROGRESS)
        )
    )
    ids = list((await session.exec(mine)).all())
    answers_table = SurveyAnswer.__table__  # type: ignore[attr-defined]
    responses_table = SurveyResponse.__table__  # type: ignore[attr-defined]
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        await connection.execute(answers_table.delete().where(answers_table.c.response_id.in_(chunk)))
        await connection.execute(responses_table.delete().where(responses_table.c.id.in_(chunk)))
    votes = PollVote.__table__  # type: ignore[attr-defined]
    await connection.execute(votes.delete().where(votes.c.member_id == member_id))
    participations = SurveyParticipation.__table__  # type: ignore[attr-defined]
    await connection.execute(participations.delete().where(participations.c.member_id == member_id))

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
from storage import models


async def member_survey_data(session: AsyncSession, member_id: int) -> dict[str, Any]:
    """For `/mydata`: the member's attributed answers and poll votes, and which anonymous surveys
    they took part in (their answers there cannot be told apart from others', so are not listed)."""
    responses = (
        await session.exec(
            select(models.SurveyResponse, models.Survey.title)
            .join(models.Survey, col(models.Survey.id) == col(models.SurveyResponse.survey_id))
            .where(models.SurveyResponse.member_id == member_id)
            .order_by(col(models.SurveyResponse.id))
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
            select(models.PollVote, models.Survey.title, models.SurveyQuestion)
            .join(models.Survey, col(models.Survey.id) == col(models.PollVote.survey_id))
            .join(models.PollDelivery, col(models.PollDelivery.id) == col(models.PollVote.delivery_id))
            .join(
                models.SurveyQuestion, col(models.SurveyQuestion.id) == col(models.PollDelivery.question_id)
            )
            .where(models.PollVote.member_id == member_id)
            .order_by(col(models.PollVote.id))
        )
    ).all()
    anonymous = (
        await session.exec(
            select(models.Survey.title, models.SurveyParticipation.submitted)
            .join(models.Survey, col(models.Survey.id) == col(models.SurveyParticipation.survey_id))
            .where(models.SurveyParticipation.member_id == member_id, col(models.Survey.anonymous).is_(True))
            .order_by(col(models.Survey.id))
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
                select(models.SurveyParticipation.progress_token).where(
                    models.SurveyParticipation.member_id == member_id,
                    col(models.SurveyParticipation.progress_token).is_not(None),
                )
            )
        ).all()
    )
    mine = select(models.SurveyResponse.id).where(
        (col(models.SurveyResponse.member_id) == member_id)
        | (
            col(models.SurveyResponse.respondent_key).in_(tokens)
            & (col(models.SurveyResponse.status) == models.ResponseStatus.IN_PROGRESS)
        )
    )
    ids = list((await session.exec(mine)).all())
    answers_table = models.SurveyAnswer.__table__  # type: ignore[attr-defined]
    responses_table = models.SurveyResponse.__table__  # type: ignore[attr-defined]
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        await connection.execute(answers_table.delete().where(answers_table.c.response_id.in_(chunk)))
        await connection.execute(responses_table.delete().where(responses_table.c.id.in_(chunk)))
    votes = models.PollVote.__table__  # type: ignore[attr-defined]
    await connection.execute(votes.delete().where(votes.c.member_id == member_id))
    participations = models.SurveyParticipation.__table__  # type: ignore[attr-defined]
    await connection.execute(participations.delete().where(participations.c.member_id == member_id))

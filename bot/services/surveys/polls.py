"""Native quick polls: each copy Telegram sent (its poll id), the votes of non-anonymous polls
(`poll_answer`, one per member whatever the copy) and the totals of anonymous ones (`poll`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.surveys.answers import option_index
from bot.services.surveys.closing import enqueue_poll_stops
from bot.services.surveys.rules import SurveyError
from bot.services.surveys.store import ensure_open, insert_ignore, question_at, survey_for_share
from storage.models import (
    OutboxMessage,
    PollDelivery,
    PollVote,
    QuestionKind,
    Survey,
    SurveyParticipation,
    SurveyQuestion,
    SurveyStatus,
)


async def record_poll_delivery(
    session: AsyncSession, survey: Survey, telegram_poll_id: str, chat_id: int
) -> PollDelivery:
    """The delivery engine sent a copy of the poll (sendPoll returned `poll.id`). An anonymous
    poll's copy keeps no chat id: in a private chat its counts are one member's vote. (Stopping the
    copies uses the outbox rows, which know the chats but not the poll ids.)"""
    question = await question_at(session, survey.id or 0, 0)
    if question is None or not survey.native_poll:
        raise SurveyError("not_a_poll")
    delivery = PollDelivery(
        survey_id=survey.id or 0,
        question_id=question.id or 0,
        telegram_poll_id=telegram_poll_id,
        chat_id=0 if survey.anonymous else chat_id,
        option_counts=[0] * len(question.options),
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def poll_sent(
    session: AsyncSession,
    outbox_id: int,
    survey_id: int,
    chat_id: int,
    message_id: int,
    telegram_poll_id: str,
    now: datetime,
) -> PollDelivery | None:
    """The delivery engine's hook after a copy of a native poll went out: remember the poll id (so
    votes on this copy count) and the message id on the outbox row (so the copy can be stopped).
    A copy that went out while the survey was closing is stopped at once ("poll_stop").

    The outbox update comes first (the write lock on SQLite), then the survey `FOR SHARE`: either
    `close_survey` sees this copy's message id, or this sees the survey closed."""
    await (await session.connection()).execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == outbox_id).values(telegram_message_id=message_id)
    )
    survey = await survey_for_share(session, survey_id)
    if not survey.native_poll:
        return None
    delivery = await record_poll_delivery(session, survey, telegram_poll_id, chat_id)
    if survey.status == SurveyStatus.CLOSED:
        await enqueue_poll_stops(session, survey_id, now, outbox_id)
    return delivery


async def _delivery(
    session: AsyncSession, telegram_poll_id: str
) -> tuple[PollDelivery, Survey, SurveyQuestion]:
    row = (
        await session.exec(
            select(PollDelivery, Survey, SurveyQuestion)
            .join(Survey, col(Survey.id) == col(PollDelivery.survey_id))
            .join(SurveyQuestion, col(SurveyQuestion.id) == col(PollDelivery.question_id))
            .where(PollDelivery.telegram_poll_id == telegram_poll_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise SurveyError("not_found")
    return row[0], row[1], row[2]


async def record_poll_vote(
    session: AsyncSession, telegram_poll_id: str, member_id: int, option_ids: Sequence[int], now: datetime
) -> bool:
    """A `poll_answer` of a non-anonymous poll, from any copy: the member's vote replaces their
    previous one; an empty `option_ids` withdraws it. Returns False for a survey no longer open."""
    delivery, survey, question = await _delivery(session, telegram_poll_id)
    try:
        ensure_open(survey, now)
    except SurveyError:
        return False
    if survey.anonymous:
        raise SurveyError("anonymous")
    options = sorted({option_index(option, len(question.options)) for option in option_ids})
    if len(options) > 1 and question.kind != QuestionKind.MULTIPLE:
        raise SurveyError("choose_one")
    connection = await session.connection()
    key = PollVote.survey_id == survey.id, PollVote.member_id == member_id
    if not options:
        await connection.execute(PollVote.__table__.delete().where(*key))  # type: ignore[attr-defined]
    else:
        module = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = module.insert(PollVote).values(
            survey_id=survey.id,
            delivery_id=delivery.id,
            member_id=member_id,
            option_ids=options,
            updated_at=now,
        )
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=["survey_id", "member_id"],
                set_={"delivery_id": delivery.id, "option_ids": options, "updated_at": now},
            )
        )
    participation = insert_ignore(connection.dialect.name, SurveyParticipation).values(
        survey_id=survey.id, member_id=member_id, submitted=bool(options)
    )
    await connection.execute(participation)
    await connection.execute(
        update(SurveyParticipation)
        .where(
            col(SurveyParticipation.survey_id) == survey.id, col(SurveyParticipation.member_id) == member_id
        )
        .values(submitted=bool(options))
    )
    return True


async def record_poll_counts(
    session: AsyncSession, telegram_poll_id: str, option_counts: Sequence[int], voter_count: int
) -> bool:
    """A `poll` update (the copy's current totals): the only data anonymous polls give."""
    delivery, survey, question = await _delivery(session, telegram_poll_id)
    if survey.status == SurveyStatus.CLOSED:
        return False
    counts = [max(int(count), 0) for count in option_counts]
    if len(counts) != len(question.options):
        raise SurveyError("bad_option")
    delivery.option_counts = counts
    delivery.voter_count = max(int(voter_count), 0)
    session.add(delivery)
    await session.flush()
    return True

"""Closing a survey (early, or at its deadline by the scheduler) and moving its closing time later.
Closing cancels what was not sent, erases anonymous resume tokens and stops every copy of a native
poll through the outbox ("poll_stop")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.outbox_rows import cancel_pending, pending_row
from bot.services.surveys.rules import (
    KIND,
    POLL_STOP_KIND,
    REMINDER_KIND,
    SurveyError,
    reminder_time,
    validate_times,
)
from bot.services.surveys.store import insert_ignore
from storage.models import OutboxMessage, Survey, SurveyParticipation, SurveyStatus


async def _cut_progress_links(session: AsyncSession, survey_id: int) -> None:
    await (await session.connection()).execute(
        update(SurveyParticipation)
        .where(
            col(SurveyParticipation.survey_id) == survey_id,
            col(SurveyParticipation.progress_token).is_not(None),
        )
        .values(progress_token=None)
    )


async def close_survey(session: AsyncSession, survey: Survey, now: datetime) -> None:
    """Close early (or at the deadline): no more answers; unsent invitations and reminders are
    cancelled; anonymous resume tokens are erased; every sent copy of a native poll gets a
    "poll_stop" outbox row (durable: the engine stops them even after a restart). The caller
    commits, then wakes the delivery engine."""
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyError("closed")
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = now
    survey.updated_at = now
    session.add(survey)
    await session.flush()  # the survey's row lock: submissions in flight finish first
    await _cut_progress_links(session, survey.id or 0)
    await cancel_pending(
        session, col(OutboxMessage.kind).in_((KIND, REMINDER_KIND)), col(OutboxMessage.ref_id) == survey.id
    )
    if survey.native_poll:
        await enqueue_poll_stops(session, survey.id or 0, now)


async def enqueue_poll_stops(
    session: AsyncSession, survey_id: int, now: datetime, outbox_id: int | None = None
) -> None:
    """A "poll_stop" row per copy whose message id is known (all of them, or the one `outbox_id`)."""
    copies = select(
        OutboxMessage.member_id,
        OutboxMessage.chat_id,
        OutboxMessage.language,
        OutboxMessage.telegram_message_id,
        OutboxMessage.organization_id,
    ).where(
        OutboxMessage.kind == KIND,
        OutboxMessage.ref_id == survey_id,
        col(OutboxMessage.telegram_message_id).is_not(None),
    )
    if outbox_id is not None:
        copies = copies.where(OutboxMessage.id == outbox_id)
    connection = await session.connection()
    rows = [
        pending_row(
            POLL_STOP_KIND,
            survey_id,
            (member, chat, language),
            {"message_id": message_id},
            now,
            now,
            organization_id=organization_id,
        )
        for member, chat, language, message_id, organization_id in (await session.exec(copies)).all()
    ]
    if rows:
        await connection.execute(insert_ignore(connection.dialect.name, OutboxMessage), rows)


async def close_due_surveys(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: close open surveys whose closing time has passed. The caller commits."""
    due = (
        await session.exec(
            select(Survey).where(Survey.status == SurveyStatus.OPEN, col(Survey.closes_at) <= now)
        )
    ).all()
    for survey in due:
        await close_survey(session, survey, now)
    return len(due)


async def extend(session: AsyncSession, survey: Survey, closes_at: datetime, now: datetime) -> None:
    """Move the closing time of an open (or draft) survey later. The reminder follows unless it was
    already sent: members are reminded once."""
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyError("closed")
    if survey.closes_at is not None and closes_at <= survey.closes_at:
        raise SurveyError("bad_times")
    validate_times(survey.opens_at, closes_at, now)
    survey.closes_at = closes_at
    if survey.status == SurveyStatus.OPEN and survey.reminded_at is None:
        survey.remind_at = reminder_time(survey)
    survey.updated_at = now
    session.add(survey)
    await session.flush()

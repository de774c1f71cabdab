"""Ending a training early: closing sign-ups (the waitlist is told) and cancelling (sessions,
reminders and unsent notices are cancelled; everyone holding or awaiting a seat is told).
Completion after the last session is in `bot.services.trainings.feedback`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.outbox_rows import cancel_pending
from bot.services.trainings.lock import lock_training, refusal
from bot.services.trainings.notices import notify
from bot.services.trainings.queries import fresh, sessions_of
from bot.services.trainings.rules import HOLDING, NOTICE_KIND, TrainingError
from storage.models import (
    Event,
    EventStatus,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    SignupStatus,
    Training,
    TrainingNotice,
    TrainingSignup,
    TrainingStatus,
)


async def close_training(session: AsyncSession, training: Training, now: datetime) -> int:
    """No more sign-ups; the sessions go on with the confirmed participants. The waitlist ends:
    those waiting are told ("closed" notice). Returns how many are told."""
    training = await fresh(session, training)
    locked = await lock_training(session, training.id or 0, Training.status == TrainingStatus.OPEN)
    if locked is None:
        raise await refusal(session, training.id or 0, now)
    waiting = list(
        (
            await session.exec(
                select(TrainingSignup.member_id).where(
                    TrainingSignup.training_id == training.id,
                    TrainingSignup.status == SignupStatus.WAITLISTED,
                )
            )
        ).all()
    )
    await (await session.connection()).execute(
        update(TrainingSignup)
        .where(
            col(TrainingSignup.training_id) == training.id, TrainingSignup.status == SignupStatus.WAITLISTED
        )
        .values(status=SignupStatus.CANCELLED, updated_at=now)
    )
    await (await session.connection()).execute(
        update(Training)
        .where(col(Training.id) == training.id)
        .values(status=TrainingStatus.CLOSED, updated_at=now)
    )
    training.status = TrainingStatus.CLOSED
    if not waiting:
        return 0
    return await notify(session, training, "closed", {}, (), now, member_ids=waiting)


async def cancel_training(session: AsyncSession, training: Training, now: datetime) -> int:
    """Cancel: sessions are cancelled (no more reminders), notices not yet sent are dropped, and
    everyone confirmed or waiting gets a "cancelled" notice. Returns how many are told."""
    training = await fresh(session, training)
    if training.status in (TrainingStatus.CANCELLED, TrainingStatus.COMPLETED):
        raise TrainingError("not_editable")
    await lock_training(session, training.id or 0)
    was_draft = training.status == TrainingStatus.DRAFT
    await (await session.connection()).execute(
        update(Training)
        .where(col(Training.id) == training.id)
        .values(status=TrainingStatus.CANCELLED, updated_at=now)
    )
    training.status = TrainingStatus.CANCELLED
    events = await sessions_of(session, training.id or 0)
    ids = [event.id for event in events]
    connection = await session.connection()
    await connection.execute(
        update(Event).where(col(Event.id).in_(ids)).values(status=EventStatus.CANCELLED, updated_at=now)
    )
    await connection.execute(
        update(Reminder)
        .where(
            col(Reminder.event_id).in_(ids),
            col(Reminder.status).in_((ReminderStatus.PENDING, ReminderStatus.CLAIMED)),
        )
        .values(status=ReminderStatus.CANCELLED, claimed_at=None)
    )
    notices = select(TrainingNotice.id).where(TrainingNotice.training_id == training.id).scalar_subquery()
    await cancel_pending(session, OutboxMessage.kind == NOTICE_KIND, col(OutboxMessage.ref_id).in_(notices))
    for event in events:
        await session.refresh(event)
    if was_draft:
        return 0
    return await notify(session, training, "cancelled", {}, HOLDING, now)

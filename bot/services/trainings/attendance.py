"""Attendance per session and completion: ticks recorded on the session events' RSVPs (as for
events, so check-in codes count too), and "completed N of M sessions"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as event_service
from bot.services.events import EventError
from bot.services.trainings.queries import fresh, my_signup, sessions_of
from bot.services.trainings.rules import TrainingError
from storage.models import Event, EventStatus, Rsvp, RsvpStatus, Training
from storage.types import utcnow


async def _session_of(session: AsyncSession, training: Training, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None or event.training_id != training.id:
        raise TrainingError("not_a_session")
    return event


async def mark_attendance(
    session: AsyncSession,
    training: Training,
    event_id: int,
    member_id: int,
    attended: bool,
    now: datetime | None = None,
) -> None:
    """Tick (or untick) a participant at a session. Anyone who signed up can be ticked (someone
    promoted after a session started has no RSVP on it yet: one is recorded)."""
    training = await fresh(session, training)
    event = await _session_of(session, training, event_id)
    moment = now or utcnow()
    try:
        await event_service.mark_attendance(session, event_id, member_id, attended, moment)
        return
    except EventError:
        pass
    if await my_signup(session, training.id or 0, member_id) is None:
        raise TrainingError("not_signed_up")
    rsvp = Rsvp(
        event_id=event.id or 0,
        member_id=member_id,
        status=RsvpStatus.GOING,
        seq=0,
        attended=attended,
        checked_in_at=moment if attended else None,
        created_at=moment,
        updated_at=moment,
    )
    session.add(rsvp)
    await session.flush()


async def attendance(session: AsyncSession, training_id: int) -> dict[tuple[int, int], bool]:
    """(member id, session event id) → attended, for every RSVP on the sessions."""
    result = await session.exec(
        select(Rsvp.member_id, Rsvp.event_id, Rsvp.attended)
        .join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(Event.training_id == training_id)
    )
    return {(member_id, event_id): bool(attended) for member_id, event_id, attended in result.all()}


async def session_ids(session: AsyncSession, training_id: int) -> list[int]:
    """The ids of the sessions that take place (not cancelled)."""
    return [
        event.id or 0
        for event in await sessions_of(session, training_id)
        if event.status != EventStatus.CANCELLED
    ]


async def completion(session: AsyncSession, training_id: int, member_id: int) -> tuple[int, int]:
    """(sessions attended, sessions) for "completed: N of M sessions"."""
    ids = await session_ids(session, training_id)
    if not ids:
        return 0, 0
    attended = (
        await session.exec(
            select(func.count())
            .select_from(Rsvp)
            .where(col(Rsvp.event_id).in_(ids), Rsvp.member_id == member_id, col(Rsvp.attended).is_(True))
        )
    ).one()
    return int(attended), len(ids)

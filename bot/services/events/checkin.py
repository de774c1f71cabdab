"""Attendance: the check-in code an organizer shows during the event, members sending it (from an
hour before the start to an hour after the end), and the organizer ticking names on the list.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.events.rules import EventError, effective_end
from bot.services.events.seats import answer_of, lock_event
from storage.models import Event, EventStatus, Rsvp, RsvpStatus

CHECKIN_BEFORE = timedelta(hours=1)  # check-in opens this long before the start
CHECKIN_AFTER = timedelta(hours=1)  # ... and closes this long after the end
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_checkin_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


async def mark_attendance(
    session: AsyncSession, event_id: int, member_id: int, attended: bool, now: datetime
) -> Rsvp:
    """The organizer ticks (or unticks) someone on the list."""
    answer = await answer_of(session, event_id, member_id)
    if answer is None:
        raise EventError("not_found")
    answer.attended = attended
    answer.checked_in_at = now if attended else None
    answer.updated_at = now
    session.add(answer)
    await session.flush()
    return answer


async def check_in(session: AsyncSession, member_id: int, code: str, now: datetime) -> Event:
    """A member sends the event's check-in code during the event (from an hour before the start
    to an hour after the end). Someone without an answer is recorded as a walk-in (going)."""
    normalized = "".join(code.split()).upper()
    candidates = (
        await session.exec(
            select(Event).where(
                Event.checkin_code == normalized,
                Event.status == EventStatus.PUBLISHED,
                col(Event.starts_at) <= now + CHECKIN_BEFORE,
                col(Event.starts_at) > now - timedelta(days=7),
            )
        )
    ).all()
    event = next((e for e in candidates if now <= effective_end(e) + CHECKIN_AFTER), None)
    if event is None or not normalized:
        raise EventError("bad_code")
    locked = await lock_event(session, event.id or 0)
    assert locked is not None
    answer = await answer_of(session, event.id or 0, member_id)
    if answer is None:
        answer = Rsvp(
            event_id=event.id or 0,
            member_id=member_id,
            status=RsvpStatus.GOING,
            seq=locked.seq,
            created_at=now,
        )
    answer.attended, answer.checked_in_at, answer.updated_at = True, now, now
    session.add(answer)
    await session.flush()
    return event


async def checkin_code(session: AsyncSession, event: Event, now: datetime, *, renew: bool = False) -> str:
    """The event's check-in code, made now if it has none (or a new one when `renew`)."""
    if renew or not event.checkin_code:
        event.checkin_code = new_checkin_code()
        event.updated_at = now
        session.add(event)
        await session.flush()
    return event.checkin_code

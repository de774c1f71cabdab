"""The waitlist: freed seats go to those waiting in tap order, at once or as an offer to take within
the claim window; offers not taken in time pass to the next in line (a scheduler job). Every
function here runs with the event locked (see `seats`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.events.notices import notify_member
from bot.services.events.queries import get_event
from bot.services.events.rules import HOLDS_SEAT
from bot.services.events.seats import Answer, Locked, count_answers, lock_event
from bot.services.seat_queries import in_tap_order
from storage.models import Event, EventStatus, Organization, Rsvp, RsvpStatus


async def _context(session: AsyncSession, event_id: int) -> tuple[Event, Organization]:
    event = await get_event(session, event_id)
    organization = await session.get(Organization, event.organization_id)
    assert organization is not None
    return event, organization


async def fill_seats(
    session: AsyncSession,
    event_id: int,
    locked: Locked,
    now: datetime,
    counts: dict[RsvpStatus, int] | None = None,
) -> list[int]:
    """Give free seats to the waitlist in tap order: promoted at once, or offered for the claim
    window (never past the start). Each one gets a notice. Call with the event locked; `counts`:
    the event's answers per status as they are now under this lock (none read again), or None to
    count them."""
    if locked.starts_at <= now:
        return []
    if counts is not None and not counts[RsvpStatus.WAITLISTED]:
        return []  # nobody waits
    free = None
    if locked.capacity is not None:
        free = locked.capacity - await count_answers(session, event_id, HOLDS_SEAT, counts)
        if free <= 0:
            return []
    waiting = await in_tap_order(session, col(Rsvp.event_id), event_id, RsvpStatus.WAITLISTED, limit=free)
    if not waiting:
        return []
    event, organization = await _context(session, event_id)
    for answer in waiting:
        answer.updated_at = now
        if locked.claim_window_hours:
            answer.status = RsvpStatus.OFFERED
            answer.offered_until = min(now + timedelta(hours=locked.claim_window_hours), locked.starts_at)
        else:
            answer.status = RsvpStatus.GOING
        session.add(answer)
    await session.flush()
    for answer in waiting:
        if answer.status == RsvpStatus.OFFERED:
            assert answer.offered_until is not None
            details = {"offered_until": answer.offered_until.isoformat()}
            await notify_member(session, event, organization, answer.member_id, "offered", details, now)
        else:
            await notify_member(session, event, organization, answer.member_id, "promoted", {}, now)
    return [answer.member_id for answer in waiting]


async def expire_locked_offers(session: AsyncSession, event_id: int, locked: Locked, now: datetime) -> int:
    """Offers not confirmed in time: the member is marked not going and told, and the seat passes
    to the next in line. Call with the event locked."""
    ended = col(Rsvp.offered_until) <= now
    expired = await in_tap_order(session, col(Rsvp.event_id), event_id, RsvpStatus.OFFERED, ended)
    await _expire(session, event_id, locked, expired, now)
    return len(expired)


# Built once, with `:event_id`, `:member_id` and `:now` (every tap reads it, under the lock): the
# member's answer and the offers whose claim window ended, each marked `ended`, and on every row
# the event's answers per status (`RsvpStatus` order): the answers are outer-joined to the counts,
# so there is one row even when the member has none and no offer ended. Plain columns, not `Rsvp`
# entities: the tap writes its answer with one statement (`rsvp.write_answer`).
_ENDED = and_(Rsvp.status == RsvpStatus.OFFERED, col(Rsvp.offered_until) <= bindparam("now"))
_COUNTED = (
    select(*(func.count(case((Rsvp.status == status, 1))).label(status.value) for status in RsvpStatus))
    .where(col(Rsvp.event_id) == bindparam("event_id"))
    .subquery("counted")
)
_ANSWER_COLUMNS = (
    col(Rsvp.id),
    col(Rsvp.member_id),
    col(Rsvp.status),
    col(Rsvp.seq),
    col(Rsvp.offered_until),
)
_ANSWER_AND_ENDED = (
    select(*_ANSWER_COLUMNS, _ENDED.label("ended"), *_COUNTED.c)
    .select_from(_COUNTED)
    .outerjoin(
        Rsvp,
        and_(
            col(Rsvp.event_id) == bindparam("event_id"),
            or_(col(Rsvp.member_id) == bindparam("member_id"), _ENDED),
        ),
    )
    .order_by(col(Rsvp.seq))
)
_ANSWER = select(*_ANSWER_COLUMNS).where(
    col(Rsvp.event_id) == bindparam("event_id"), col(Rsvp.member_id) == bindparam("member_id")
)


def _answer(row: Any) -> Answer:
    answer_id, member_id, status, seq, offered_until = row[:5]
    return Answer(answer_id, member_id, RsvpStatus(status), seq, offered_until)


async def expire_offers_and_answer(
    session: AsyncSession, event_id: int, member_id: int, locked: Locked, now: datetime
) -> tuple[Answer | None, dict[RsvpStatus, int] | None]:
    """`expire_locked_offers`, reading the member's own answer in the same statement (one less
    under the event's lock); the answer as it is afterwards, and the event's answers per status
    as they are afterwards (None when offers expired: the seats moved on). When an offer ended
    (seldom) the ended offers and then the member's answer are read again, as entities for
    `_expire`. Call with the event locked."""
    params = {"event_id": event_id, "member_id": member_id, "now": now}
    connection = await session.connection()
    rows = (await connection.execute(_ANSWER_AND_ENDED, params)).all()
    if any(row.ended for row in rows):  # seldom (the scheduler job expires them too): as the job
        await expire_locked_offers(session, event_id, locked, now)
        row = (await connection.execute(_ANSWER, params)).first()  # the seats moved, maybe to them
        return (_answer(row) if row is not None else None), None
    mine = next((_answer(row) for row in rows if row.member_id == member_id), None)
    return mine, dict(zip(RsvpStatus, map(int, rows[0][6:]), strict=True)) if rows else None


async def _expire(
    session: AsyncSession, event_id: int, locked: Locked, expired: list[Rsvp], now: datetime
) -> None:
    if not expired:
        return
    for answer in expired:
        answer.status, answer.offered_until, answer.updated_at = RsvpStatus.NOT_GOING, None, now
        session.add(answer)
    await session.flush()
    if locked.status == EventStatus.PUBLISHED and locked.starts_at > now:
        event, organization = await _context(session, event_id)
        for answer in expired:
            await notify_member(session, event, organization, answer.member_id, "offer_expired", {}, now)
        await fill_seats(session, event_id, locked, now)


async def expire_offers(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: offers whose claim window ended pass to the next in line. Returns how many
    expired. Events are locked one by one in id order; the caller commits."""
    event_ids = (
        await session.exec(
            select(Rsvp.event_id)
            .join(Event, col(Event.id) == col(Rsvp.event_id))
            .where(
                Rsvp.status == RsvpStatus.OFFERED,
                col(Rsvp.offered_until) <= now,
                Event.status == EventStatus.PUBLISHED,
            )
            .distinct()
        )
    ).all()
    expired = 0
    for event_id in sorted(event_ids):
        locked = await lock_event(session, event_id)
        if locked is not None:
            expired += await expire_locked_offers(session, event_id, locked, now)
    return expired

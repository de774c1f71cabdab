"""The event lock and seat counting, shared by RSVPs, seat offers, edits, cancellations and check-in.

Every transaction that can change who holds a seat (a tap, confirming or expiring an offer, a
capacity change, a check-in) starts with
`UPDATE events SET rsvp_seq = rsvp_seq + 1 WHERE id = :id ... RETURNING ...` (`row_locks.bump`:
the event's row lock on PostgreSQL, the write lock on SQLite), so counting seats after it is safe
and the returned number is the tap's place in tap order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, or_, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import seat_queries
from bot.services.events.rules import HOLDS_SEAT, EventError
from bot.services.origins import events_for
from bot.services.row_locks import bump_statement, bumped
from bot.services.rows import reloaded
from storage.models import Event, EventStatus, Rsvp, RsvpStatus


@dataclass(frozen=True)
class Answer:
    """A member's answer as a tap reads and writes it: plain values, not an ORM `Rsvp` (the tap
    writes it with one prebuilt statement, not the unit of work; see `rsvp.write_answer`)."""

    id: int
    member_id: int
    status: RsvpStatus
    seq: int
    offered_until: datetime | None


@dataclass(frozen=True)
class Locked:
    seq: int
    status: EventStatus
    starts_at: datetime
    capacity: int | None
    claim_window_hours: int | None


_RETURNING = (col(Event.status), col(Event.starts_at), col(Event.capacity), col(Event.claim_window_hours))


def _lock_statement(*conditions: Any) -> Any:
    """The lock of the event `:event_id` (and `conditions`) returning what `Locked` holds."""
    return bump_statement(
        col(Event.rsvp_seq), col(Event.id) == bindparam("event_id"), *conditions, returning=_RETURNING
    )


async def _locked(session: AsyncSession, statement: Any, params: dict[str, Any]) -> Locked | None:
    row = await bumped(session, statement, params)
    if row is None:
        return None
    seq, status, starts_at, capacity, window = row
    return Locked(int(seq), EventStatus(status), starts_at, capacity, window)


async def lock_event(session: AsyncSession, event_id: int, *conditions: Any) -> Locked | None:
    """The first statement of every seat-changing transaction (see the module docstring)."""
    return await _locked(session, _lock_statement(*conditions), {"event_id": event_id})


# Built once, with `:now` (every tap starts with one of them): the event takes answers, and
# (Going, Maybe) its RSVP deadline has not passed.
_TAKES_ANSWERS = (
    Event.status == EventStatus.PUBLISHED,
    col(Event.starts_at) > bindparam("now"),
    col(Event.training_id).is_(None),
)
_BEFORE_DEADLINE = or_(col(Event.rsvp_deadline).is_(None), col(Event.rsvp_deadline) > bindparam("now"))
_LOCK_OPEN = {
    False: _lock_statement(*_TAKES_ANSWERS),
    True: _lock_statement(*_TAKES_ANSWERS, _BEFORE_DEADLINE),
}


@dataclass(frozen=True, slots=True)
class ShownEvent:
    """An event as a member's tap locked it: what its card shows, as plain values (an ORM `Event`
    built from the lock's row cost as much again as the statement)."""

    id: int
    organization_id: int
    training_id: int | None
    status: EventStatus
    title: str
    description: str
    language: str
    translations: dict[str, dict[str, str]]
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    online_url: str | None
    capacity: int | None
    rsvp_deadline: datetime | None
    claim_window_hours: int | None
    open_to_all: bool


Read = tuple[Answer | None, dict[RsvpStatus, int] | None]  # the member's answer, the counts per status


@dataclass(frozen=True)
class Tapped:
    """What a member's tap locked: the event, the lock, and (on SQLite, when no offer ran out) the
    member's answer and the event's answers per status, read in the lock's own statement."""

    event: ShownEvent
    locked: Locked
    read: Read | None


_SHOWN = tuple(col(getattr(Event, name)) for name in ShownEvent.__slots__)
# On SQLite, the tap's read under the lock (`waitlist.expire_offers_and_answer`) in the lock's own
# RETURNING: one statement and one trip to the connection's thread less. SQLite has one writer
# at a time and its write transaction reads the newest data, so the subqueries see every answer
# committed before the lock. Not on PostgreSQL: an UPDATE that waited for the row lock evaluates
# its RETURNING's subqueries in the snapshot taken before it waited (answers then missed).
_ANSWER_KEY = (col(Rsvp.event_id) == bindparam("event_id"), col(Rsvp.member_id) == bindparam("member_id"))
_MY_ANSWER = tuple(
    select(column).where(*_ANSWER_KEY).scalar_subquery()
    for column in (col(Rsvp.id), col(Rsvp.status), col(Rsvp.seq), col(Rsvp.offered_until))
)
_COUNTS = tuple(
    select(func.count())
    .select_from(Rsvp)
    .where(col(Rsvp.event_id) == bindparam("event_id"), col(Rsvp.status) == status.value)
    .scalar_subquery()
    for status in RsvpStatus
)
_OFFER_ENDED = exists().where(
    col(Rsvp.event_id) == bindparam("event_id"),
    col(Rsvp.status) == RsvpStatus.OFFERED.value,
    col(Rsvp.offered_until) <= bindparam("now"),
)
# A member's tap (built once, with `:event_id`, `:member_id` and `:now`): `_LOCK_OPEN` on an event
# the member may also see (`events_for`, as `queries.shown_event`), returning what the card shows:
# the may-see check, the lock and the read of the event in one statement (on SQLite with the
# answers too). Core, not the ORM: no `Event` built.
_LOCK_SHOWN = {
    (deadline, reads): update(Event)
    .where(
        col(Event.id) == bindparam("event_id"),
        events_for(bindparam("member_id")),
        *_TAKES_ANSWERS,
        *((_BEFORE_DEADLINE,) if deadline else ()),
    )
    .values({col(Event.rsvp_seq): col(Event.rsvp_seq) + 1})
    .returning(col(Event.rsvp_seq), *_SHOWN, *((*_MY_ANSWER, *_COUNTS, _OFFER_ENDED) if reads else ()))
    for deadline in (False, True)
    for reads in (False, True)
}
_READS_AT = 1 + len(_SHOWN)  # where the answer's columns start in the lock's row
_STATUS_AT = ShownEvent.__slots__.index("status")


async def lock_open_event(session: AsyncSession, event_id: int, now: datetime, *, deadline: bool) -> Locked:
    """Lock an event that takes answers; nothing is written when it does not."""
    locked = await _locked(session, _LOCK_OPEN[deadline], {"event_id": event_id, "now": now})
    if locked is not None:
        return locked
    event = await reloaded(session, Event, event_id)
    if event is None or event.training_id is not None:  # a training session: seats are the training's
        raise EventError("not_found")
    if event.status == EventStatus.CANCELLED:
        raise EventError("cancelled")
    if event.status == EventStatus.DRAFT:
        raise EventError("closed")
    if event.starts_at <= now:
        raise EventError("event_past")
    raise EventError("deadline_passed")


async def lock_shown_event(
    session: AsyncSession, event_id: int, member_id: int, now: datetime, *, deadline: bool
) -> Tapped | None:
    """`lock_open_event` on an event the member may see, in one statement: the event (as it is
    once locked) and the lock, and on SQLite the answers read under it. None when nothing answers
    (a forged id, or one the member may not see, or that no longer takes answers: the caller
    tells which, nothing was written). An `Event` the session holds takes the values returned
    (its rsvp_seq is the tap's place in tap order)."""
    connection = await session.connection()
    reads = connection.dialect.name == "sqlite"
    params = {"event_id": event_id, "member_id": member_id, "now": now}
    row = (await connection.execute(_LOCK_SHOWN[deadline, reads], params)).first()
    if row is None:
        return None
    seq, shown = row[0], row[1:_READS_AT]
    event = ShownEvent(*shown[:_STATUS_AT], EventStatus(shown[_STATUS_AT]), *shown[_STATUS_AT + 1 :])
    held = session.identity_map.get(identity_key(Event, event_id))
    if held is not None:
        for name, value in zip(ShownEvent.__slots__, shown, strict=True):
            set_committed_value(held, name, value)
        set_committed_value(held, "rsvp_seq", seq)
    locked = Locked(int(seq), event.status, event.starts_at, event.capacity, event.claim_window_hours)
    return Tapped(event, locked, _read(row[_READS_AT:], member_id) if reads else None)


def _read(values: Sequence[Any], member_id: int) -> Read | None:
    """The member's answer and the counts from the lock's row (see `read_of`)."""
    answer_id, status, seq, offered_until, *counts, ended = values
    return read_of(member_id, answer_id, status, seq, offered_until, bool(ended), counts)


def read_of(
    member_id: int,
    answer_id: int | None,
    status: str | None,
    seq: int | None,
    offered_until: datetime | None,
    ended: bool,
    counts: Sequence[Any],
) -> Read | None:
    """The member's answer (none: `answer_id` None) and the counts per status, as a statement
    read them; None when an offer ran out (seldom: the caller expires it, then reads again)."""
    if ended:
        return None
    answer = (
        Answer(answer_id, member_id, RsvpStatus(status), seq, offered_until)
        if answer_id is not None
        else None
    )
    return answer, dict(zip(RsvpStatus, map(int, counts), strict=True))


async def answer_of(session: AsyncSession, event_id: int, member_id: int) -> Rsvp | None:
    return await seat_queries.answer_of(session, col(Rsvp.event_id), event_id, member_id)


async def count_answers(
    session: AsyncSession,
    event_id: int,
    statuses: Sequence[RsvpStatus],
    counts: dict[RsvpStatus, int] | None = None,
) -> int:
    """How many answers of the event have one of `statuses`: summed from `counts` (the event's
    answers per status as read under this lock) when given, else counted."""
    if counts is not None:
        return sum(counts[status] for status in statuses)
    return await seat_queries.count_answers(
        session, col(Rsvp.event_id), event_id, col(Rsvp.status).in_(statuses)
    )


async def waitlist_place(session: AsyncSession, event_id: int, seq: int) -> int:
    return await seat_queries.place_in_line(session, col(Rsvp.event_id), event_id, RsvpStatus.WAITLISTED, seq)


async def has_free_seat(
    session: AsyncSession, event_id: int, locked: Locked, counts: dict[RsvpStatus, int] | None = None
) -> bool:
    """Whether a newcomer gets a seat now; `counts`: the event's answers per status as read under
    this lock (none read again), or None to count them."""
    if locked.capacity is None:
        return True
    if await count_answers(session, event_id, (RsvpStatus.WAITLISTED,), counts):
        return False  # those waiting come first
    return await count_answers(session, event_id, HOLDS_SEAT, counts) < locked.capacity

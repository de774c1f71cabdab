"""One-tap answers: going, maybe or can't go, with capacity and a waitlist in tap order; taking an
offered seat; a member's own answer and place in line; withdrawing everywhere for `/forget`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.events.queries import shown_event
from bot.services.events.reminders import forget_reminders_for
from bot.services.events.rules import AFFECTED, CHOICES, HOLDS_SEAT, EventError
from bot.services.events.seats import (
    Answer,
    Locked,
    Read,
    ShownEvent,
    answer_of,
    has_free_seat,
    lock_open_event,
    lock_shown_event,
    waitlist_place,
)
from bot.services.events.unlimited import read_and_write
from bot.services.events.waitlist import expire_offers_and_answer, fill_seats
from bot.services.seat_queries import held_parent_ids
from storage.models import Event, EventStatus, Rsvp, RsvpStatus
from storage.sqlite_driver import defer_statement
from storage.types import ROW_ID_MAX


@dataclass(frozen=True)
class RsvpResult:
    status: RsvpStatus
    previous: RsvpStatus | None
    changed: bool
    position: int | None = None  # place on the waitlist, 1 = next in line
    offered_until: datetime | None = None
    promoted: tuple[int, ...] = ()  # members promoted or offered a seat because of this change
    # The event's answers per status once this one is in (for the card, read in the same statement
    # as the member's answer); None when other answers moved too (offers expired, seats filled).
    counts: dict[RsvpStatus, int] | None = None


def _moved(
    counts: dict[RsvpStatus, int] | None, before: RsvpStatus | None, after: RsvpStatus
) -> dict[RsvpStatus, int] | None:
    """`counts` once one answer went from `before` (None: a new answer) to `after`."""
    if counts is None:
        return None
    moved = dict(counts)
    if before is not None:
        moved[before] -= 1
    moved[after] += 1
    return moved


async def rsvp(
    session: AsyncSession, event_id: int, member_id: int, choice: RsvpStatus | str, now: datetime
) -> RsvpResult:
    """One tap: going, maybe or not_going; tapping again changes the answer.

    Going on a full event (or while others wait) is waitlisted in tap order; a waitlisted member
    tapping Going again keeps their place; an offered member tapping Going takes the seat. When a
    seat is freed the waitlist moves up (see `fill_seats`). After the RSVP deadline only
    "not_going" is accepted (so seats can still be freed). Runs in the caller's transaction.
    """
    choice = _choice(choice)
    locked = await lock_open_event(session, event_id, now, deadline=choice != RsvpStatus.NOT_GOING)
    return await _answer(session, event_id, member_id, choice, locked, now)


async def confirm_offer(session: AsyncSession, event_id: int, member_id: int, now: datetime) -> RsvpResult:
    """The offered member takes the seat (allowed after the RSVP deadline, until `offered_until`)."""
    locked = await lock_open_event(session, event_id, now, deadline=False)
    return await _take(session, event_id, member_id, locked, now)


async def tap(
    session: AsyncSession, event_id: int, member_id: int, choice: RsvpStatus | str | None, now: datetime
) -> tuple[ShownEvent | Event, RsvpResult] | None:
    """A member's button on an event card: `rsvp`, or `confirm_offer` when `choice` is None, on an
    event the member may see (`shown_event`), checked in the lock's own statement. The event (for
    the card) and the result; None, with nothing written, when the member may not see the event
    (a forged or stale button: it no longer exists for them); `EventError` as `rsvp`."""
    choice = _choice(choice) if choice is not None else None
    deadline = choice is not None and choice != RsvpStatus.NOT_GOING
    if not 0 < event_id <= ROW_ID_MAX:
        return None
    tapped = await lock_shown_event(session, event_id, member_id, now, deadline=deadline)
    shown: ShownEvent | Event
    read: Read | None = None
    if tapped is None:  # why not (seldom): not shown, or why the event takes no answers
        event = await shown_event(session, member_id, event_id)
        if event is None or event.training_id is not None:  # a session: seats are the training's
            return None
        shown, locked = event, await lock_open_event(session, event_id, now, deadline=deadline)
    else:
        shown, locked, read = tapped.event, tapped.locked, tapped.read
    if choice is None:
        return shown, await _take(session, event_id, member_id, locked, now, read)
    written = False
    if (
        read is None  # (on SQLite the lock read the answers, or an offer ran out)
        and locked.capacity is None
        and choice in (RsvpStatus.GOING, RsvpStatus.MAYBE)
        and (await session.connection()).dialect.name == "postgresql"
    ):
        read = await read_and_write(session, event_id, member_id, choice, locked.seq, now)
        written = read is not None  # (None: an offer ran out, nothing written: the careful way)
    return shown, await _answer(session, event_id, member_id, choice, locked, now, read, written=written)


def _choice(choice: RsvpStatus | str) -> RsvpStatus:
    choice = RsvpStatus(choice)
    if choice not in CHOICES:
        raise ValueError(f"not a choice: {choice}")
    return choice


async def _answer(
    session: AsyncSession,
    event_id: int,
    member_id: int,
    choice: RsvpStatus,
    locked: Locked,
    now: datetime,
    read: Read | None = None,
    *,
    written: bool = False,
) -> RsvpResult:
    """`rsvp` with the event locked; `read`: the member's answer and the counts if the lock read
    them (else read here, offers run out expired first); `written`: the answer this decides was
    written in the statement that read them (`unlimited.read_and_write`, no capacity)."""
    answer, counts = (
        read
        if read is not None
        else await expire_offers_and_answer(session, event_id, member_id, locked, now)
    )
    previous = answer.status if answer is not None else None
    if answer is not None and (
        previous == choice or (previous == RsvpStatus.WAITLISTED and choice == RsvpStatus.GOING)
    ):
        position = (
            await waitlist_place(session, event_id, answer.seq) if previous == RsvpStatus.WAITLISTED else None
        )
        return RsvpResult(answer.status, previous, False, position, answer.offered_until, counts=counts)
    if answer is not None and previous == RsvpStatus.OFFERED and choice == RsvpStatus.GOING:
        await write_answer(
            session, event_id, member_id, answer, RsvpStatus.GOING, answer.seq, now, written=written
        )
        return RsvpResult(RsvpStatus.GOING, previous, True, counts=_moved(counts, previous, RsvpStatus.GOING))
    status = choice
    if choice == RsvpStatus.GOING and not await has_free_seat(session, event_id, locked, counts):
        status = RsvpStatus.WAITLISTED
    await write_answer(session, event_id, member_id, answer, status, locked.seq, now, written=written)
    promoted: list[int] = []
    # Without a capacity nobody waits (removing one promotes them all: `update_event`).
    if previous in HOLDS_SEAT and locked.capacity is not None:
        promoted = await fill_seats(session, event_id, locked, now, _moved(counts, previous, status))
    if status not in (RsvpStatus.GOING, RsvpStatus.MAYBE):
        await forget_reminders_for(session, event_id, member_id)
    position = None
    if status == RsvpStatus.WAITLISTED:  # last in line (its seq is the newest): after those waiting
        position = (
            counts[status] + 1 if counts is not None else await waitlist_place(session, event_id, locked.seq)
        )
    counts = None if promoted else _moved(counts, previous, status)
    return RsvpResult(status, previous, True, position, None, tuple(promoted), counts)


async def _take(
    session: AsyncSession,
    event_id: int,
    member_id: int,
    locked: Locked,
    now: datetime,
    read: Read | None = None,
) -> RsvpResult:
    """`confirm_offer` with the event locked (`read` as in `_answer`)."""
    answer, counts = (
        read
        if read is not None
        else await expire_offers_and_answer(session, event_id, member_id, locked, now)
    )
    if answer is not None and answer.status == RsvpStatus.GOING:
        return RsvpResult(RsvpStatus.GOING, RsvpStatus.GOING, False, counts=counts)
    if answer is None or answer.status != RsvpStatus.OFFERED:
        raise EventError("offer_expired")
    await write_answer(session, event_id, member_id, answer, RsvpStatus.GOING, answer.seq, now)
    return RsvpResult(
        RsvpStatus.GOING,
        RsvpStatus.OFFERED,
        True,
        counts=_moved(counts, RsvpStatus.OFFERED, RsvpStatus.GOING),
    )


# Built once (every tap that changes an answer runs one): the answer's new status and tap order,
# no offer pending (see `write_answer`).
_UPDATE_ANSWER = (
    update(Rsvp)
    .where(col(Rsvp.id) == bindparam("id_"))
    .values(
        status=bindparam("status_"),
        seq=bindparam("seq_"),
        offered_until=None,
        updated_at=bindparam("now_"),
    )
)
_INSERT_ANSWER = insert(Rsvp).values(
    event_id=bindparam("event_id_"),
    member_id=bindparam("member_id_"),
    status=bindparam("status_"),
    seq=bindparam("seq_"),
    offered_until=None,
    attended=False,
    checked_in_at=None,
    created_at=bindparam("now_"),
    updated_at=bindparam("now_"),
)


async def write_answer(
    session: AsyncSession,
    event_id: int,
    member_id: int,
    answer: Answer | None,
    status: RsvpStatus,
    seq: int,
    now: datetime,
    *,
    written: bool = False,
) -> None:
    """Store the member's answer (`answer`: as read under the lock; None: a first one) as `status`
    at `seq`, no offer pending: one statement, not the unit of work's flush (its bookkeeping cost
    as much as the rest of the tap's own work), and on SQLite no trip of its own to the
    connection's thread: nothing reads its result, so it runs with the next statement or the
    commit (`defer_statement`). An `Rsvp` the session holds for it takes the values too, so what
    the session reads next (`attendees`) is not stale (only that when `written`: a statement
    stored it already)."""
    if not written:
        params = {"status_": status.value, "seq_": seq, "now_": now}
        connection = await session.connection()
        statement, keys = (
            (_INSERT_ANSWER, {"event_id_": event_id, "member_id_": member_id})
            if answer is None
            else (_UPDATE_ANSWER, {"id_": answer.id})
        )
        with defer_statement(connection.sync_connection):
            await connection.execute(statement, {**params, **keys})
    if answer is None:
        return
    held = session.identity_map.get(identity_key(Rsvp, answer.id))
    if held is not None:
        values = {"status": status, "seq": seq, "offered_until": None, "updated_at": now}
        for name, value in values.items():
            set_committed_value(held, name, value)


async def my_answer(session: AsyncSession, event_id: int, member_id: int) -> Rsvp | None:
    return await answer_of(session, event_id, member_id)


async def waitlist_position(session: AsyncSession, event_id: int, member_id: int) -> int | None:
    answer = await answer_of(session, event_id, member_id)
    return await place_in_line(session, answer) if answer is not None else None


async def place_in_line(session: AsyncSession, answer: Rsvp) -> int | None:
    """The answer's place on its event's waitlist (None unless it waits)."""
    if answer.status != RsvpStatus.WAITLISTED:
        return None
    return await waitlist_place(session, answer.event_id, answer.seq)


async def withdraw_member(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Answer "not going" to every upcoming event the member holds or waits for a seat at (for
    `/forget`): their seats go to the waitlist. Returns how many answers changed."""
    upcoming = (
        Event.status == EventStatus.PUBLISHED,
        col(Event.starts_at) > now,
        col(Event.training_id).is_(None),  # seats at trainings: trainings.withdraw_member
    )
    event_ids = await held_parent_ids(session, col(Rsvp.event_id), Event, member_id, AFFECTED, *upcoming)
    for event_id in event_ids:
        await rsvp(session, event_id, member_id, RsvpStatus.NOT_GOING, now)
    return len(event_ids)

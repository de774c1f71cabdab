"""A member's tap on an event card (`service.tap`), on SQLite and PostgreSQL: the check that the
member may see the event is the lock's own statement, so a tap that may not lock must still be
told apart (not shown: "no longer exists", with nothing written; else why it takes no answers),
and the counts the card shows, derived from the answers read under the lock, must be the counts
in the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as service
from bot.services import trainings
from bot.services.events import EventError
from storage.models import Event, EventStatus, Organization, Rsvp, RsvpStatus
from storage.types import ROW_ID_MAX
from tests.helpers import concurrently, grant_writing, organization
from tests.test_events import NOW, add_members, new_event, published

GOING, MAYBE, NOT_GOING = RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.NOT_GOING
WAITLISTED, OFFERED = RsvpStatus.WAITLISTED, RsvpStatus.OFFERED


async def seq_and_answers(session: AsyncSession, event_id: int) -> tuple[int, int]:
    """(the event's tap counter, how many answers it has), read afresh."""
    event = await session.get(Event, event_id, populate_existing=True)
    assert event is not None
    answers = (await session.exec(select(Rsvp).where(Rsvp.event_id == event_id))).all()
    return event.rsvp_seq, len(answers)


async def tapped(session: AsyncSession, event_id: int, member_id: int, choice: Any, now: Any = NOW) -> Any:
    """A tap, committed; its counts (when it has them) must be the database's."""
    outcome = await service.tap(session, event_id, member_id, choice, now)
    assert outcome is not None
    event, result = outcome
    assert event.id == event_id
    await session.commit()
    if result.counts is not None:
        assert result.counts == await service.counts(session, event_id)
    return result


async def test_taps_return_the_event_and_the_counts_of_the_database(session: AsyncSession) -> None:
    org = await organization(session)
    people = await add_members(session, org, 5)
    event = await published(session, org, capacity=2, claim_window_hours=24)
    eid = event.id or 0
    first = await tapped(session, eid, people[0], GOING)
    assert (first.status, first.counts) == (
        GOING,
        {GOING: 1, MAYBE: 0, NOT_GOING: 0, WAITLISTED: 0, OFFERED: 0},
    )
    assert (await tapped(session, eid, people[1], "going")).status == GOING
    waiting = await tapped(session, eid, people[2], GOING)
    assert (waiting.status, waiting.position) == (WAITLISTED, 1)
    again = await tapped(session, eid, people[2], GOING)  # keeps the place, nothing changed
    assert (again.changed, again.counts) == (False, waiting.counts)
    assert (await tapped(session, eid, people[3], MAYBE)).status == MAYBE
    freed = await tapped(session, eid, people[0], NOT_GOING)  # the seat is offered to the first waiting
    assert freed.promoted == (people[2],) and freed.counts is None  # others moved: read again
    assert await service.counts(session, eid) == {GOING: 1, MAYBE: 1, NOT_GOING: 1, WAITLISTED: 0, OFFERED: 1}
    taken = await tapped(session, eid, people[2], None)  # "take": the offered seat
    assert (taken.status, taken.previous, taken.counts) == (
        GOING,
        OFFERED,
        {GOING: 2, MAYBE: 1, NOT_GOING: 1, WAITLISTED: 0, OFFERED: 0},
    )
    assert (await tapped(session, eid, people[2], None)).changed is False
    assert (await tapped(session, eid, people[4], GOING)).status == WAITLISTED
    assert (await tapped(session, eid, people[1], MAYBE)).promoted == (people[4],)
    later = NOW + timedelta(hours=25)  # the offer ran out: it passes on, and the counts are read again
    expired = await tapped(session, eid, people[0], MAYBE, later)
    assert expired.counts is None
    assert (await service.my_answer(session, eid, people[4])).status == NOT_GOING  # type: ignore[union-attr]


async def answers_by_member(session: AsyncSession, event_id: int) -> dict[int, tuple[RsvpStatus, int]]:
    rows = (await session.exec(select(Rsvp).where(Rsvp.event_id == event_id))).all()
    return {row.member_id: (RsvpStatus(row.status), row.seq) for row in rows}


async def test_taps_on_an_event_without_a_capacity(session: AsyncSession) -> None:
    """Without a capacity the answer is the choice (on PostgreSQL read and written in one
    statement): a first answer, a change, the same again, an offered seat taken (left from a
    capacity removed) keeping its place in tap order, and an offer run out passing on first."""
    org = await organization(session)
    people = await add_members(session, org, 5)
    event = await published(session, org, capacity=1, claim_window_hours=24)
    eid = event.id or 0
    for member in people[:3]:
        await tapped(session, eid, member, GOING)  # one going, two waiting
    await service.update_event(session, event, org, NOW, capacity=None)  # the two waiting: offered
    await session.commit()
    offered = await answers_by_member(session, eid)
    assert [offered[member][0] for member in people[:3]] == [GOING, OFFERED, OFFERED]
    taken = await tapped(session, eid, people[1], GOING)
    assert (taken.status, taken.previous, taken.changed) == (GOING, OFFERED, True)
    assert (await answers_by_member(session, eid))[people[1]] == (GOING, offered[people[1]][1])
    first = await tapped(session, eid, people[3], MAYBE)
    assert (first.status, first.previous, first.changed) == (MAYBE, None, True)
    again = await tapped(session, eid, people[3], MAYBE)
    assert (again.changed, again.counts) == (False, first.counts)
    going = await tapped(session, eid, people[3], GOING)
    assert (going.status, going.previous, going.changed) == (GOING, MAYBE, True)
    assert going.counts == {GOING: 3, MAYBE: 0, NOT_GOING: 0, WAITLISTED: 0, OFFERED: 1}
    seq, _ = await seq_and_answers(session, eid)
    assert (await answers_by_member(session, eid))[people[3]] == (GOING, seq)
    later = NOW + timedelta(hours=25)  # people[2]'s offer ran out: it expires, then the tap counts
    late = await tapped(session, eid, people[4], GOING, later)
    assert (late.status, late.counts) == (GOING, None)
    answers = await answers_by_member(session, eid)
    assert (answers[people[2]][0], answers[people[4]][0]) == (NOT_GOING, GOING)


async def test_simultaneous_taps_without_a_capacity_each_see_the_ones_before(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    """30 members tap Going at once on an event without a capacity: each tap's counts (read under
    the lock, on PostgreSQL in the statement that writes the answer) hold every tap before it, so
    the cards show 1 to 30 going, each once."""
    org = await organization(session)
    people = await add_members(session, org, 30)
    event = await published(session, org)
    eid = event.id or 0

    def tap(member: int) -> Any:
        return lambda s: service.tap(s, eid, member, GOING, NOW)

    outcomes = await concurrently(engine, [tap(member) for member in people], EventError)
    assert sorted(result.counts[GOING] for _, result in outcomes) == list(range(1, 31))
    assert await service.counts(session, eid) == {
        GOING: 30,
        MAYBE: 0,
        NOT_GOING: 0,
        WAITLISTED: 0,
        OFFERED: 0,
    }


async def test_a_tap_on_an_event_the_member_may_not_see_writes_nothing(session: AsyncSession) -> None:
    org = await organization(session)
    [amina] = await add_members(session, org, 1)
    other = Organization(slug="other", name="Other")
    session.add(other)
    await session.commit()
    closed = await published(session, other)
    draft = await new_event(session, org)
    await session.commit()
    course = await trainings.create_training(
        session, org, None, capacity=5, now=NOW, **grant_writing(NOW + timedelta(days=10))
    )
    await trainings.publish_training(session, course, org, NOW)
    await session.commit()
    lesson = (await session.exec(select(Event).where(Event.training_id == course.id))).first()
    assert lesson is not None and lesson.status == EventStatus.PUBLISHED
    for event_id in (0, -1, ROW_ID_MAX + 1, 999_999):  # forged
        for choice in (GOING, NOT_GOING, None):
            assert await service.tap(session, event_id, amina, choice, NOW) is None
    for event in (closed, draft, lesson):  # another organization's, not published, a training's
        before = await seq_and_answers(session, event.id or 0)
        for choice in (GOING, MAYBE, NOT_GOING, None):
            assert await service.tap(session, event.id or 0, amina, choice, NOW) is None
        await session.commit()
        assert await seq_and_answers(session, event.id or 0) == before
    closed.open_to_all = True  # open to every organization: its members may answer
    session.add(closed)
    await session.commit()
    assert (await tapped(session, closed.id or 0, amina, GOING)).status == GOING


@pytest.mark.parametrize(
    ("fields", "choice", "reason"),
    [
        ({"rsvp_deadline": NOW - timedelta(hours=1)}, GOING, "deadline_passed"),
        ({"rsvp_deadline": NOW - timedelta(hours=1)}, MAYBE, "deadline_passed"),
        ({"starts_at": NOW - timedelta(hours=1)}, GOING, "event_past"),
        ({"starts_at": NOW - timedelta(hours=1)}, NOT_GOING, "event_past"),
        ({}, None, "offer_expired"),  # "take" with no seat offered
    ],
)
async def test_why_a_shown_event_takes_no_answer(
    session: AsyncSession, fields: dict[str, Any], choice: Any, reason: str
) -> None:
    org = await organization(session)
    [amina] = await add_members(session, org, 1)
    event = await published(session, org, rsvp_deadline=NOW + timedelta(days=1))
    event.rsvp_deadline, event.starts_at = (
        fields.get("rsvp_deadline"),
        fields.get("starts_at", event.starts_at),
    )
    session.add(event)
    await session.commit()
    eid = event.id or 0
    with pytest.raises(EventError) as raised:
        await service.tap(session, eid, amina, choice, NOW)
    assert raised.value.reason == reason
    await session.rollback()
    if fields.get("rsvp_deadline"):  # after the deadline one may still free a seat
        assert (await tapped(session, eid, amina, NOT_GOING)).status == NOT_GOING


async def test_a_cancelled_event_says_so(session: AsyncSession) -> None:
    org = await organization(session)
    [amina] = await add_members(session, org, 1)
    event = await published(session, org)
    await service.cancel_event(session, event, org, NOW)
    await session.commit()
    with pytest.raises(EventError) as raised:
        await service.tap(session, event.id or 0, amina, GOING, NOW)
    assert raised.value.reason == "cancelled"


async def test_taps_in_one_session_take_their_places_in_tap_order(session: AsyncSession) -> None:
    """The event held by the session (as a caller may hold it) takes each lock's counter."""
    org = await organization(session)
    people = await add_members(session, org, 3)
    event = await published(session, org, capacity=1)
    eid = event.id or 0
    held = await session.get(Event, eid, populate_existing=True)
    assert held is not None and held.rsvp_seq == 0
    for member in people:
        outcome = await service.tap(session, eid, member, GOING, NOW)
        assert outcome is not None and outcome[0].id == eid
    assert held.rsvp_seq == 3
    rows = (await session.exec(select(Rsvp).where(Rsvp.event_id == eid))).all()
    assert sorted((row.seq, row.member_id, row.status) for row in rows) == [
        (1, people[0], GOING),
        (2, people[1], WAITLISTED),
        (3, people[2], WAITLISTED),
    ]
    await session.commit()

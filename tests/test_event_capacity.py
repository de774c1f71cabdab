"""Seats, the waitlist and offers, on SQLite and PostgreSQL: concurrent taps, tap order,
promotion, the claim window, and a property test of the rules over random sequences of taps."""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as service
from bot.services.events import EventError
from bot.services.events.series import create_series, publish_draft
from storage.models import Event, EventNotice, EventStatus, Organization, Rsvp, RsvpStatus
from tests.helpers import concurrently, notice_recipients, organization
from tests.test_events import NOW, START, add_members, new_event, published

GOING, MAYBE, NOT_GOING = RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.NOT_GOING
WAITLISTED, OFFERED = RsvpStatus.WAITLISTED, RsvpStatus.OFFERED


async def answers(session: AsyncSession, event_id: int) -> dict[int, Rsvp]:
    rows = await session.exec(
        select(Rsvp).where(Rsvp.event_id == event_id).execution_options(populate_existing=True)
    )
    return {row.member_id: row for row in rows.all()}


async def notices(session: AsyncSession, event_id: int, kind: str) -> list[int]:
    """Member ids told by the event's notices of `kind`, in notice order."""
    return await notice_recipients(
        session, EventNotice, service.NOTICE_KIND, EventNotice.event_id == event_id, EventNotice.kind == kind
    )


def tap(
    event_id: int, member_id: int, choice: RsvpStatus, now: Any = NOW
) -> Callable[[AsyncSession], Awaitable[Any]]:
    return lambda session: service.rsvp(session, event_id, member_id, choice, now)


async def test_200_simultaneous_taps_for_20_seats(engine: AsyncEngine, session: AsyncSession) -> None:
    org = await organization(session)
    people = await add_members(session, org, 200)
    event = await published(session, org, capacity=20)
    results = await concurrently(engine, [tap(event.id or 0, member, GOING) for member in people], EventError)
    assert not [r for r in results if isinstance(r, Exception)]

    rows = sorted((await answers(session, event.id or 0)).values(), key=lambda row: row.seq)
    assert [row.seq for row in rows] == list(range(1, 201))  # every tap got its own place
    assert [row.status for row in rows] == [GOING] * 20 + [WAITLISTED] * 180  # in tap order
    positions = {r.status: r for r in results}
    assert positions[GOING].position is None
    assert sorted(r.position for r in results if r.status == WAITLISTED) == list(range(1, 181))
    assert await service.counts(session, event.id or 0) == {
        GOING: 20,
        MAYBE: 0,
        NOT_GOING: 0,
        WAITLISTED: 180,
        OFFERED: 0,
    }


def publish_tap(event_id: int, organization_id: int) -> Callable[[AsyncSession], Awaitable[Any]]:
    """An organizer's tap on Publish: the draft as that tap loaded it, then published."""

    async def job(session: AsyncSession) -> int:
        event = await session.get(Event, event_id)
        organization = await session.get(Organization, organization_id)
        assert event is not None and organization is not None
        return await publish_draft(session, event, organization, NOW)

    return job


async def test_two_taps_on_publish_announce_a_draft_or_a_series_once(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    """Two taps at once: the conditional update lets one publish, the other finds it claimed
    ("not_editable": the button is no longer active), whether it loaded the draft before the
    first committed or after (asyncio.gather orders neither). A later tap is told the same."""
    org = await organization(session)
    people = await add_members(session, org, 5)
    single = await new_event(session, org)
    _series, dates = await create_series(
        session,
        organization_id=org.id or 0,
        rule="weekly",
        timezone="Europe/Paris",
        starts_on=START.date(),
        local_start=18 * 60 + 30,
        now=NOW,
        count=3,
        title="Chorale",
        language="fr",
    )
    await session.commit()
    for event_id in (single.id or 0, dates[0].id or 0):
        results = await concurrently(engine, [publish_tap(event_id, org.id or 0)] * 2, EventError)
        assert sorted(map(repr, results)) == sorted([repr(5), repr(EventError("not_editable"))])
        late = await concurrently(engine, [publish_tap(event_id, org.id or 0)], EventError)
        assert list(map(repr, late)) == [repr(EventError("not_editable"))]
        assert sorted(await notices(session, event_id, "published")) == sorted(people)
    statuses = (await session.exec(select(Event.status).execution_options(populate_existing=True))).all()
    assert set(statuses) == {EventStatus.PUBLISHED}
    assert len(await notices(session, dates[1].id or 0, "published")) == 0  # a series is told once


async def test_tapping_again_changes_the_answer_and_a_freed_seat_goes_to_the_first_waiting(
    session: AsyncSession,
) -> None:
    org = await organization(session)
    a, b, c, d, e = await add_members(session, org, 5)
    event = await published(session, org, capacity=2)
    eid = event.id or 0
    assert (await service.rsvp(session, eid, a, GOING, NOW)).status == GOING
    assert (await service.rsvp(session, eid, b, MAYBE, NOW)).status == MAYBE
    assert (await service.rsvp(session, eid, b, GOING, NOW)).status == GOING
    third = await service.rsvp(session, eid, c, GOING, NOW)
    assert (third.status, third.position) == (WAITLISTED, 1)
    fourth = await service.rsvp(session, eid, d, GOING, NOW)
    assert (fourth.status, fourth.position) == (WAITLISTED, 2)
    # Tapping Going again while waiting keeps the place in line; so does tapping the same answer.
    again = await service.rsvp(session, eid, c, GOING, NOW)
    assert (again.status, again.changed, again.position) == (WAITLISTED, False, 1)
    # Maybe, while waiting, leaves the line without freeing any seat.
    await service.rsvp(session, eid, e, GOING, NOW)
    left = await service.rsvp(session, eid, e, MAYBE, NOW)
    assert (left.previous, left.status, left.promoted) == (WAITLISTED, MAYBE, ())
    await session.commit()

    # A going member cancels: the first in line (c) is promoted and told.
    freed = await service.rsvp(session, eid, a, NOT_GOING, NOW)
    await session.commit()
    assert (freed.status, freed.previous, freed.promoted) == (NOT_GOING, GOING, (c,))
    state = await answers(session, eid)
    assert {m: state[m].status for m in (a, b, c, d, e)} == {
        a: NOT_GOING,
        b: GOING,
        c: GOING,
        d: WAITLISTED,
        e: MAYBE,
    }
    assert await notices(session, eid, "promoted") == [c]
    assert await service.waitlist_position(session, eid, d) == 1
    # The one who cancelled comes back: behind those already waiting.
    back = await service.rsvp(session, eid, a, GOING, NOW)
    assert (back.status, back.position) == (WAITLISTED, 2)
    # Going → Maybe also frees the seat.
    await service.rsvp(session, eid, b, MAYBE, NOW)
    await session.commit()
    assert (await answers(session, eid))[d].status == GOING
    assert await notices(session, eid, "promoted") == [c, d]


async def test_claim_window_offers_the_seat_then_passes_it_on(session: AsyncSession) -> None:
    org = await organization(session)
    a, b, c, d = await add_members(session, org, 4)
    event = await published(session, org, capacity=1, claim_window_hours=12)
    eid = event.id or 0
    for member in (a, b, c, d):
        await service.rsvp(session, eid, member, GOING, NOW)
    await session.commit()

    await service.rsvp(session, eid, a, NOT_GOING, NOW)
    await session.commit()
    state = await answers(session, eid)
    assert state[b].status == OFFERED and state[b].offered_until == NOW + timedelta(hours=12)
    assert await notices(session, eid, "offered") == [b]
    # The offered seat is held: a newcomer waits, and c stays first in line.
    assert (await service.rsvp(session, eid, a, GOING, NOW)).position == 3
    # b lets the window pass: at expiry c gets the offer, b is told and marked not going.
    later = NOW + timedelta(hours=12, minutes=1)
    with pytest.raises(EventError, match="offer_expired"):
        await service.confirm_offer(session, eid, b, later)
    await session.commit()  # the expiry found on the way is kept
    state = await answers(session, eid)
    assert (state[b].status, state[c].status) == (NOT_GOING, OFFERED)
    assert await notices(session, eid, "offer_expired") == [b]
    # c confirms in time (tapping Going does the same).
    confirmed = await service.confirm_offer(session, eid, c, later + timedelta(hours=1))
    assert (confirmed.status, confirmed.previous) == (GOING, OFFERED)
    await session.commit()
    # c cancels; d is offered; d declines, so a (next) is offered; a is never offered twice.
    await service.rsvp(session, eid, c, MAYBE, later + timedelta(hours=2))
    await service.rsvp(session, eid, d, NOT_GOING, later + timedelta(hours=3))
    await session.commit()
    assert await notices(session, eid, "offered") == [b, c, d, a]
    assert (await service.rsvp(session, eid, a, GOING, later + timedelta(hours=4))).status == GOING
    # An offer never runs past the start.
    await service.rsvp(session, eid, a, NOT_GOING, START - timedelta(hours=1))
    await session.commit()
    assert all(row.status != OFFERED for row in (await answers(session, eid)).values())  # nobody left waiting


async def test_expire_offers_job_and_an_offer_ends_at_the_start(session: AsyncSession) -> None:
    org = await organization(session)
    a, b, c = await add_members(session, org, 3)
    event = await published(session, org, capacity=1, claim_window_hours=48)
    eid = event.id or 0
    for member in (a, b, c):
        await service.rsvp(session, eid, member, GOING, NOW)
    late = START - timedelta(hours=10)
    await service.rsvp(session, eid, a, NOT_GOING, late)
    await session.commit()
    assert (await answers(session, eid))[b].offered_until == START  # not 48 hours later
    assert await service.expire_offers(session, START - timedelta(hours=1)) == 0
    await service.rsvp(session, eid, b, MAYBE, late)  # b declines: c gets it
    await session.commit()
    assert await service.expire_offers(session, late + timedelta(hours=1)) == 0
    assert await service.expire_offers(session, START) == 1  # at the start: c's offer ends, no one next
    await session.commit()
    state = await answers(session, eid)
    assert state[c].status == NOT_GOING
    assert await notices(session, eid, "offer_expired") == []  # the event has begun: no message


async def test_no_seat_is_given_twice_under_concurrent_cancellations_and_taps(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    org = await organization(session)
    people = await add_members(session, org, 45)
    event = await published(session, org, capacity=5)
    eid = event.id or 0
    for member in people[:35]:  # 5 going, 30 waiting, in this order
        await service.rsvp(session, eid, member, GOING, NOW)
    await session.commit()
    going, waiting, newcomers = people[:5], people[5:35], people[35:]
    jobs = (
        [tap(eid, member, NOT_GOING) for member in going]
        + [tap(eid, member, GOING) for member in waiting[:10]]  # impatient re-taps
        + [tap(eid, member, GOING) for member in newcomers]
        + [lambda s: service.expire_offers(s, NOW) for _ in range(3)]
    )
    random.Random(7).shuffle(jobs)
    results = await concurrently(engine, jobs, EventError)
    assert not [r for r in results if isinstance(r, Exception)]
    state = await answers(session, eid)
    holders = sorted(m for m, row in state.items() if row.status in (GOING, OFFERED))
    assert holders == sorted(waiting[:5])  # exactly the first five in line, exactly five seats
    promoted = await notices(session, eid, "promoted")
    assert sorted(promoted) == sorted(waiting[:5])  # each told once
    line = sorted((row.seq, m) for m, row in state.items() if row.status == WAITLISTED)
    assert [m for _, m in line][:25] == waiting[5:]  # the rest keep their order; newcomers behind


async def test_concurrent_expiry_and_late_confirmations_give_each_seat_once(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    org = await organization(session)
    people = await add_members(session, org, 20)
    event = await published(session, org, capacity=3, claim_window_hours=1)
    eid = event.id or 0
    for member in people:
        await service.rsvp(session, eid, member, GOING, NOW)
    for member in people[:3]:
        await service.rsvp(session, eid, member, NOT_GOING, NOW)
    await session.commit()
    first_offers = people[3:6]
    assert await notices(session, eid, "offered") == first_offers
    later = NOW + timedelta(hours=2)
    jobs = [lambda s, m=m: service.confirm_offer(s, eid, m, later) for m in first_offers] + [
        lambda s: service.expire_offers(s, later) for _ in range(4)
    ]
    results = await concurrently(engine, jobs, EventError)
    assert sum(isinstance(r, EventError) and r.reason == "offer_expired" for r in results) == 3
    assert sum(r for r in results if isinstance(r, int)) == 3  # each offer expired once
    state = await answers(session, eid)
    assert sorted(m for m, row in state.items() if row.status == OFFERED) == sorted(people[6:9])
    assert not [m for m, row in state.items() if row.status == GOING]
    assert await notices(session, eid, "offered") == first_offers + people[6:9]


async def test_more_seats_promote_the_waitlist_and_fewer_take_none_back(session: AsyncSession) -> None:
    org = await organization(session)
    people = await add_members(session, org, 5)
    event = await published(session, org, capacity=1)
    eid = event.id or 0
    for member in people:
        await service.rsvp(session, eid, member, GOING, NOW)
    update = await service.update_event(session, event, org, NOW, capacity=3)
    await session.commit()
    assert update.promoted == tuple(people[1:3]) and update.notified == 0
    assert await notices(session, eid, "promoted") == people[1:3]
    await service.update_event(session, event, org, NOW, capacity=1)
    await session.commit()
    state = await answers(session, eid)
    assert [state[m].status for m in people] == [GOING, GOING, GOING, WAITLISTED, WAITLISTED]
    # Nobody moves up until the going count is below the new capacity again.
    await service.rsvp(session, eid, people[0], NOT_GOING, NOW)
    await session.commit()
    assert (await answers(session, eid))[people[3]].status == WAITLISTED
    # No limit any more: everyone waiting is in.
    await service.update_event(session, event, org, NOW, capacity=None)
    await session.commit()
    assert {row.status for m, row in (await answers(session, eid)).items() if m != people[0]} == {GOING}


async def test_withdrawing_a_member_frees_their_seats(session: AsyncSession) -> None:
    org = await organization(session)
    a, b = await add_members(session, org, 2)
    first = await published(session, org, capacity=1)
    second = await published(session, org, capacity=1)
    for event in (first, second):
        await service.rsvp(session, event.id or 0, a, GOING, NOW)
        await service.rsvp(session, event.id or 0, b, GOING, NOW)
    assert await service.withdraw_member(session, a, NOW) == 2
    await session.commit()
    for event in (first, second):
        state = await answers(session, event.id or 0)
        assert (state[a].status, state[b].status) == (NOT_GOING, GOING)
    exported = await service.member_answers(session, a)
    assert [row["answer"] for row in exported] == ["not_going", "not_going"]


async def test_an_answer_the_session_holds_shows_the_tap(session: AsyncSession) -> None:
    """A tap writes its answer with one statement, not through the session's unit of work: an
    `Rsvp` the session already holds takes the new values (read again without
    `populate_existing`, the session's copy is what comes back)."""
    org = await organization(session)
    a, b = await add_members(session, org, 2)
    event = await published(session, org, capacity=1)
    eid = event.id or 0
    await service.rsvp(session, eid, a, GOING, NOW)
    await service.rsvp(session, eid, b, GOING, NOW)
    await session.commit()
    held = (await session.exec(select(Rsvp).where(Rsvp.event_id == eid).order_by(Rsvp.seq))).all()
    assert [(row.member_id, row.status) for row in held] == [(a, GOING), (b, WAITLISTED)]
    await service.rsvp(session, eid, a, MAYBE, NOW)  # b is promoted (the unit of work), a by the tap
    assert [(row.member_id, row.status, row.seq) for row in held] == [(a, MAYBE, 3), (b, GOING, 2)]
    listed = await service.attendees(session, eid)
    assert [(row.member_id, row.status, row.seq) for row in listed] == [(b, GOING, 2), (a, MAYBE, 3)]


# -- the rules as a property -----------------------------------------------------------------------


class Model:
    """The capacity and waitlist rules, restated plainly (no claim window)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.status: dict[int, RsvpStatus] = {}
        self.seq: dict[int, int] = {}
        self.taps = 0

    def holders(self) -> int:
        return sum(status == GOING for status in self.status.values())

    def waiting(self) -> list[int]:
        return sorted((m for m, s in self.status.items() if s == WAITLISTED), key=self.seq.__getitem__)

    def tap(self, member: int, choice: RsvpStatus) -> None:
        self.taps += 1
        previous = self.status.get(member)
        if previous == choice or (previous == WAITLISTED and choice == GOING):
            return
        if choice == GOING:
            free = self.holders() < self.capacity and not self.waiting()
            self.status[member] = GOING if free else WAITLISTED
        else:
            self.status[member] = choice
        self.seq[member] = self.taps
        if previous == GOING:
            for first in self.waiting()[: self.capacity - self.holders()]:
                self.status[first] = GOING


_telegram_ids = itertools.count(10_000, 10)
taps = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from([GOING, GOING, MAYBE, NOT_GOING])), min_size=1, max_size=25
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(capacity=st.integers(1, 3), sequence=taps)
async def test_random_taps_follow_the_rules(session: AsyncSession, capacity: int, sequence: list) -> None:
    org = await organization(session)
    people = await add_members(session, org, 6, first_tg=next(_telegram_ids))
    event = await published(session, org, capacity=capacity)
    eid = event.id or 0
    model = Model(capacity)
    for index, choice in sequence:
        member = people[index]
        result = await service.rsvp(session, eid, member, choice, NOW)
        model.tap(member, choice)
        assert result.status == model.status[member]
        state = {m: row.status for m, row in (await answers(session, eid)).items()}
        assert state == model.status
        if result.counts is not None:  # what the card shows, derived under the lock
            assert result.counts == await service.counts(session, eid)
        going = sum(s == GOING for s in state.values())
        assert going <= capacity
        assert going == capacity or WAITLISTED not in state.values()  # nobody waits for a free seat
    await session.commit()

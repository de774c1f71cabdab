"""Reminders on SQLite and PostgreSQL: who gets them, in which language, after a change of mind,
after downtime, and never twice with two releasers or a crashed one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as service
from bot.services.events import reminders
from storage.db import create_session_factory
from storage.models import DeliveryStatus, Event, OutboxMessage, Reminder, ReminderStatus
from tests.test_events import NOW, START, add_members, community, published


async def reminder_rows(session: AsyncSession) -> list[OutboxMessage]:
    result = await session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.kind == reminders.KIND)
        .order_by(col(OutboxMessage.ref_id), col(OutboxMessage.chat_id))
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def statuses(session: AsyncSession, event: Event) -> dict[int, ReminderStatus]:
    result = await session.exec(
        select(Reminder).where(Reminder.event_id == event.id).execution_options(populate_existing=True)
    )
    return {row.offset_minutes: ReminderStatus(row.status) for row in result.all()}


async def test_only_going_and_maybe_get_reminders_in_their_language(session: AsyncSession) -> None:
    org, members = await community(session)
    event = await published(
        session, org, capacity=2, language="en", title="Picnic", translations={"ar": {"title": "نزهة"}}
    )
    for tg, choice in [(1, "going"), (2, "maybe"), (3, "not_going"), (5, "going"), (4, "going")]:
        await service.rsvp(session, event.id or 0, members[tg].id or 0, choice, NOW)
    await session.commit()  # 4 is waitlisted (two seats)

    assert (await reminders.release_reminders(session, START - timedelta(days=2))).sent == 0  # not yet
    day_before = START - timedelta(days=1)
    released = await reminders.release_reminders(session, day_before)
    assert (released.sent, released.messages, released.skipped) == (1, 3, [])
    rows = await reminder_rows(session)
    assert {row.chat_id: (row.language, row.payload["version"]) for row in rows} == {
        1: ("fr", "en"),  # no French version, and the default (fr) is not written: the original
        2: ("ar", "ar"),
        5: ("pt", "en"),
    }
    assert {row.payload["offset_minutes"] for row in rows} == {1440}
    assert rows[0].payload["event_id"] == event.id and rows[0].not_before == day_before
    assert await statuses(session, event) == {1440: ReminderStatus.SENT, 60: ReminderStatus.PENDING}
    # Nothing is handed over twice.
    assert (await reminders.release_reminders(session, day_before + timedelta(minutes=5))).sent == 0
    assert len(await reminder_rows(session)) == 3


async def test_a_change_of_mind_stops_reminders_even_one_already_queued(session: AsyncSession) -> None:
    org, members = await community(session)
    event = await published(session, org)
    eid = event.id or 0
    for tg in (1, 2, 3):
        await service.rsvp(session, eid, members[tg].id or 0, "going", NOW)
    await session.commit()
    await service.rsvp(session, eid, members[3].id or 0, "not_going", NOW)  # before the reminder
    await session.commit()
    await reminders.release_reminders(session, START - timedelta(days=1))
    rows = await reminder_rows(session)
    assert {row.chat_id for row in rows} == {1, 2}
    # Member 2 cancels after the reminder was queued but before it was delivered.
    await service.rsvp(session, eid, members[2].id or 0, "not_going", START - timedelta(hours=20))
    await session.commit()
    queued = {row.chat_id: row.status for row in await reminder_rows(session)}
    assert queued == {1: DeliveryStatus.PENDING, 2: DeliveryStatus.CANCELLED}
    await reminders.release_reminders(session, START - timedelta(minutes=59))
    hour = [row.chat_id for row in await reminder_rows(session) if row.payload["offset_minutes"] == 60]
    assert hour == [1]


async def test_after_downtime_started_events_are_skipped_and_only_the_nearest_is_sent(
    session: AsyncSession,
) -> None:
    org, members = await community(session)
    started = await published(session, org, starts_at=START)
    soon = await published(session, org, starts_at=START + timedelta(minutes=30))
    for event in (started, soon):
        await service.rsvp(session, event.id or 0, members[1].id or 0, "going", NOW)
    await session.commit()
    # The bot was down from two days before until 5 minutes after `started` began.
    back = START + timedelta(minutes=5)
    released = await reminders.release_reminders(session, back)
    assert await statuses(session, started) == {1440: ReminderStatus.SKIPPED, 60: ReminderStatus.SKIPPED}
    # `soon` starts in 25 minutes: the one-hour reminder is still useful, the one-day one is not.
    assert await statuses(session, soon) == {1440: ReminderStatus.SKIPPED, 60: ReminderStatus.SENT}
    assert released.sent == 1 and len(released.skipped) == 3
    assert {event_id for _, event_id in released.skipped} == {started.id, soon.id}
    rows = await reminder_rows(session)
    assert [(row.chat_id, row.payload["event_id"], row.payload["offset_minutes"]) for row in rows] == [
        (1, soon.id, 60)
    ]


async def test_cancelled_and_rescheduled_events(session: AsyncSession) -> None:
    org, members = await community(session)
    cancelled = await published(session, org)
    moved = await published(session, org)
    for event in (cancelled, moved):
        await service.rsvp(session, event.id or 0, members[1].id or 0, "going", NOW)
    await service.cancel_event(session, cancelled, org, NOW)
    await service.update_event(session, moved, org, NOW, starts_at=START + timedelta(days=3))
    await session.commit()
    assert (await reminders.release_reminders(session, START - timedelta(days=1))).sent == 0
    later = START + timedelta(days=2)
    assert (await reminders.release_reminders(session, later)).sent == 1
    assert [row.payload["event_id"] for row in await reminder_rows(session)] == [moved.id]


async def test_two_releasers_at_once_hand_each_reminder_over_once(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    org, _ = await community(session)
    people = await add_members(session, org, 30)
    events = [await published(session, org, starts_at=START + timedelta(minutes=i)) for i in range(40)]
    for index, event in enumerate(events):
        for member in people[index % 3 :: 3]:  # 10 members per event
            await service.rsvp(session, event.id or 0, member, "maybe", NOW)
    await session.commit()
    sessions = create_session_factory(engine)
    now = START - timedelta(minutes=59) + timedelta(minutes=40)  # every reminder is due

    async def releaser() -> reminders.Released:
        async with sessions() as own:
            return await reminders.release_reminders(own, now, batch=7)

    results = await asyncio.gather(*(releaser() for _ in range(3)))
    assert sum(r.sent for r in results) == 40  # 40 one-hour reminders; the one-day ones superseded
    assert sum(len(r.skipped) for r in results) == 40
    rows = await reminder_rows(session)
    assert len(rows) == 400 == len({(row.ref_id, row.chat_id) for row in rows})
    assert sum(r.messages for r in results) == 400


async def test_a_crashed_releaser_is_replaced_and_a_stale_claim_cannot_send_twice(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    org, members = await community(session)
    event = await published(session, org)
    await service.rsvp(session, event.id or 0, members[1].id or 0, "going", NOW)
    await session.commit()
    due = START - timedelta(days=1)
    claimed = await reminders.claim_due_reminders(session, due)
    assert len(claimed) == 1
    # Within the lease nobody else takes it ...
    assert await reminders.claim_due_reminders(session, due + timedelta(minutes=1)) == []
    # ... after it, another releaser does (the first one died).
    again = await reminders.claim_due_reminders(session, due + reminders.LEASE + timedelta(seconds=1))
    assert again == claimed
    # The "dead" one wakes up and both hand over at once: one message, not two.
    sessions = create_session_factory(engine)

    async def hand_over() -> reminders.Released:
        async with sessions() as own:
            released = await reminders.hand_over(own, claimed, due + timedelta(minutes=6))
            await own.commit()
            return released

    results = await asyncio.gather(hand_over(), hand_over())
    assert sorted(r.sent for r in results) == [0, 1]
    assert len(await reminder_rows(session)) == 1
    assert (await statuses(session, event))[1440] == ReminderStatus.SENT

"""Event rules against a real database: validation, publishing, edits, cancellation, lists,
check-in and recurring series. (Capacity and the waitlist: test_event_capacity.py.)"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as service
from bot.services.events import EventError
from bot.services.events.series import create_series, occurrences, publish_series, update_series_from
from bot.services.members import TelegramIdentity, record_consent, update_profile
from bot.services.roles import ensure_default_organization
from storage.models import (
    DeliveryStatus,
    Event,
    EventNotice,
    EventStatus,
    Member,
    Membership,
    Organization,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    RsvpStatus,
    SeriesRule,
)

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
START = datetime(2027, 3, 20, 17, 30, tzinfo=UTC)  # 18:30 in Paris


async def community(session: AsyncSession) -> tuple[Organization, dict[int, Member]]:
    """Five members (telegram ids 1–5) in fr, ar, ru, sw, pt; the organization writes French;
    member 4 muted the "events" topic."""
    org = await ensure_default_organization(session, "Diaspora", "fr", "Europe/Paris")
    people = [
        (1, "fr", "Europe/Paris", ["events"], []),
        (2, "ar", "Africa/Nairobi", ["culture"], []),
        (3, "ru", "America/Toronto", ["events"], []),
        (4, "sw", "Asia/Manila", ["business"], ["events"]),
        (5, "pt", "America/Sao_Paulo", ["events", "youth"], []),
    ]
    members = {}
    for tg, language, zone, interests, muted in people:
        member = await record_consent(session, TelegramIdentity(tg, None, f"M{tg}"), language, zone, org.id)
        await update_profile(
            session, member, display_name=f"M{tg}", interests=interests, muted=muted, timezone=zone
        )
        members[tg] = member
    await session.commit()
    return org, members


async def add_members(
    session: AsyncSession, org: Organization, count: int, first_tg: int = 1000, language: str = "en"
) -> list[int]:
    """Many registered members at once; returns their ids in creation order."""
    members = [
        Member(telegram_id=first_tg + i, display_name=f"P{i}", language=language, consent_at=NOW)
        for i in range(count)
    ]
    session.add_all(members)
    await session.flush()
    session.add_all(Membership(organization_id=org.id or 0, member_id=m.id or 0) for m in members)
    await session.commit()
    return [m.id or 0 for m in members]


async def new_event(session: AsyncSession, org: Organization, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "organization_id": org.id,
        "title": "Soirée culturelle",
        "description": "Musique et cuisine",
        "language": "fr",
        "starts_at": START,
        "timezone": "Europe/Paris",
        "place": "Maison des associations",
        "now": NOW,
    }
    values.update(fields)
    event = await service.create_event(session, **values)
    await session.commit()
    return event


async def published(session: AsyncSession, org: Organization, **fields: Any) -> Event:
    event = await new_event(session, org, **fields)
    await service.publish(session, event, org, NOW)
    await session.commit()
    return event


async def outbox(session: AsyncSession, **where: Any) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(col(OutboxMessage.chat_id))
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list((await session.exec(query.execution_options(populate_existing=True))).all())


async def notice_rows(session: AsyncSession, kind: str) -> list[OutboxMessage]:
    notices = select(EventNotice.id).where(EventNotice.kind == kind)
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.kind == service.NOTICE_KIND, col(OutboxMessage.ref_id).in_(notices))
        .order_by(col(OutboxMessage.chat_id))
        .execution_options(populate_existing=True)
    )
    return list((await session.exec(query)).all())


async def reminders(session: AsyncSession, event: Event) -> dict[int, Reminder]:
    rows = await session.exec(
        select(Reminder).where(Reminder.event_id == event.id).execution_options(populate_existing=True)
    )
    return {row.offset_minutes: row for row in rows.all()}


async def event_count(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(Event))).one())


# -- validation ----------------------------------------------------------------------------------


BAD_VALUES: list[tuple[dict[str, Any], str]] = [
    ({"title": "   "}, "title_empty"),
    ({"title": "\u200b\u200e"}, "title_empty"),  # only invisible characters
    ({"title": "x" * 201}, "title_too_long"),
    ({"title": "🎉" * 101}, "title_too_long"),  # Telegram counts an emoji as two
    ({"description": "x" * 3001}, "description_too_long"),
    ({"place": "p" * 301}, "place_too_long"),
    ({"starts_at": NOW}, "past_start"),
    ({"starts_at": NOW - timedelta(days=1)}, "past_start"),
    ({"ends_at": START}, "end_before_start"),
    ({"ends_at": START - timedelta(hours=1)}, "end_before_start"),
    ({"capacity": 0}, "capacity_range"),
    ({"capacity": -5}, "capacity_range"),
    ({"capacity": 100_001}, "capacity_range"),
    ({"capacity": "lots"}, "capacity_range"),
    ({"rsvp_deadline": START + timedelta(minutes=1)}, "deadline_after_start"),
    ({"rsvp_deadline": NOW - timedelta(minutes=1)}, "deadline_in_past"),
    ({"online_url": "ftp://example.org/x"}, "bad_url"),
    ({"online_url": "javascript:alert(1)"}, "bad_url"),
    ({"online_url": "https://"}, "bad_url"),
    ({"online_url": "https://exa mple.org"}, "bad_url"),
    ({"online_url": "meet.example.org"}, "bad_url"),
    ({"claim_window_hours": 0}, "claim_window_range"),
    ({"claim_window_hours": 169}, "claim_window_range"),
    ({"reminder_offsets": [0]}, "offsets_range"),
    ({"reminder_offsets": [1, 2, 3, 4, 5, 6]}, "offsets_range"),
    ({"timezone": "Mars/Olympus"}, "bad_timezone"),
    ({"audience": {"planet": ["mars"]}}, "bad_audience"),
    ({"translations": {"en": {"title": ""}}}, "title_empty"),
    ({"translations": {"en": {"title": "Party", "description": "y" * 3001}}}, "description_too_long"),
]
DEFAULTS: dict[str, Any] = {"title": "Soirée", "starts_at": START, "timezone": "Europe/Paris"}


@pytest.mark.parametrize(("fields", "reason"), BAD_VALUES)
def test_each_bad_value_has_its_reason(fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(EventError) as raised:
        service.validate_event(NOW, **(DEFAULTS | fields))
    assert raised.value.reason == reason


async def test_a_refused_event_leaves_nothing_behind(session: AsyncSession) -> None:
    org, _ = await community(session)
    for fields, reason in BAD_VALUES:
        with pytest.raises(EventError) as raised:
            await new_event(session, org, **fields)
        assert raised.value.reason == reason
    await session.commit()
    assert await event_count(session) == 0


async def test_good_values_are_normalized(session: AsyncSession) -> None:
    org, _ = await community(session)
    event = await new_event(
        session,
        org,
        title="  Soirée   culturelle ",
        description="x" * 3000,
        capacity="20",
        online_url=" https://meet.example.org/abc ",
        reminder_offsets=[60, 1440, 60],
        ends_at=START + timedelta(hours=3),
        rsvp_deadline=START - timedelta(days=1),
        claim_window_hours=12,
    )
    assert event.title == "Soirée culturelle"
    assert (event.capacity, event.online_url) == (20, "https://meet.example.org/abc")
    assert event.reminder_offsets == [1440, 60]
    assert event.status == EventStatus.DRAFT
    assert service.validate_title("🎉" * 100) == "🎉" * 100  # exactly 200 as Telegram counts


async def test_edits_are_validated_before_anything_changes(session: AsyncSession) -> None:
    org, _ = await community(session)
    event = await published(session, org)
    for changes, reason in [
        ({"starts_at": NOW - timedelta(hours=1)}, "past_start"),
        ({"ends_at": START - timedelta(hours=1)}, "end_before_start"),
        ({"capacity": 0}, "capacity_range"),
        ({"title": "t" * 201}, "title_too_long"),
        ({"place": "p" * 301, "starts_at": START + timedelta(days=1)}, "place_too_long"),
    ]:
        with pytest.raises(EventError) as raised:
            await service.update_event(session, event, org, NOW, **changes)
        assert raised.value.reason == reason
    await session.commit()
    fresh = await session.get(Event, event.id, populate_existing=True)
    assert fresh is not None and fresh.starts_at == START and fresh.place == "Maison des associations"
    assert await notice_rows(session, "changed") == []


# -- publishing ----------------------------------------------------------------------------------


async def test_publish_schedules_reminders_and_tells_the_audience_in_each_language(
    session: AsyncSession,
) -> None:
    org, _ = await community(session)
    event = await new_event(
        session,
        org,
        language="en",
        title="Cultural evening",
        translations={"ar": {"title": "أمسية ثقافية"}, "fr": {"title": "Soirée culturelle"}},
        starts_at=NOW + timedelta(hours=20),
        reminder_offsets=[1440, 60],
    )
    notified = await service.publish(session, event, org, NOW)
    await session.commit()
    # Member 4 muted the events topic.
    assert notified == 4
    rows = await notice_rows(session, "published")
    assert {row.chat_id: (row.language, row.payload["version"]) for row in rows} == {
        1: ("fr", "fr"),
        2: ("ar", "ar"),
        3: ("ru", "fr"),  # no Russian version: the organization's default
        5: ("pt", "fr"),
    }
    assert {row.payload["timezone"] for row in rows} == {
        "Europe/Paris",
        "Africa/Nairobi",
        "America/Toronto",
        "America/Sao_Paulo",
    }
    assert all(row.payload["event_id"] == event.id and row.payload["notice"] == "published" for row in rows)
    # 1440 minutes before is already past: only the one-hour reminder exists.
    due = await reminders(session, event)
    assert set(due) == {60}
    assert due[60].due_at == event.starts_at - timedelta(hours=1)
    assert due[60].status == ReminderStatus.PENDING
    assert event.status == EventStatus.PUBLISHED and event.checkin_code
    assert service.event_text(event, "ar") == ("أمسية ثقافية", "Musique et cuisine")
    with pytest.raises(EventError, match="not_editable"):
        await service.publish(session, event, org, NOW)


async def test_publish_reaches_only_the_audience_and_waits_for_morning(session: AsyncSession) -> None:
    org, _ = await community(session)
    event = await new_event(session, org, audience={"interests": ["events"]})
    assert await service.count_audience(session, event) == 3  # 1, 3, 5 (4 muted events)
    late = datetime(2027, 3, 10, 23, 30, tzinfo=UTC)  # Paris 00:30, Toronto 19:30
    await service.publish(session, event, org, late)
    await session.commit()
    rows = {row.chat_id: row.not_before for row in await notice_rows(session, "published")}
    assert set(rows) == {1, 3, 5}
    assert rows[3] == late
    assert rows[1] == datetime(2027, 3, 11, 7, 0, tzinfo=UTC)  # 08:00 in Paris


# -- edits and cancellation ------------------------------------------------------------------------


async def test_time_change_reschedules_reminders_and_tells_only_those_who_answered(
    session: AsyncSession,
) -> None:
    org, members = await community(session)
    event = await published(session, org, capacity=2)
    for tg, choice in [(1, "going"), (2, "maybe"), (3, "not_going"), (5, "going")]:
        await service.rsvp(session, event.id or 0, members[tg].id or 0, choice, NOW)
    await service.rsvp(session, event.id or 0, members[4].id or 0, "going", NOW)  # waitlisted
    await session.commit()
    before = await reminders(session, event)
    assert {offset: r.due_at for offset, r in before.items()} == {
        1440: START - timedelta(days=1),
        60: START - timedelta(hours=1),
    }

    later = START + timedelta(days=2, hours=1)
    result = await service.update_event(
        session, event, org, NOW, starts_at=later, description="Nouveau programme"
    )
    await session.commit()
    assert set(result.changed) == {"starts_at", "description"}
    assert result.notified == 4
    after = await reminders(session, event)
    assert after[1440].due_at == later - timedelta(days=1) and after[1440].status == ReminderStatus.PENDING
    assert after[60].due_at == later - timedelta(hours=1)
    rows = await notice_rows(session, "changed")
    # Going, maybe and waitlisted hear about it; "not going" and those who never answered do not.
    assert {row.chat_id: row.payload["rsvp"] for row in rows} == {
        1: "going",
        2: "maybe",
        4: "waitlisted",
        5: "going",
    }
    assert rows[0].payload["fields"] == ["starts_at"]
    assert rows[0].payload["before"]["starts_at"] == START.isoformat()
    assert {row.language for row in rows} == {"fr", "ar", "sw", "pt"}

    # A description change alone tells no one; a new place does.
    quiet = await service.update_event(session, event, org, NOW, description="Encore autre chose")
    assert quiet.notified == 0
    moved = await service.update_event(session, event, org, NOW, place="Salle B")
    assert moved.notified == 4
    await session.commit()


async def test_reminders_already_past_are_skipped_and_sent_ones_come_back_after_a_move(
    session: AsyncSession,
) -> None:
    org, _ = await community(session)
    event = await published(session, org)
    due = await reminders(session, event)
    due[1440].status = ReminderStatus.SENT  # as if the one-day reminder went out
    session.add(due[1440])
    await session.commit()
    # Moved closer: the one-hour reminder is still ahead, the one-day one would be in the past.
    soon = NOW + timedelta(hours=3)
    await service.update_event(session, event, org, NOW, starts_at=soon)
    await session.commit()
    due = await reminders(session, event)
    assert due[60].status == ReminderStatus.PENDING and due[60].due_at == soon - timedelta(hours=1)
    assert due[1440].status == ReminderStatus.SENT  # not resent for a time already past
    # Moved a week later: the one-day reminder is due again (a fresh row, so it can be sent again).
    week = START + timedelta(days=7)
    await service.update_event(session, event, org, NOW, starts_at=week)
    await session.commit()
    due = await reminders(session, event)
    assert due[1440].status == ReminderStatus.PENDING and due[1440].due_at == week - timedelta(days=1)
    # Dropping an offset cancels its reminder.
    await service.update_event(session, event, org, NOW, reminder_offsets=[60])
    await session.commit()
    due = await reminders(session, event)
    assert due[1440].status == ReminderStatus.CANCELLED and due[60].status == ReminderStatus.PENDING


async def test_cancel_stops_reminders_and_pending_messages_and_tells_those_who_answered(
    session: AsyncSession,
) -> None:
    org, members = await community(session)
    event = await published(session, org)
    for tg, choice in [(1, "going"), (2, "maybe"), (3, "not_going")]:
        await service.rsvp(session, event.id or 0, members[tg].id or 0, choice, NOW)
    await session.commit()
    notified = await service.cancel_event(session, event, org, NOW)
    await session.commit()
    assert notified == 2
    assert {row.chat_id for row in await notice_rows(session, "cancelled")} == {1, 2}
    assert {r.status for r in (await reminders(session, event)).values()} == {ReminderStatus.CANCELLED}
    # The "published" messages not yet delivered will not go out any more.
    assert {row.status for row in await notice_rows(session, "published")} == {DeliveryStatus.CANCELLED}
    assert event.status == EventStatus.CANCELLED
    with pytest.raises(EventError, match="cancelled"):
        await service.rsvp(session, event.id or 0, members[5].id or 0, "going", NOW)
    with pytest.raises(EventError, match="not_editable"):
        await service.update_event(session, event, org, NOW, title="Autre")
    with pytest.raises(EventError, match="not_editable"):
        await service.cancel_event(session, event, org, NOW)


async def test_rsvp_is_refused_for_drafts_past_events_and_after_the_deadline(session: AsyncSession) -> None:
    org, members = await community(session)
    member = members[1].id or 0
    draft = await new_event(session, org)
    with pytest.raises(EventError, match="closed"):
        await service.rsvp(session, draft.id or 0, member, "going", NOW)
    with pytest.raises(EventError, match="not_found"):
        await service.rsvp(session, 999_999, member, "going", NOW)
    event = await published(session, org, rsvp_deadline=START - timedelta(days=2))
    await service.rsvp(session, event.id or 0, member, "going", NOW)
    await session.commit()
    after_deadline = START - timedelta(days=1)
    with pytest.raises(EventError, match="deadline_passed"):
        await service.rsvp(session, event.id or 0, members[2].id or 0, "going", after_deadline)
    with pytest.raises(EventError, match="deadline_passed"):
        await service.rsvp(session, event.id or 0, member, "maybe", after_deadline)
    # Freeing a seat is still possible after the deadline.
    result = await service.rsvp(session, event.id or 0, member, "not_going", after_deadline)
    assert result.status == RsvpStatus.NOT_GOING
    with pytest.raises(EventError, match="event_past"):
        await service.rsvp(session, event.id or 0, member, "not_going", START)
    await session.commit()


# -- lists, exports, check-in --------------------------------------------------------------------


async def test_upcoming_list_counts_attendees_and_csv(session: AsyncSession) -> None:
    org, members = await community(session)
    created = [await published(session, org, starts_at=START + timedelta(days=i)) for i in range(7)]
    await new_event(session, org, title="Brouillon")  # drafts are not listed for members
    await published(session, org, starts_at=NOW + timedelta(hours=1))
    await service.rsvp(session, created[1].id or 0, members[1].id or 0, "maybe", NOW)
    await session.commit()

    first = await service.upcoming_events(session, None, members[1], NOW, offset=0, limit=5)
    assert first.total == 8 and len(first.events) == 5
    assert first.events[0].starts_at == NOW + timedelta(hours=1)
    assert first.answers == {created[1].id: RsvpStatus.MAYBE}
    second = await service.upcoming_events(session, org.id, members[1], NOW, offset=5, limit=5)
    assert [e.id for e in second.events] == [e.id for e in created[4:]]
    later = await service.upcoming_events(session, org.id, None, NOW + timedelta(hours=2), 0, 50)
    assert later.total == 7  # the one that started is gone (it has no end time)
    organizer = await service.upcoming_events(session, org.id, None, NOW, 0, 50, include_drafts=True)
    assert organizer.total == 9

    event = await published(session, org, capacity=1)
    members[2].display_name = "=HYPERLINK(1)"
    session.add(members[2])
    for tg, choice in [(1, "going"), (2, "going"), (3, "not_going"), (5, "maybe")]:
        await service.rsvp(session, event.id or 0, members[tg].id or 0, choice, NOW)
    await session.commit()
    assert await service.counts(session, event.id or 0) == {
        RsvpStatus.GOING: 1,
        RsvpStatus.MAYBE: 1,
        RsvpStatus.NOT_GOING: 1,
        RsvpStatus.WAITLISTED: 1,
        RsvpStatus.OFFERED: 0,
    }
    listed = await service.attendees(session, event.id or 0)
    assert [(a.name, a.status) for a in listed] == [
        ("M1", RsvpStatus.GOING),
        ("M5", RsvpStatus.MAYBE),
        ("=HYPERLINK(1)", RsvpStatus.WAITLISTED),
        ("M3", RsvpStatus.NOT_GOING),
    ]
    data = await service.export_csv(session, event.id or 0)
    assert data.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert table[0] == ["name", "language", "status", "seq", "attended"]
    assert table[1][:3] == ["M1", "fr", "going"]
    assert table[3][:3] == ["'=HYPERLINK(1)", "ar", "waitlisted"]  # no formula injection
    assert len(table) == 5


async def test_check_in_with_the_code_and_by_the_organizer(session: AsyncSession) -> None:
    org, members = await community(session)
    event = await published(session, org, ends_at=START + timedelta(hours=2))
    await service.rsvp(session, event.id or 0, members[1].id or 0, "going", NOW)
    await session.commit()
    code = event.checkin_code or ""
    with pytest.raises(EventError, match="bad_code"):  # too early
        await service.check_in(session, members[1].id or 0, code, START - timedelta(hours=3))
    during = START + timedelta(minutes=20)
    found = await service.check_in(session, members[1].id or 0, f" {code.lower()} ", during)
    assert found.id == event.id
    walk_in = await service.check_in(session, members[2].id or 0, code, during)
    assert walk_in.id == event.id
    with pytest.raises(EventError, match="bad_code"):
        await service.check_in(session, members[3].id or 0, "WRONG1", during)
    with pytest.raises(EventError, match="bad_code"):  # long after the end
        await service.check_in(session, members[3].id or 0, code, START + timedelta(hours=4))
    await service.mark_attendance(session, event.id or 0, members[1].id or 0, False, during)
    await session.commit()
    listed = {a.name: (a.status, a.attended) for a in await service.attendees(session, event.id or 0)}
    assert listed == {"M1": (RsvpStatus.GOING, False), "M2": (RsvpStatus.GOING, True)}


# -- recurring series ------------------------------------------------------------------------------


def test_weekly_in_berlin_keeps_the_local_time_across_the_march_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    starts = occurrences(
        SeriesRule.WEEKLY, "Europe/Berlin", date(2027, 3, 12), 18 * 60 + 30, weekday=4, count=4
    )
    assert [s.astimezone(berlin).strftime("%Y-%m-%d %H:%M") for s in starts] == [
        "2027-03-12 18:30",
        "2027-03-19 18:30",
        "2027-03-26 18:30",
        "2027-04-02 18:30",
    ]
    # In UTC the hour moves when Berlin switches to summer time on 28 March.
    assert [s.hour for s in starts] == [17, 17, 17, 16]
    every_other = occurrences(
        SeriesRule.BIWEEKLY, "Europe/Berlin", date(2027, 3, 10), 600, weekday=4, count=3
    )
    assert [s.date() for s in every_other] == [date(2027, 3, 12), date(2027, 3, 26), date(2027, 4, 9)]


def test_monthly_first_saturday_and_last_friday() -> None:
    first_saturday = occurrences(
        SeriesRule.MONTHLY_WEEKDAY, "Africa/Dakar", date(2027, 1, 1), 15 * 60, weekday=5, nth=1, count=4
    )
    assert [s.date() for s in first_saturday] == [
        date(2027, 1, 2),
        date(2027, 2, 6),
        date(2027, 3, 6),
        date(2027, 4, 3),
    ]
    last_friday = occurrences(
        SeriesRule.MONTHLY_WEEKDAY,
        "Europe/Berlin",
        date(2027, 2, 1),
        19 * 60,
        weekday=4,
        nth=-1,
        until=date(2027, 5, 31),
    )
    berlin = ZoneInfo("Europe/Berlin")
    assert [s.astimezone(berlin).strftime("%m-%d %H:%M") for s in last_friday] == [
        "02-26 19:00",
        "03-26 19:00",
        "04-30 19:00",
        "05-28 19:00",
    ]
    # A fifth Monday exists only in some months: the others are left out.
    fifth = occurrences(SeriesRule.MONTHLY_WEEKDAY, "UTC", date(2027, 1, 1), 600, weekday=0, nth=5, count=2)
    assert [s.date() for s in fifth] == [date(2027, 3, 29), date(2027, 5, 31)]
    with pytest.raises(EventError, match="bad_rule"):
        occurrences(SeriesRule.MONTHLY_WEEKDAY, "UTC", date(2027, 1, 1), 600, weekday=0, nth=6)


async def test_series_occurrences_are_events_announced_once_and_edited_from_one_on(
    session: AsyncSession,
) -> None:
    org, members = await community(session)
    berlin = ZoneInfo("Europe/Berlin")
    series, created = await create_series(
        session,
        organization_id=org.id or 0,
        rule="weekly",
        timezone="Europe/Berlin",
        starts_on=date(2027, 3, 12),
        local_start=18 * 60 + 30,
        duration_minutes=120,
        now=NOW,
        title="Deutschkurs",
        language="de",
        capacity=10,
    )
    await session.commit()
    assert len(created) == 12 and all(e.series_id == series.id for e in created)
    assert {e.starts_at.astimezone(berlin).strftime("%H:%M") for e in created} == {"18:30"}
    assert all(e.ends_at == e.starts_at + timedelta(hours=2) for e in created)
    notified = await publish_series(session, series, org, NOW)
    await session.commit()
    assert notified == 4 and len(await notice_rows(session, "published")) == 4  # once, not 12 times
    assert (
        int(
            (
                await session.exec(
                    select(func.count())
                    .select_from(Reminder)
                    .where(col(Reminder.event_id).in_([e.id for e in created]))
                )
            ).one()
        )
        == 24
    )  # each occurrence has its own reminders

    # Everyone going to the third occurrence hears when "this and all later ones" move to 19:00.
    third = created[2]
    await service.rsvp(session, third.id or 0, members[1].id or 0, "going", NOW)
    await service.rsvp(session, created[0].id or 0, members[2].id or 0, "going", NOW)
    await session.commit()
    new_start = datetime(2027, 3, 26, 19, 0, tzinfo=berlin).astimezone(UTC)
    results = await update_series_from(session, third, org, NOW, starts_at=new_start, place="Raum 2")
    await session.commit()
    assert len(results) == 10
    events = [await session.get(Event, e.id, populate_existing=True) for e in created]
    local = [e.starts_at.astimezone(berlin).strftime("%m-%d %H:%M") for e in events if e is not None]
    assert local[:4] == ["03-12 18:30", "03-19 18:30", "03-26 19:00", "04-02 19:00"]  # across the DST change
    assert all(e is not None and e.ends_at == e.starts_at + timedelta(hours=2) for e in events)
    assert [e.place for e in events if e is not None][1:3] == [None, "Raum 2"]
    assert {row.chat_id for row in await notice_rows(session, "changed")} == {1}
    assert series.local_start == 19 * 60
    third_reminders = await reminders(session, third)
    assert third_reminders[60].due_at == new_start - timedelta(hours=1)

    # A change one occurrence cannot take is refused before any is written.
    with pytest.raises(EventError, match="title_too_long"):
        await update_series_from(session, third, org, NOW, title="t" * 201)
    with pytest.raises(EventError, match="series_empty"):
        await create_series(
            session,
            organization_id=org.id or 0,
            rule="weekly",
            timezone="Europe/Berlin",
            starts_on=date(2027, 3, 1),
            local_start=600,
            until=date(2027, 3, 5),
            now=NOW,
            title="Trop tard",
        )

"""Announcement rules against a real database: audiences, muting, versions, timing, cancelling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import announcements as service
from bot.services.announcements.waiting import waiting
from bot.services.members import TelegramIdentity, record_consent, set_blocked, update_profile
from bot.services.roles import ensure_default_organization
from bot.services.schedule_math import after_quiet_hours, in_quiet_hours, next_local_time, parse_clock
from storage.models import Announcement, AnnouncementStatus, DeliveryStatus, Organization, OutboxMessage


async def community(session: AsyncSession) -> Organization:
    """Five members spread over the world, one of them muting culture."""
    org = await ensure_default_organization(session, "Diaspora", "fr", "Europe/Paris")
    people = [
        (1, "fr", "Europe/Paris", "SN", "FR", "Lyon", ["events", "culture"], []),
        (2, "ar", "Africa/Nairobi", "SD", "KE", "Nairobi", ["culture"], []),
        (3, "ru", "America/Toronto", "UA", "CA", "Toronto", ["trainings"], ["culture"]),
        (4, "sw", "Asia/Manila", "KE", "PH", "Manila", ["business"], []),
        (5, "pt", "America/Sao_Paulo", "AO", "BR", "São Paulo", ["culture", "youth"], []),
    ]
    for tg, language, zone, origin, residence, city, interests, muted in people:
        member = await record_consent(session, TelegramIdentity(tg, None, f"M{tg}"), language, zone, org.id)
        await update_profile(
            session,
            member,
            origin_country=origin,
            residence_country=residence,
            residence_city=city,
            interests=interests,
            muted=muted,
            timezone=zone,
        )
    await session.commit()
    return org


def draft(org: Organization, **fields: object) -> Announcement:
    values: dict[str, object] = {
        "organization_id": org.id,
        "author_chat_id": 1,
        "text": "<b>Bonjour</b>",
        "language": "fr",
    }
    values.update(fields)
    return Announcement(**values)


@pytest.mark.parametrize(
    ("audience", "category", "expected"),
    [
        ({}, None, {1, 2, 3, 4, 5}),
        ({}, "culture", {1, 2, 4, 5}),  # 3 muted culture
        ({"interests": ["culture"]}, None, {1, 2, 5}),
        ({"interests": ["culture", "business"]}, None, {1, 2, 4, 5}),
        ({"languages": ["ar", "ru"]}, None, {2, 3}),
        ({"residence_countries": ["KE", "PH"]}, None, {2, 4}),
        ({"origin_countries": ["UA"]}, None, {3}),
        ({"city": "toronto"}, None, {3}),
        ({"interests": ["culture"], "languages": ["pt"]}, None, {5}),
    ],
)
async def test_audience_filters_and_muting(
    session: AsyncSession, audience: dict, category: str | None, expected: set[int]
) -> None:
    org = await community(session)
    announcement = draft(org, audience=audience, category=category)
    session.add(announcement)
    await session.flush()
    assert await service.count_audience(session, announcement) == len(expected)
    await service.enqueue_announcement(session, announcement, org, now=datetime(2027, 3, 10, 12, tzinfo=UTC))
    rows = (await session.exec(select(OutboxMessage))).all()
    assert {row.chat_id for row in rows} == expected


async def test_blocked_members_are_not_in_the_audience(session: AsyncSession) -> None:
    org = await community(session)
    await set_blocked(session, 2, blocked=True)
    announcement = draft(org)
    session.add(announcement)
    await session.flush()
    assert await service.count_audience(session, announcement) == 4


async def test_each_member_gets_their_language_else_the_default(session: AsyncSession) -> None:
    org = await community(session)
    announcement = draft(org, language="en", text="Hello", translations={"fr": "Bonjour", "ar": "مرحبا"})
    session.add(announcement)
    await session.flush()
    await service.enqueue_announcement(session, announcement, org, now=datetime(2027, 3, 10, 12, tzinfo=UTC))
    rows = {row.chat_id: row.language for row in (await session.exec(select(OutboxMessage))).all()}
    # fr and ar have their version; ru, sw and pt get the organization's default (fr).
    assert rows == {1: "fr", 2: "ar", 3: "fr", 4: "fr", 5: "fr"}
    assert service.text_for(announcement, "ar") == "مرحبا"
    assert service.text_for(announcement, "en") == "Hello"
    no_default = draft(org, language="en", text="Hello", translations={"ar": "مرحبا"})
    assert service.version_for(no_default, "ru", "fr") == "en"  # neither theirs nor the default: original


async def test_quiet_hours_hold_non_urgent_messages_until_morning(session: AsyncSession) -> None:
    org = await community(session)
    now = datetime(2027, 3, 10, 23, 30, tzinfo=UTC)  # Paris 00:30, Nairobi 02:30, Toronto 19:30, Manila 07:30
    announcement = draft(org)
    session.add(announcement)
    await session.flush()
    await service.enqueue_announcement(session, announcement, org, now=now)
    rows = {row.chat_id: row.not_before for row in (await session.exec(select(OutboxMessage))).all()}
    assert rows[3] == now  # Toronto evening: now
    assert rows[1] == datetime(2027, 3, 11, 7, 0, tzinfo=UTC)  # 08:00 Paris (UTC+1)
    assert rows[2] == datetime(2027, 3, 11, 5, 0, tzinfo=UTC)  # 08:00 Nairobi (UTC+3)
    assert rows[4] == datetime(2027, 3, 11, 0, 0, tzinfo=UTC)  # 08:00 Manila (UTC+8)

    urgent = draft(org, urgent=True)
    session.add(urgent)
    await session.flush()
    await service.enqueue_announcement(session, urgent, org, now=now)
    rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.ref_id == urgent.id))).all()
    assert {row.not_before for row in rows} == {now}


async def test_local_time_sends_reach_everyone_at_ten_their_time(session: AsyncSession) -> None:
    org = await community(session)
    now = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    announcement = draft(org, local_time="10:00")
    session.add(announcement)
    await session.flush()
    await service.enqueue_announcement(session, announcement, org, now=now)
    rows = {row.chat_id: row.not_before for row in (await session.exec(select(OutboxMessage))).all()}
    assert rows[1] == datetime(2027, 3, 11, 9, 0, tzinfo=UTC)  # Paris: today's 10:00 has passed
    assert rows[3] == datetime(2027, 3, 10, 15, 0, tzinfo=UTC)  # Toronto (EDT from 14 March: still EST)
    assert rows[4] == datetime(2027, 3, 11, 2, 0, tzinfo=UTC)  # Manila


async def test_cancel_stops_pending_messages_and_empty_audience_is_refused(session: AsyncSession) -> None:
    org = await community(session)
    announcement = draft(org)
    session.add(announcement)
    await session.flush()
    await service.enqueue_announcement(session, announcement, org)
    assert await service.cancel(session, announcement) == 5
    counts = await service.delivery_counts(session, announcement.id)
    assert counts == {DeliveryStatus.CANCELLED: 5}
    with pytest.raises(service.AnnouncementError, match="not_editable"):
        await service.enqueue_announcement(session, announcement, org)
    nobody = draft(org, audience={"city": "Atlantis"})
    session.add(nobody)
    await session.flush()
    with pytest.raises(service.AnnouncementError, match="empty_audience"):
        await service.enqueue_announcement(session, nobody, org)
    assert nobody.status == AnnouncementStatus.DRAFT


def test_clock_and_zone_arithmetic_across_dst() -> None:
    assert parse_clock("10:00") == 600 and parse_clock("6:30pm") == 1110 and parse_clock("18h30") == 1110
    assert parse_clock("25:00") is None and parse_clock("10") is None and parse_clock("soon") is None
    # Berlin switches to summer time on 28 March 2027 (02:00 → 03:00).
    before = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)
    assert next_local_time(before, "Europe/Berlin", 600) == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    assert next_local_time(datetime(2027, 3, 26, 12, tzinfo=UTC), "Europe/Berlin", 600) == datetime(
        2027, 3, 27, 9, 0, tzinfo=UTC
    )
    assert in_quiet_hours(datetime(2027, 3, 27, 23, tzinfo=UTC), "Europe/Berlin", 22 * 60, 8 * 60)
    assert after_quiet_hours(
        datetime(2027, 3, 27, 23, tzinfo=UTC), "Europe/Berlin", 22 * 60, 8 * 60
    ) == datetime(
        2027,
        3,
        28,
        6,
        0,
        tzinfo=UTC,  # 08:00 CEST
    )


async def test_two_processes_releasing_a_scheduled_announcement_send_it_once(
    engine, session: AsyncSession
) -> None:  # type: ignore[no-untyped-def]
    """Two processes' clocks tick at once: one releases the announcement, the other skips it —
    it must never be cancelled as if its audience were empty."""
    import asyncio

    from bot.delivery.announcements import AnnouncementDelivery
    from bot.i18n import create_i18n
    from storage.db import create_session_factory
    from storage.types import utcnow

    org = await community(session)
    scheduled = draft(org, status=AnnouncementStatus.SCHEDULED, scheduled_at=utcnow(), urgent=True)
    session.add(scheduled)
    await session.commit()
    i18n = create_i18n("fr")
    clocks = [
        AnnouncementDelivery(None, create_session_factory(engine), i18n)  # type: ignore[arg-type]
        for _ in range(2)
    ]
    await asyncio.gather(*(clock.release_scheduled() for clock in clocks))

    async with create_session_factory(engine)() as fresh:
        stored = await fresh.get(Announcement, scheduled.id)
        rows = (await fresh.exec(select(OutboxMessage).where(OutboxMessage.ref_id == scheduled.id))).all()
    assert stored is not None and stored.status == AnnouncementStatus.SENDING
    assert sorted(row.chat_id for row in rows) == [1, 2, 3, 4, 5]


async def test_what_holds_a_broadcast_back_is_counted_by_cause(session: AsyncSession) -> None:
    """Held for quiet hours (no error, due later), retried by reason, failed by reason; sent and
    due rows are not waiting for anything."""
    org = await community(session)
    now = datetime(2027, 3, 10, 23, 30, tzinfo=UTC)
    announcement = draft(org)
    session.add(announcement)
    await session.flush()
    await service.enqueue_announcement(session, announcement, org, now=now)
    rows = {row.chat_id: row for row in (await session.exec(select(OutboxMessage))).all()}
    rows[3].last_error = "TelegramRetryAfter: retry after 7"  # Toronto: due now, but a 429 came
    rows[5].status, rows[5].last_error = DeliveryStatus.FAILED, "TelegramServerError: Bad Gateway"
    session.add_all([rows[3], rows[5]])
    await session.flush()

    held = await waiting(session, announcement.id or 0, now)
    assert held.held == 3  # Paris, Nairobi and Manila wait for 08:00 their time
    assert held.until == datetime(2027, 3, 11, 7, 0, tzinfo=UTC)  # Paris, the last
    assert dict(held.retrying) == {"flood": 1}
    assert dict(held.failed) == {"server": 1}
    assert (await waiting(session, announcement.id or 0, datetime(2027, 3, 11, 8, tzinfo=UTC))).held == 0

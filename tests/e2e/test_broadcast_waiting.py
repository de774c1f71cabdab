"""A broadcast that waits says why (issue 16): the organizer's progress message and /announcements
name how many messages wait for members' quiet hours and until when, in the organizer's zone."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select

from bot.i18n import format_when
from storage.db import create_session_factory
from storage.models import OutboxMessage
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.helpers import our_organization
from tests.e2e.test_announce import composer, make_organizer


async def test_a_broadcast_in_quiet_hours_names_the_waiting_count_and_the_hour(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    for name in ("Amina", "Ivan", "Kofi"):
        await registered(name, "en")
    zone = harness.settings.default_timezone
    local = utcnow().astimezone(ZoneInfo(zone))
    minutes = local.hour * 60 + local.minute
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        # Quiet hours from an hour ago to two hours from now, in every member's clock.
        organization.quiet_start, organization.quiet_end = (minutes - 60) % 1440, (minutes + 120) % 1440
        session.add(organization)
        await session.commit()
        cached = harness.app.dispatcher["organization"]
        cached.quiet_start, cached.quiet_end = organization.quiet_start, organization.quiet_end

    card = await composer(harness, organizer, "Assembly on Sunday")
    confirm = await harness.choose(organizer, card, harness.t("📤 Send now", "en"))
    status = await harness.choose(organizer, confirm, harness.t("✅ Yes, send it", "en"))
    async with create_session_factory(harness.app.engine)() as session:
        last = (await session.exec(select(func.max(OutboxMessage.not_before)))).one()
    assert last is not None and last > utcnow() + timedelta(minutes=100)
    when = format_when(last, "en", zone, "short")
    expected = harness.t(
        "🌙 {count} message waits for the member's quiet hours to end (the last at {when}).",
        "en",
        "🌙 {count} messages wait for the members' quiet hours to end (the last at {when}).",
        4,
        count=4,
        when=when,
    )

    def explained(_: object) -> bool:
        return expected in harness.message(organizer, status["message_id"]).get("text", "")

    await harness.emulator.wait_for(explained, timeout=30)
    assert "0%" in harness.message(organizer, status["message_id"])["text"]

    listing = await harness.send(organizer, "/announcements")
    assert harness.t("📣 #{id}, being sent", "en", id=1) in listing["text"]
    assert expected in listing["text"]
    assert harness.emulator.errors == []

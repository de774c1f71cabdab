"""One status message per broadcast (issue 11, defect 6): created once — by the organizer's Send,
or by the progress job for a scheduled announcement —, edited as delivery goes, edited to the final
report. The progress job never posts a second one while the sender's "on its way" is still on its
way (held by a flood wait), and "✅ delivered" never arrives before "📣 on its way"."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.services.announcements import enqueue_announcement
from storage.db import create_session_factory
from storage.models import Announcement, AnnouncementStatus, Organization
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.helpers import our_organization

REPORT_TICKS = 3.5  # a little more than the engine's report interval (3 s)


def outgoing(harness: Harness, user) -> list[dict]:  # type: ignore[no-untyped-def]
    """What the bot told the organizer about the broadcast (they are in its audience too)."""
    return [
        m for m in harness.emulator.transcript(user.id) if m["outgoing"] and "#1" in (m.get("text") or "")
    ]


async def announcement(harness: Harness, author, **fields) -> tuple[int, Organization]:  # type: ignore[no-untyped-def]
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        row = Announcement(
            organization_id=organization.id or 0,
            author_chat_id=author.id,
            text="Big news",
            urgent=True,
            **fields,
        )
        session.add(row)
        await session.commit()
        return row.id or 0, organization


async def test_progress_waits_for_the_senders_status_message_then_edits_it(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    organizer = await registered("Fatou", "en")
    for name in ("Amina", "Ivan", "Kofi"):
        await registered(name, "en")
    ident, organization = await announcement(harness, organizer)
    # The organizer pressed Send: the announcement is claimed, and their "on its way" message is
    # still on its way (held by a flood wait) when the progress job ticks.
    async with create_session_factory(harness.app.engine)() as session:
        row = await session.get(Announcement, ident)
        assert row is not None
        await enqueue_announcement(session, row, organization, tell_sender=True)
        await session.commit()
    harness.app.delivery.wake()
    await asyncio.sleep(2 * REPORT_TICKS)
    assert outgoing(harness, organizer) == [], "no second status message, no early final report"
    async with create_session_factory(harness.app.engine)() as session:
        assert (await session.get(Announcement, ident)).status == AnnouncementStatus.SENDING  # type: ignore[union-attr]

    # The sender's message arrives: it becomes the one status message, edited to the final report.
    status = await harness.app.bot.send_message(
        organizer.id, "📣 Announcement #1 is on its way to 4 members."
    )
    from bot.services.announcements import store_status_message

    async with create_session_factory(harness.app.engine)() as session:
        assert await store_status_message(session, ident, status.message_id)
        await session.commit()

    def delivered(_: object) -> bool:
        return harness.message(organizer, status.message_id).get("text", "").startswith("✅ Announcement #1")

    await harness.emulator.wait_for(delivered, timeout=20)
    assert [m["message_id"] for m in outgoing(harness, organizer) if "Announcement" in m.get("text", "")] == [
        status.message_id
    ]


async def test_a_scheduled_announcement_gets_one_status_message_edited_to_its_report(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    organizer = await registered("Fatou", "en")
    for index in range(3):
        await registered(f"Member {index}", "en")
    ident, _ = await announcement(
        harness, organizer, status=AnnouncementStatus.SCHEDULED, scheduled_at=utcnow() - timedelta(seconds=1)
    )

    def finished(_: object) -> bool:
        texts = [m.get("text", "") for m in outgoing(harness, organizer)]
        return any(text.startswith("✅ Announcement #1") for text in texts)

    await harness.emulator.wait_for(finished, timeout=30)
    await asyncio.sleep(REPORT_TICKS)
    status_messages = [m for m in outgoing(harness, organizer) if "#1" in m.get("text", "")]
    assert len(status_messages) == 1, [m.get("text") for m in status_messages]
    async with create_session_factory(harness.app.engine)() as session:
        row = (await session.exec(select(Announcement).where(Announcement.id == ident))).one()
    assert row.status == AnnouncementStatus.SENT and row.status_message_id == status_messages[0]["message_id"]

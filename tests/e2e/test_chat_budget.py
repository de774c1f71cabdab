"""Direct replies and the outbox share each chat's budget: a member who taps and types quickly
while announcements are going to their own chat provokes no 429 from Telegram (the emulator's
flood control: about one message per second per private chat, short bursts tolerated)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.services.announcements import enqueue_announcement
from storage.db import create_session_factory
from storage.models import Announcement
from tests.e2e.conftest import Harness, start_harness
from tests.e2e.helpers import our_organization

ANNOUNCEMENTS = 4
COMMANDS = 6


async def announce(harness: Harness, author_chat_id: int, text: str) -> None:
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        announcement = Announcement(
            organization_id=organization.id or 0, author_chat_id=author_chat_id, text=text, urgent=True
        )
        session.add(announcement)
        await session.flush()
        await enqueue_announcement(session, announcement, organization)
        await session.commit()


@pytest.fixture
async def harness(migrated_url: str) -> AsyncIterator[Harness]:
    """The real per-chat pacing (a second between two messages): flood control is turned on below."""
    async for running in start_harness(migrated_url, chat_interval=1.0):
        yield running


async def test_a_member_typing_during_notices_to_their_chat_provokes_no_429(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    member = await registered("Kofi", "en")
    author = harness.emulator.create_user("Author", language_code="en")
    harness.emulator.limits.flood_control = True  # Telegram's limits from here on
    for number in range(ANNOUNCEMENTS):
        await announce(harness, author.id, f"Notice {number}")
    harness.app.delivery.wake()
    await harness.emulator.wait_for(
        lambda emu: any(m["outgoing"] for m in emu.transcript(member.id)), timeout=10
    )
    for number in range(COMMANDS):  # quick commands while the notices are going out
        await harness.emulator.send_text(member, "/help" if number % 2 else "/start")
        await asyncio.sleep(0.1)

    def all_there(_: object) -> bool:
        texts = [m.get("text", "") for m in harness.emulator.transcript(member.id) if m["outgoing"]]
        notices = [text for text in texts if text.startswith("Notice ")]
        return len(notices) == ANNOUNCEMENTS and len(texts) == ANNOUNCEMENTS + COMMANDS

    await harness.emulator.wait_for(all_there, timeout=60)
    flood = [call for call in harness.emulator.errors if call.error_code == 429]
    assert flood == [], [(call.method, call.params.get("chat_id")) for call in flood]

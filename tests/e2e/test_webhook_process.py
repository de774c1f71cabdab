"""Webhook mode with real processes: an update acknowledged with 200 is handled exactly once, even
when the process is killed with SIGKILL right after acknowledging it; an update posted twice gets
one reply; a post without the secret is refused and logged without its body; SIGTERM stops the
bot gracefully (exit 0) in the middle of a broadcast, giving back what it had not sent."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from bot.sandbox import BotAPIEmulator
from storage.db import create_engine, create_session_factory
from storage.models import DeliveryStatus, InboxStatus, InboxUpdate, OutboxMessage
from storage.types import utcnow
from tests.e2e.helpers import broadcast_waiting, copies_sent
from tests.e2e.webhook_helpers import BotProcess, command_update, post_update, replies_to

# The bot process in webhook mode, killed or stopped mid-work: out of the parallel run, beside it
# (`make test`); the tests wait on conditions, and their one bound (a graceful stop under 15 s) is
# far from what a loaded machine takes.
pytestmark = pytest.mark.serial


async def _inbox_row(database_url: str, update_id: int) -> InboxUpdate | None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await session.get(InboxUpdate, update_id)
    finally:
        await engine.dispose()


async def test_acknowledged_update_survives_sigkill_and_a_repeated_update_gets_one_reply(
    emulator: BotAPIEmulator, tmp_path: Path, migrated_url: str
) -> None:
    database_url = migrated_url
    ana = emulator.create_user("Ana", language_code="en")
    ben = emulator.create_user("Ben", language_code="en")
    engine = create_engine(database_url)
    # Ben's chat is busy with an update a dead process claimed (and handled): Ben's next update
    # waits in the inbox until that claim passes the lease, so the kill below surely comes after
    # the 200 and before the handling.
    async with create_session_factory(engine)() as session:
        now = utcnow()
        session.add(
            InboxUpdate(
                update_id=1,
                chat_key=f"c{ben.id}",
                kind="message",
                payload={},
                status=InboxStatus.CLAIMED,
                claimed_by="dead-process",
                claimed_at=now,
                handled_at=now,
            )
        )
        await session.commit()
    await engine.dispose()

    first = BotProcess(emulator, tmp_path, database_url)  # default lease: 60 s
    try:
        await first.ready()
        url = f"{first.base}/telegram"
        # The same update posted three times (twice at once): one reply.
        repeated = command_update(700_001, ana, "/start", message_id=1)
        statuses = await asyncio.gather(post_update(url, repeated), post_update(url, repeated))
        assert statuses == [200, 200]
        await emulator.wait_for(lambda emu: len(replies_to(emu, ana.id)) >= 1, timeout=30)
        assert await post_update(url, repeated) == 200
        # A post without the secret, or with a wrong one: refused, body not logged.
        secret_text = command_update(700_002, ana, "/start PRIVATE-BODY-TEXT", message_id=2)
        assert await post_update(url, secret_text, secret=None) == 401
        assert await post_update(url, secret_text, secret="wrong") == 401

        waiting = command_update(700_010, ben, "/start", message_id=1)
        assert await post_update(url, waiting) == 200
        row = await _inbox_row(database_url, 700_010)
        assert row is not None and row.status == InboxStatus.PENDING
    finally:
        assert await first.stop(signal.SIGKILL) == -signal.SIGKILL
    await asyncio.sleep(1.0)
    assert len(replies_to(emulator, ana.id)) == 1, (
        "an update delivered three times was answered more than once"
    )
    assert replies_to(emulator, ben.id) == [], "the waiting update should not have been handled yet"
    assert "webhook_refused" in first.log and "PRIVATE-BODY-TEXT" not in first.log

    # Restarted with a short lease: the dead claim is finished (it was handled), Ben's update is
    # handled once, and Telegram's redelivery of it changes nothing.
    second = BotProcess(emulator, tmp_path, database_url, DELIVERY_LEASE_SECONDS="2")
    try:
        await second.ready()
        await emulator.wait_for(lambda emu: len(replies_to(emu, ben.id)) >= 1, timeout=30)
        assert await post_update(f"{second.base}/telegram", waiting) == 200
        assert await post_update(f"{second.base}/telegram", repeated) == 200
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{second.base}/healthz") as response:
                health = await response.json()
                assert response.status == 200, health
            async with http.get(f"{second.base}/metrics") as response:
                metrics = await response.text()
        await asyncio.sleep(1.5)
    finally:
        assert await second.stop() == 0
    assert len(replies_to(emulator, ben.id)) == 1
    assert len(replies_to(emulator, ana.id)) == 1
    assert health["checks"] == {"database": "ok", "scheduler": "ok", "delivery": "ok", "inbox": "ok"}
    assert 'diaspora_bridge_updates_total{handler="start.start",outcome="ok",type="message"}' in metrics
    assert 'diaspora_bridge_webhook_requests_total{result="duplicate"}' in metrics
    row = await _inbox_row(database_url, 700_010)
    assert row is not None and row.status == InboxStatus.DONE and row.attempts == 1
    assert "stopped" in second.log and "Traceback" not in first.log + second.log


async def test_sigterm_mid_broadcast_exits_cleanly_and_gives_back_the_rest(
    emulator: BotAPIEmulator, tmp_path: Path, migrated_url: str
) -> None:
    database_url = migrated_url
    await broadcast_waiting(emulator, database_url, 120, "News")
    engine = create_engine(database_url)

    def sent() -> Counter[int]:
        return copies_sent(emulator, "News")

    bot = BotProcess(emulator, tmp_path, database_url)
    try:
        await bot.ready()
        await emulator.wait_for(lambda _: sum(sent().values()) >= 30, timeout=60)
        loop = asyncio.get_running_loop()
        started = loop.time()
        code = await bot.stop(signal.SIGTERM)
        took = loop.time() - started
    finally:
        await bot.stop(signal.SIGKILL)
    assert code == 0, bot.log
    assert took < 15, f"the graceful stop took {took:.1f} s"
    async with create_session_factory(engine)() as session:
        statuses = Counter((await session.exec(select(OutboxMessage.status))).all())
        claimed = (
            await session.exec(select(InboxUpdate).where(InboxUpdate.status == InboxStatus.CLAIMED))
        ).all()
    await engine.dispose()
    counts = sent()
    assert max(counts.values()) == 1
    assert statuses[DeliveryStatus.SENDING] == 0, "claims not given back at the stop"
    assert statuses[DeliveryStatus.SENT] == sum(counts.values())
    assert statuses[DeliveryStatus.PENDING] == 120 - sum(counts.values()) > 0
    assert claimed == []
    assert "stopped" in bot.log and "Traceback" not in bot.log

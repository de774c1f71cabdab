"""Long polling through the inbox: getUpdates failing (5xx, 409 conflict) is logged and retried
with backoff, never fatal, and no update is lost or handled twice on the way."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from sqlmodel import select

from bot.sandbox import BotAPIEmulator, Faults
from storage.db import create_session_factory
from storage.models import InboxStatus, InboxUpdate
from tests.e2e.conftest import TOKEN, start_harness


async def test_failing_get_updates_is_retried_and_every_update_handled_once(
    migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    faults = Faults(error_rate=1.0, seed=11, methods=frozenset({"getUpdates"}))  # 500 or 502
    async for harness in start_harness(migrated_url, faults=faults):
        emulator = harness.emulator
        users = [emulator.create_user(f"Poll{i}", language_code="en") for i in range(3)]
        for user in users:
            await emulator.send_text(user, "/start")
        await emulator.wait_for(lambda emu: _failed(emu, 500, 502) >= 3, timeout=60)
        emulator.faults.error_rate = 0.0  # Telegram is back
        for user in users:
            await harness.reply(user, timeout=90)
        # A second client polls the same bot: the bot's long poll ends in 409, and it polls again.
        async with aiohttp.ClientSession() as http:
            await emulator.wait_for(lambda emu: _polling(emu), timeout=60)
            async with http.get(f"{emulator.base_url}/bot{TOKEN}/getUpdates", params={"timeout": "0"}):
                pass
        await emulator.wait_for(lambda emu: _failed(emu, 409) >= 1, timeout=30)
        late = emulator.create_user("Late", language_code="en")
        await emulator.send_text(late, "/start")
        await harness.reply(late, timeout=90)
        sessions = create_session_factory(harness.app.engine)
        for _ in range(100):  # the last update is finished just after its reply
            async with sessions() as session:
                rows = (await session.exec(select(InboxUpdate.status))).all()
            if set(rows) == {InboxStatus.DONE}:
                break
            await asyncio.sleep(0.1)
        assert len(rows) == 4 and set(rows) == {InboxStatus.DONE}, rows
        for user in [*users, late]:
            said = [m for m in emulator.transcript(user.id) if m["outgoing"]]
            assert len(said) == 1, f"{user.first_name} was answered {len(said)} times"
    assert any(record.getMessage() == "poll_failed" for record in caplog.records)
    assert not any(record.exc_info for record in caplog.records if record.name.startswith("bot.web"))


def _polling(emulator: BotAPIEmulator) -> bool:
    """Whether a long poll of the bot is waiting right now."""
    return any(call.method == "getUpdates" and call.ok is None for call in emulator.calls)


def _failed(emulator: BotAPIEmulator, *codes: int) -> int:
    """How many long polls of the bot failed with one of these status codes."""
    return sum(1 for call in emulator.calls if call.method == "getUpdates" and call.error_code in codes)

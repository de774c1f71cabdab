"""Flood control (429 with retry_after) and reproducible fault injection."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError

from bot.sandbox import BotAPIEmulator, Faults, Limits

if TYPE_CHECKING:
    from conftest import RawApi


@pytest.fixture
async def flooded() -> AsyncIterator[BotAPIEmulator]:
    """An emulator with the default limits (flood control on)."""
    async with BotAPIEmulator() as emulator:
        yield emulator


async def send(session: aiohttp.ClientSession, emu: BotAPIEmulator, chat_id: int, text: str = "x") -> dict:
    url = f"{emu.base_url}/bot{emu.token}/sendMessage"
    async with session.post(url, json={"chat_id": chat_id, "text": text}) as response:
        body = await response.json()
        assert body.get("error_code", 200) == response.status
        return body


async def test_private_chat_tolerates_a_short_burst_then_429(flooded: BotAPIEmulator) -> None:
    assert flooded.limits.flood_control is True
    user = flooded.create_user("Amina")
    async with aiohttp.ClientSession() as session:
        answers = [await send(session, flooded, user.id) for _ in range(4)]
    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[3] == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert [m["text"] for m in flooded.transcript(user)] == ["x"] * 3  # the refused message was not sent


async def test_aiogram_gets_retry_after(flooded: BotAPIEmulator) -> None:
    user = flooded.create_user("Amina")
    async with Bot(
        flooded.token, session=AiohttpSession(api=TelegramAPIServer.from_base(flooded.base_url))
    ) as bot:
        for _ in range(3):
            await bot.send_message(user.id, "hi")
        with pytest.raises(TelegramRetryAfter) as error:
            await bot.send_message(user.id, "one too many")
        assert error.value.retry_after >= 1


async def test_group_limit_is_per_minute(flooded: BotAPIEmulator) -> None:
    user = flooded.create_user("Amina")
    group = flooded.create_group("Lyon", members=[user])
    async with aiohttp.ClientSession() as session:
        answers = [await send(session, flooded, group.id) for _ in range(21)]
    assert all(a["ok"] for a in answers[:20])
    assert answers[20]["error_code"] == 429 and answers[20]["parameters"]["retry_after"] == 3


async def test_global_limit_across_chats() -> None:
    async with BotAPIEmulator(
        limits=Limits(global_per_second=5, private_burst=100, private_per_second=100)
    ) as emu:
        users = [emu.create_user(f"U{i}") for i in range(6)]
        async with aiohttp.ClientSession() as session:
            answers = [await send(session, emu, user.id) for user in users]
        assert [a["ok"] for a in answers] == [True] * 5 + [False]
        assert answers[5]["parameters"]["retry_after"] == 1


async def test_disabling_flood_control_allows_bursts(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    for number in range(50):
        await api.ok("sendMessage", chat_id=user.id, text=str(number))
    assert len(emu.transcript(user)) == 50


async def test_edits_are_not_counted_unless_asked(flooded: BotAPIEmulator) -> None:
    user = flooded.create_user("Amina")
    async with aiohttp.ClientSession() as session:
        message_id = (await send(session, flooded, user.id))["result"]["message_id"]
        url = f"{flooded.base_url}/bot{flooded.token}/editMessageText"
        for number in range(6):
            async with session.post(
                url, json={"chat_id": user.id, "message_id": message_id, "text": str(number)}
            ) as r:
                assert (await r.json())["ok"]
        flooded.limits = Limits(count_edits=True)
        statuses = []
        for number in range(6):
            async with session.post(
                url, json={"chat_id": user.id, "message_id": message_id, "text": f"e{number}"}
            ) as r:
                statuses.append(r.status)
    assert statuses == [200, 200, 200, 429, 429, 429]


async def statuses_for(faults: Faults, count: int = 30) -> list[int]:
    async with BotAPIEmulator(limits=Limits(flood_control=False), faults=faults) as emu:
        user = emu.create_user("Amina")
        async with aiohttp.ClientSession() as session:
            url = f"{emu.base_url}/bot{emu.token}/sendMessage"
            result = []
            for _ in range(count):
                async with session.post(url, json={"chat_id": user.id, "text": "x"}) as response:
                    body = await response.json()
                    if not body["ok"]:
                        assert (
                            body["description"]
                            == {500: "Internal Server Error", 502: "Bad Gateway"}[response.status]
                        )
                    result.append(response.status)
        return result


async def test_random_server_errors_are_reproducible_with_a_seed() -> None:
    first = await statuses_for(Faults(error_rate=0.4, seed=11))
    assert first == await statuses_for(Faults(error_rate=0.4, seed=11))
    assert first != await statuses_for(Faults(error_rate=0.4, seed=12))
    assert set(first) == {200, 500, 502}
    assert await statuses_for(Faults(error_rate=0.0, seed=11)) == [200] * 30


async def test_fault_methods_filter_and_slow_answers(api: RawApi, emu: BotAPIEmulator) -> None:
    emu.faults = Faults(error_rate=1.0, methods=frozenset({"sendMessage"}))
    user = emu.create_user("Amina")
    assert (await api("sendMessage", chat_id=user.id, text="x"))[0] in (500, 502)
    assert (await api.ok("getMe"))["username"] == "diaspora_bridge_bot"
    emu.faults = Faults(slow_rate=1.0, slow_seconds=0.3)
    started = time.monotonic()
    await api.ok("getMe")
    assert time.monotonic() - started >= 0.3


async def test_server_errors_reach_aiogram(emu: BotAPIEmulator) -> None:
    emu.faults = Faults(error_rate=1.0)
    async with Bot(emu.token, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))) as bot:
        with pytest.raises(TelegramServerError):
            await bot.get_me()


async def test_chat_faults_can_change_at_run_time(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    emu.faults.blocked_chats.add(user.id)
    assert await api.error("sendMessage", chat_id=user.id, text="x") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    assert (await api.ok("getChat", chat_id=user.id))["id"] == user.id  # reading still works
    emu.faults.blocked_chats.clear()
    emu.faults.missing_chats.add(user.id)
    assert await api.error("getChat", chat_id=user.id) == (400, "Bad Request: chat not found")
    assert await api.error("sendMessage", chat_id=555, text="x") == (400, "Bad Request: chat not found")
    emu.faults.missing_chats.clear()
    await api.ok("sendMessage", chat_id=user.id, text="x")

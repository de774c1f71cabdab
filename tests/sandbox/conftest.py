"""Fixtures for the Bot API emulator tests: a running emulator, raw HTTP access and an aiogram Bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.sandbox import BotAPIEmulator, Limits

TOKEN = "123456:TEST"


class RawApi:
    """Calls the emulator over plain HTTP, the way any client would."""

    def __init__(self, session: aiohttp.ClientSession, emu: BotAPIEmulator) -> None:
        self.session = session
        self.emu = emu

    async def __call__(
        self,
        method: str,
        *,
        token: str = TOKEN,
        files: dict[str, tuple[str, bytes]] | None = None,
        **params: Any,
    ) -> tuple[int, dict[str, Any]]:
        """POST ``params`` as JSON, or with ``files`` as multipart (nested values in JSON, like aiogram)."""
        url = f"{self.emu.base_url}/bot{token}/{method}"
        if files is None:
            async with self.session.post(url, json=params) as response:
                return response.status, await response.json()
        form = aiohttp.FormData()
        for key, value in params.items():
            form.add_field(key, value if isinstance(value, str) else json.dumps(value))
        for key, (file_name, data) in files.items():
            form.add_field(key, data, filename=file_name)
        async with self.session.post(url, data=form) as response:
            return response.status, await response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self(method, **params)
        assert status == 200 and body["ok"], body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self(method, **params)
        assert not body["ok"] and body["error_code"] == status, body
        return status, body["description"]


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    """A running emulator without flood control (tests of flood control make their own)."""
    async with BotAPIEmulator(token=TOKEN, limits=Limits(flood_control=False)) as emulator:
        yield emulator


@pytest.fixture
async def api(emu: BotAPIEmulator) -> AsyncIterator[RawApi]:
    async with aiohttp.ClientSession() as session:
        yield RawApi(session, emu)


def make_bot(emu: BotAPIEmulator, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url)))


@pytest.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    """An aiogram Bot talking to the emulator."""
    client = make_bot(emu)
    yield client
    await client.session.close()

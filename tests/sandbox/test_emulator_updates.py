"""Getting updates: long polling, confirmation by offset, allowed_updates and webhooks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from bot.sandbox import BotAPIEmulator, Limits

if TYPE_CHECKING:
    from conftest import RawApi

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


async def test_long_poll_wakes_as_soon_as_an_update_arrives(api: RawApi, emu: BotAPIEmulator) -> None:
    """A poll parked for an hour returns the update sent while it waits: woken by it, not by its
    timeout (no bound on how fast: a poll that is not woken would outlast the 60 s hang guard)."""
    user = emu.create_user("Amina", username="amina", language_code="ar")
    poll = asyncio.create_task(api.ok("getUpdates", timeout=3600))
    await emu.wait_for(lambda e: any(c.method == "getUpdates" and c.ok is None for c in e.calls))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await emu.send_text(user, "/start event_12")
    updates = await asyncio.wait_for(poll, 60)  # a hang guard: woken, it returns at once
    message = updates[0]["message"]
    assert message["text"] == "/start event_12"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert message["chat"] == {"id": user.id, "type": "private", "first_name": "Amina", "username": "amina"}
    assert message["from"] == {
        "id": user.id,
        "is_bot": False,
        "first_name": "Amina",
        "username": "amina",
        "language_code": "ar",
    }
    assert abs(message["date"] - time.time()) < 5


async def test_long_poll_times_out_empty(api: RawApi) -> None:
    """An empty poll waits out its timeout (at least that long: a busy machine only adds to it)."""
    started = time.monotonic()
    assert await api.ok("getUpdates", timeout=1) == []
    assert time.monotonic() - started >= 0.9


async def test_offset_confirms_updates(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    for text in ("one", "two", "three"):
        await emu.send_text(user, text)
    updates = await api.ok("getUpdates")
    ids = [u["update_id"] for u in updates]
    assert [u["message"]["text"] for u in updates] == ["one", "two", "three"]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert await api.ok("getUpdates") == updates  # not confirmed yet: delivered again
    assert [u["update_id"] for u in await api.ok("getUpdates", offset=ids[1], limit=1)] == [ids[1]]
    assert await api.ok("getUpdates", offset=ids[2] + 1) == []
    assert emu.pending_updates == []
    await emu.send_text(user, "four")
    await emu.send_text(user, "five")
    assert [u["message"]["text"] for u in await api.ok("getUpdates", offset=-1)] == ["five"]


async def test_allowed_updates_filter(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    assert await api.ok("getUpdates", allowed_updates=["callback_query"]) == []
    await emu.send_text(user, "ignored")
    sent = await api.ok(
        "sendMessage",
        chat_id=user.id,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
    )
    await emu.press_button(user, sent, text="A")
    updates = await api.ok("getUpdates")
    assert [next(k for k in u if k != "update_id") for u in updates] == ["callback_query"]


async def test_second_poller_terminates_the_first(api: RawApi, emu: BotAPIEmulator) -> None:
    first = asyncio.create_task(api("getUpdates", timeout=10))
    await emu.wait_for(lambda e: any(c.method == "getUpdates" and c.ok is None for c in e.calls))
    second = asyncio.create_task(api("getUpdates", timeout=1))
    status, body = await asyncio.wait_for(first, 2)
    assert (status, body["description"]) == (
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    )
    assert (await second)[1]["result"] == []


@pytest.fixture
async def receiver() -> AsyncIterator[dict[str, Any]]:
    """A tiny webhook endpoint on 127.0.0.1 that records what it gets and can fail or answer with a method."""
    state: dict[str, Any] = {"received": [], "fail": 0, "answer": None}

    async def handle(request: web.Request) -> web.Response:
        state["received"].append((dict(request.headers), await request.json()))
        if state["fail"]:
            state["fail"] -= 1
            return web.Response(status=500)
        answer, state["answer"] = state["answer"], None
        return web.json_response(answer or {})

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    state["url"] = f"http://{host}:{port}/hook"
    yield state
    await runner.cleanup()


async def test_webhook_delivery_with_secret_and_retries(
    api: RawApi, emu: BotAPIEmulator, receiver: dict[str, Any]
) -> None:
    emu.limits = Limits(flood_control=False, webhook_retry_base=0.05)
    user = emu.create_user("Amina")
    status, body = await api("setWebhook", url=receiver["url"], secret_token="s3cret_T-1")
    assert (status, body) == (200, {"ok": True, "result": True, "description": "Webhook was set"})
    assert await api.error("getUpdates") == (409, WEBHOOK_CONFLICT)
    receiver["fail"] = 2
    await emu.send_text(user, "hello hook")
    await emu.wait_for(lambda e: len(receiver["received"]) == 3 and not e.pending_updates)
    headers, update = receiver["received"][-1]
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret_T-1"
    assert update["message"]["text"] == "hello hook"
    assert [u["update_id"] for _, u in receiver["received"]] == [update["update_id"]] * 3
    info = await api.ok("getWebhookInfo")
    assert info["url"] == receiver["url"] and info["pending_update_count"] == 0
    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    receiver["answer"] = {
        "method": "sendMessage",
        "chat_id": user.id,
        "text": "answered in the webhook reply",
    }
    await emu.send_text(user, "again")
    reply = await emu.next_bot_message(user)
    assert reply["text"] == "answered in the webhook reply"
    assert emu.calls[-1].source == "webhook"
    assert await api.ok("deleteWebhook") is True
    assert await api.ok("getUpdates") == []


async def test_webhook_url_and_secret_are_checked(api: RawApi) -> None:
    assert await api.error("setWebhook", url="ftp://example.org") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    assert await api.error("setWebhook", url="https://example.org", secret_token="no spaces") == (
        400,
        "Bad Request: secret token contains unallowed characters",
    )
    _, body = await api("deleteWebhook")
    assert body["description"] == "Webhook is already deleted"

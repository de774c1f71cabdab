"""`bot.dispatch_chain`: the chains of middlewares an update goes through are composed once, not
for every update, and still run every middleware registered, in aiogram's order, including one
registered after the first update."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.filters import Command
from aiogram.types import Chat, Message, Update, User

from bot.routing_gates import gate_routing

USER = User(id=7, is_bot=False, first_name="Amina")


def _update(update_id: int, bot: Bot) -> Update:
    message = Message(
        message_id=update_id,
        date=datetime(2026, 1, 1, tzinfo=UTC),
        chat=Chat(id=7, type="private"),
        from_user=USER,
        text="/help",
    )
    return Update.model_validate(
        Update(update_id=update_id, message=message).model_dump(), context={"bot": bot}
    )


def _recorder(name: str, log: list[str]) -> Any:
    async def middleware(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        log.append(name)
        return await handler(event, data)

    return middleware


async def test_chains_are_composed_once_and_follow_new_middlewares(monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[str] = []
    feature, other = Router(name="feature"), Router(name="other")

    @other.message(Command("start"))
    async def start(message: Message) -> str:
        return "start"

    @feature.message(Command("help"))
    async def show_help(message: Message) -> str:
        log.append("handler")
        return "help"

    dispatcher = Dispatcher()
    dispatcher.update.outer_middleware(_recorder("outer", log))
    dispatcher.message.middleware(_recorder("inner", log))
    dispatcher.include_routers(other, feature)
    gate_routing(dispatcher)
    bot = Bot("42:TEST")
    composed = 0
    wrap = MiddlewareManager.wrap_middlewares

    def counted(middlewares: Any, handler: Any) -> Any:
        nonlocal composed
        composed += 1
        return wrap(middlewares, handler)

    monkeypatch.setattr(MiddlewareManager, "wrap_middlewares", staticmethod(counted))
    assert await dispatcher.feed_update(bot, _update(1, bot)) == "help"
    first = composed
    assert await dispatcher.feed_update(bot, _update(2, bot)) == "help"
    assert composed == first  # nothing composed again for the second update
    assert log == ["outer", "inner", "handler"] * 2

    log.clear()
    feature.message.middleware(_recorder("late", log))  # a middleware of the running dispatcher
    assert await dispatcher.feed_update(bot, _update(3, bot)) == "help"
    assert log == ["outer", "inner", "late", "handler"]
    await bot.session.close()


async def test_only_filters_there_are_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """A router with no filters of its own, a handler with none, and the handlers the routing gates
    keep out cost no check; the handler's own filters are checked as before."""
    from aiogram.dispatcher.event.handler import HandlerObject

    feature, other = Router(name="feature"), Router(name="other")
    feature.include_router(Router(name="below"))

    @other.message(Command("start"))
    async def start(message: Message) -> str:
        return "start"

    @feature.message(Command("help"))
    async def show_help(message: Message) -> str:
        return "help"

    dispatcher = Dispatcher()
    dispatcher.include_routers(other, feature)
    gate_routing(dispatcher)
    bot = Bot("42:TEST")
    checked: list[Any] = []
    check = HandlerObject.check

    async def counted(self: HandlerObject, *args: Any, **kwargs: Any) -> Any:
        checked.append(self.callback)
        return await check(self, *args, **kwargs)

    monkeypatch.setattr(HandlerObject, "check", counted)
    assert await dispatcher.feed_update(bot, _update(1, bot)) == "help"
    assert checked == [show_help]
    await bot.session.close()


async def test_an_update_reaches_its_handler_through_few_frames() -> None:
    """Each frame between the Dispatcher and the handler is entered again whenever the handler's
    work resumes (each statement, each Bot API call): none for aiogram's `CallableObject.call`,
    nor a router's `propagate_event` below the Dispatcher's."""
    seen: list[str] = []
    feature, inner = Router(name="feature"), Router(name="inner")
    feature.include_router(inner)

    @inner.message(Command("help"))
    async def show_help(message: Message, event: str) -> str:
        assert event == "a row"  # data named like aiogram's own parameters reaches the handler
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "feed_update":
            seen.append(frame.f_code.co_qualname)
            frame = frame.f_back
        return "help"

    async def loads(handler: Any, message: Any, data: dict[str, Any]) -> Any:
        data["event"] = "a row"  # as RightsMiddleware puts an Event row the button names
        return await handler(message, data)

    dispatcher = Dispatcher()
    dispatcher.message.middleware(loads)
    dispatcher.include_routers(Router(name="other"), feature)
    gate_routing(dispatcher)
    bot = Bot("42:TEST")
    assert await dispatcher.feed_update(bot, _update(1, bot)) == "help"
    assert "CallableObject.call" not in seen
    assert [name for name in seen if name.endswith(".propagate_event")] == ["GatedRouter.propagate_event"]
    assert "test_an_update_reaches_its_handler_through_few_frames.<locals>.loads" in seen
    assert [name for name in seen if name.endswith("._propagate_event")] == [
        "GatedRouter._propagate_event"
    ] * 3
    await bot.session.close()

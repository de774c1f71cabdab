"""`bot.routing_gates` for button presses: a press skips the routers that cannot take it, and
reaches the same handler as before (written for the first version, `bot.callback_routing`, which
gated presses only; gated routing took its place)."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, User

from bot.routing_gates import gate_routing


class Alpha(CallbackData, prefix="a"):
    action: str


class Beta(CallbackData, prefix="b", sep="|"):
    action: str
    id: int


def press(data: str | None) -> CallbackQuery:
    user = User(id=1, is_bot=False, first_name="A")
    return CallbackQuery(id="1", from_user=user, chat_instance="c", data=data)


def dispatcher(*routers: Router) -> Dispatcher:
    root = Dispatcher()
    root.include_routers(*routers)
    return root


async def test_a_press_reaches_its_handler_past_other_routers() -> None:
    alpha, beta, inner = Router(name="alpha"), Router(name="beta"), Router(name="inner")
    entered: list[str] = []

    @alpha.callback_query(Alpha.filter(F.action == "go"))
    async def on_alpha(query: CallbackQuery, callback_data: Alpha) -> str:
        return f"alpha {callback_data.action}"

    @inner.callback_query(Beta.filter())
    async def on_beta(query: CallbackQuery, callback_data: Beta) -> str:
        return f"beta {callback_data.id}"

    async def spy(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        entered.append(data["event_router"].name)
        return await handler(event, data)

    beta.include_router(inner)
    root = dispatcher(alpha, beta)
    inner.callback_query.middleware(spy)  # an inner middleware: routing is unchanged
    assert gate_routing(root) == 2
    assert gate_routing(root) == 2  # idempotent
    assert await root.propagate_event("callback_query", press("b|x|7")) == "beta 7"
    assert entered == ["inner"]
    assert await root.propagate_event("callback_query", press("a:go")) == "alpha go"
    for refused in ("a:stop", "a", "b:x:7", "c:go", "", None):
        assert await root.propagate_event("callback_query", press(refused)) is UNHANDLED


async def test_routers_that_may_take_any_press_are_entered() -> None:
    catch_all, guarded, plain = Router(name="catch_all"), Router(name="guarded"), Router(name="plain")

    @catch_all.callback_query(F.data == "c:go")
    async def on_anything(query: CallbackQuery) -> str:
        return "caught"

    @plain.callback_query(Alpha.filter())
    async def on_alpha(query: CallbackQuery) -> str:
        return "alpha"

    async def outer(handler: Any, event: Any, data: dict[str, Any]) -> Any:
        return "outer" if event.data == "o:x" else await handler(event, data)

    guarded.callback_query.outer_middleware(outer)
    root = dispatcher(plain, guarded, catch_all)
    gate_routing(root)
    assert await root.propagate_event("callback_query", press("c:go")) == "caught"
    assert await root.propagate_event("callback_query", press("o:x")) == "outer"
    assert await root.propagate_event("callback_query", press("a:x")) == "alpha"


async def test_a_press_is_unpacked_once_however_many_handlers_it_is_tried_against(
    monkeypatch: Any,
) -> None:
    """Given four handlers of one callback data class, the last of them taking the press, when
    it is routed, then its data was unpacked once (aiogram unpacks it in every filter), and the
    handler got it; the next press is unpacked again, and a press of another class too."""
    first, second = Router(name="first"), Router(name="second")
    unpacks: list[str] = []
    unpack = Alpha.unpack.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Alpha], value: str) -> Alpha:
        unpacks.append(value)
        return unpack(cls, value)

    monkeypatch.setattr(Alpha, "unpack", classmethod(counting))
    for router, actions in ((first, ("one", "two")), (second, ("three", "four"))):
        for action in actions:

            @router.callback_query(Alpha.filter(F.action == action))
            async def on_alpha(query: CallbackQuery, callback_data: Alpha, action: str = action) -> str:
                assert callback_data.action == action
                return f"took {action}"

    root = dispatcher(first, second)
    gate_routing(root)
    assert await root.propagate_event("callback_query", press("a:four")) == "took four"
    assert unpacks == ["a:four"]
    assert await root.propagate_event("callback_query", press("a:four")) == "took four"
    assert await root.propagate_event("callback_query", press("a:five")) is UNHANDLED
    assert unpacks == ["a:four", "a:four", "a:five"]
    assert await root.propagate_event("callback_query", press("a:five:extra")) is UNHANDLED

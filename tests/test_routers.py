"""Each App includes a router tree of its own (`handlers.get_routers` copies what the modules
declare): a second App in the process, or one built after an App that failed half-built, never
finds a router already attached."""

from __future__ import annotations

from aiogram import Dispatcher

from bot.aiogram_tuning import inline_sync_filters
from handlers import get_routers


def _handlers(dispatcher: Dispatcher) -> list[str]:
    return [
        f"{router.name}.{name}:{handler.callback.__qualname__}"
        for router in dispatcher.chain_tail
        if router is not dispatcher
        for name, observer in router.observers.items()
        for handler in observer.handlers
    ]


def test_each_dispatcher_includes_routers_of_its_own() -> None:
    first, second = Dispatcher(), Dispatcher()
    first.include_routers(*get_routers())
    abandoned = Dispatcher()  # an App that failed after including its routers, never closed
    abandoned.include_routers(*get_routers())
    second.include_routers(*get_routers())

    assert _handlers(first) == _handlers(second)
    assert len(_handlers(first)) > 100
    ours = {id(router) for router in first.chain_tail}
    assert not ours & {id(router) for router in second.chain_tail}
    assert all(router.parent_router is first for router in first.sub_routers)
    assert all(
        observer.router is router for router in second.chain_tail for observer in router.observers.values()
    )
    # The filters made to run in the event loop for one tree are the other tree's to change too.
    changed = inline_sync_filters(first)
    assert changed > 0
    assert inline_sync_filters(second) == changed
    assert inline_sync_filters(first) == 0

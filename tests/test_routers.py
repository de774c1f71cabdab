"""Each App includes a router tree of its own (`handlers.get_routers` copies what the modules
declare while another holds them): a second App in the process, or one built after an App that
failed half-built, never finds a router already attached. (An App closed gives the declared routers
back: tests/e2e/test_app_reuse.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiogram import Dispatcher, Router

from bot.aiogram_tuning import inline_sync_filters
from handlers import get_routers, release_routers


@pytest.fixture
def dispatchers() -> Iterator[Callable[[], Dispatcher]]:
    """New dispatchers, which give the declared routers back at the end (as a closed App does): the
    later tests of the process take them rather than copies."""
    made: list[Dispatcher] = []

    def make() -> Dispatcher:
        made.append(Dispatcher())
        return made[-1]

    yield make
    for dispatcher in made:
        release_routers(dispatcher)


def _handlers(dispatcher: Dispatcher) -> list[str]:
    return [
        f"{router.name}.{name}:{handler.callback.__qualname__}"
        for router in dispatcher.chain_tail
        if router is not dispatcher
        for name, observer in router.observers.items()
        for handler in observer.handlers
    ]


def test_each_dispatcher_includes_routers_of_its_own(dispatchers: Callable[[], Dispatcher]) -> None:
    first, second = dispatchers(), dispatchers()
    first.include_routers(*get_routers())
    abandoned = dispatchers()  # an App that failed after including its routers, never closed
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
    # Each tree has filter objects of its own: what `inline_sync_filters` changes in one tree is the
    # other's to change too. (The first App of a process may have taken the declared routers, and
    # inlined their filters already: the count may be 0 when another test ran first.)
    assert not {id(item) for item in _filters(first)} & {id(item) for item in _filters(second)}
    changed = inline_sync_filters(first)
    assert inline_sync_filters(second) == changed
    assert inline_sync_filters(first) == 0


def test_the_first_tree_of_a_process_changes_for_later_ones_nothing_they_need(
    dispatchers: Callable[[], Dispatcher],
) -> None:
    """A later App copies the routers an earlier one took as declared (and changed: sync filters
    inlined, routing gated); its copies route on their own handlers."""
    from bot.routing_gates import gate_routing

    first, second = dispatchers(), dispatchers()
    first.include_routers(*get_routers())
    inline_sync_filters(first)
    gate_routing(first)
    second.include_routers(*get_routers())
    gate_routing(second)
    second_handlers = {id(handler) for router in second.chain_tail for handler in _all_handlers(router)}
    gated = [
        handler
        for router in second.chain_tail
        if router is not second
        for observer in router.observers.values()
        for handler, _ in getattr(observer, "gates", ())
    ]
    assert gated and all(id(handler) in second_handlers for handler in gated)


def _all_handlers(router: Router) -> list[Any]:
    return [handler for observer in router.observers.values() for handler in observer.handlers]


def _filters(dispatcher: Dispatcher) -> list[Any]:
    return [
        item
        for router in dispatcher.chain_tail
        if router is not dispatcher
        for handler in _all_handlers(router)
        for item in handler.filters or ()
    ]

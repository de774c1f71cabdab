"""A closed App gives its routers back (`handlers.release_routers`): the next App of the process
includes the routers the modules declare, as they are (no copy), and routes with them as the first
did: a command answered once, button presses gated on the tree it built. Copies only while another
App holds them: one alive, or one that failed half-built and was never closed."""

from __future__ import annotations

from contextlib import aclosing
from typing import Any

import pytest
from aiogram import Router

import bot.app
from bot.aiogram_tuning import detach_routers
from bot.config import Settings
from bot.i18n import language_name
from bot.routing_gates import GatedObserver
from handlers import _declared_routers, get_routers, release_routers
from tests.e2e.conftest import Harness, buttons, restart_bot, start_harness

STALE_TOAST = "This button is no longer active."  # bot.policy.STALE


def _free_declared() -> None:
    """Take the declared routers back from a dispatcher an earlier test of the process left holding
    them (a test process runs one test at a time: no App of another test is alive)."""
    for router in _declared_routers():
        if router.parent_router is not None:
            detach_routers(router.parent_router, _declared_routers())


def _declared(root: Router) -> bool:
    """Whether `root` includes the declared routers themselves, in order."""
    return [id(router) for router in root.sub_routers] == [id(router) for router in _declared_routers()]


def _tree(root: Router) -> list[Router]:
    return list(root.chain_tail)


async def _behaves(harness: Harness, name: str) -> None:
    """/help answered once; the language button of /start taken by its handler; a press no
    handler takes (or forged) answered as stale."""
    user = harness.emulator.create_user(name, language_code="en")
    helped = await harness.send(user, "/help")
    # The updates of a chat are handled in order: a second answer to /help would come before
    # the greeting.
    greeting = await harness.send(user, "/start")
    english = "📱 " + language_name("en")
    assert helped["text"] and english in buttons(greeting)
    await harness.press(user, greeting, english)
    notice = await harness.edited(user, greeting)
    assert harness.t("✅ I agree", "en") in buttons(notice)
    assert await harness.forge(user, notice, "zz:1") == harness.t(STALE_TOAST, "en")
    assert [m["message_id"] for m in harness.emulator.transcript(user.id) if m["outgoing"]] == [
        helped["message_id"],
        greeting["message_id"],
    ]
    assert not harness.apologized(user)


def _gated_on(root: Router) -> bool:
    """Every gate of `root`'s tree is computed for the handlers of that tree (and shares the
    tree's names)."""
    tree = _tree(root)
    handlers = {id(h) for router in tree for observer in router.observers.values() for h in observer.handlers}
    observers = [o for router in tree[1:] for o in router.observers.values() if isinstance(o, GatedObserver)]
    names = {id(observer.names) for observer in observers} | {id(router.names) for router in tree}  # type: ignore[attr-defined]
    return (
        bool(observers)
        and len(names) == 1
        and all(id(handler) in handlers for o in observers for handler, _ in o.gates)
    )


async def test_a_closed_app_gives_the_next_one_the_declared_routers(migrated_url: str) -> None:
    _free_declared()
    async with aclosing(start_harness(migrated_url)) as harnesses:  # stopped even on a failure
        harness = await anext(harnesses)
        first = harness.app.dispatcher
        assert _declared(first) and _gated_on(first)
        await _behaves(harness, "Awa")
        await restart_bot(harness)  # the first App closed, a second built on the same database
        second = harness.app.dispatcher
        assert not first.sub_routers and all(router.parent_router is second for router in second.sub_routers)
        assert _declared(second) and _gated_on(second)
        await _behaves(harness, "Binta")


async def test_an_app_built_while_another_is_alive_gets_copies(migrated_url: str) -> None:
    _free_declared()
    async with aclosing(start_harness(migrated_url)) as harnesses:  # stopped even on a failure
        harness = await anext(harnesses)
        first = harness.app.dispatcher
        assert _declared(first)
        other = await bot.app.create_app(harness.settings)
        try:
            second = other.dispatcher
            assert not _declared(second) and _gated_on(second)
            assert not {id(router) for router in _tree(first)} & {id(router) for router in _tree(second)}
        finally:
            await other.close()
        assert _declared(first) and _gated_on(first)  # the copies' App closing changes nothing here
        await _behaves(harness, "Chidi")


async def test_an_app_that_failed_half_built_leaves_the_next_one_working(
    migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _free_declared()
    engines: list[Any] = []
    real_engine, real_gates = bot.app.create_engine, bot.app.gate_routing

    def engine(url: str, **options: Any) -> Any:
        engines.append(real_engine(url, **options))
        return engines[-1]

    def failing(root: Router) -> int:
        raise RuntimeError("start-up failed after including the routers")

    monkeypatch.setattr(bot.app, "create_engine", engine)
    monkeypatch.setattr(bot.app, "gate_routing", failing)
    with pytest.raises(RuntimeError, match="after including the routers"):
        await bot.app.create_app(Settings(bot_token="1:x", database_url=migrated_url))
    monkeypatch.setattr(bot.app, "gate_routing", real_gates)
    for leftover in engines:
        await leftover.dispose()
    holder = _declared_routers()[0].parent_router
    assert holder is not None  # never closed: it keeps them
    try:
        async with aclosing(start_harness(migrated_url)) as harnesses:  # stopped even on a failure
            harness = await anext(harnesses)
            assert not _declared(harness.app.dispatcher) and _gated_on(harness.app.dispatcher)
            await _behaves(harness, "Dede")
    finally:
        released = release_routers(holder)  # for the tests after this one
    assert released == len(_declared_routers())
    assert all(router.parent_router is None for router in _declared_routers())
    assert get_routers() == list(_declared_routers())

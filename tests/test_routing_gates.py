"""Gated routing (`bot.routing_gates`) never keeps out a handler aiogram would have tried: for every
handler of the real routers, whenever its command, state and button-prefix filters pass on an
update, its gate lets the update through (and a router is skipped only when none of its handlers'
gates, nor any below it, does)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User

from bot.routing_gates import GatedObserver, GatedRouter, gate_routing
from handlers import get_routers, release_routers

USER = User(id=7, is_bot=False, first_name="Amina")


class _Bot:
    """What `Command` asks a bot: its username, for a command that names one."""

    async def me(self) -> User:
        return User(id=1, is_bot=True, first_name="Bridge", username="b")


def _message(text: str | None, caption: str | None = None) -> Message:
    chat = Chat(id=7, type="private")
    when = datetime(2026, 1, 1, tzinfo=UTC)
    return Message(message_id=1, date=when, chat=chat, from_user=USER, text=text, caption=caption)


def _press(data: str | None) -> CallbackQuery:
    return CallbackQuery(id="1", from_user=USER, chat_instance="c", data=data)


def _tree(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _tree(child)


@pytest.fixture
def root() -> Iterator[Router]:
    root = Router(name="gated-test")
    root.include_routers(*get_routers())
    gate_routing(root)
    yield root
    release_routers(root)  # as App.close: the feature routers are module-level


async def _passes(callback: Any, event: TelegramObject, raw_state: str | None) -> bool:
    """What the filter itself says (only the three kinds the gates read; None for the others)."""
    if isinstance(callback, Command):
        return bool(isinstance(event, Message) and await callback(event, bot=_Bot()))  # type: ignore[arg-type]
    if isinstance(callback, State):
        return callback(event, raw_state=raw_state)
    if isinstance(callback, StateFilter):
        return bool(await callback(event, raw_state=raw_state))
    if isinstance(callback, CallbackQueryFilter):
        return bool(isinstance(event, CallbackQuery) and await callback(event))
    return True


def _states(handler: Any) -> set[str]:
    """The states the handler's own state filters name."""
    named: set[str] = set()
    for item in handler.filters or ():
        states = [item.callback] if isinstance(item.callback, State) else getattr(item.callback, "states", [])
        named.update(s.state if isinstance(s, State) else s for s in states if isinstance(s, State | str))
    named.discard(None)  # type: ignore[arg-type]
    return named


async def test_a_gate_never_refuses_what_the_filters_accept(root: Router) -> None:
    observers = [r.observers[name] for r in _tree(root) for name in ("message", "callback_query")]
    gated = [o for o in observers if isinstance(o, GatedObserver)]
    names = gated[0].names
    commands = sorted({name for _, name in names.commands | names.folded})
    prefixes = sorted({prefix for values in names.prefixes.values() for prefix in values})
    texts = [None, "", "  ", "hello", "/unknown", "/help@other_bot now", "HELP", "!help"]
    texts += (
        [f"/{c}" for c in commands] + [f"/{c.upper()} x" for c in commands] + [f"/{c}@b" for c in commands]
    )
    events: list[TelegramObject] = [_message(text) for text in texts] + [_message(None, "/events")]
    data = (
        [None, "", "zz:1", ":", "nothing"] + [f"{p}:1" for p in prefixes] + [f"{p}:x:1:2" for p in prefixes]
    )
    events += [_press(item) for item in data]
    checked = 0
    for observer in gated:
        mine = [e for e in events if isinstance(e, Message) == (observer.event_name == "message")]
        for handler, gate in observer.gates:
            if gate is None:  # kept whatever the update
                continue
            for event, raw_state in itertools.product(mine, [None, "Nobody:waits", *_states(handler)]):
                verdicts = [await _passes(item.callback, event, raw_state) for item in handler.filters or ()]
                if all(verdicts):
                    checked += 1
                    kept = observer.handlers_for(names.key(event, raw_state))
                    assert handler in kept, (handler.callback.__qualname__, event, raw_state)
    assert checked > 100


async def test_a_router_is_skipped_only_when_nothing_below_could_take_it(root: Router) -> None:
    names = next(o for r in _tree(root) if isinstance(o := r.observers["message"], GatedObserver)).names
    for event, raw_state in [(_message("/events"), None), (_message("hello"), None), (_press("zz:1"), None)]:
        update_type = "message" if isinstance(event, Message) else "callback_query"
        key = names.key(event, raw_state)
        for router in _tree(root):
            assert isinstance(router, GatedRouter)
            kept = router.routers_for(update_type, key)
            for child in router.sub_routers:
                below = [r.observers[update_type] for r in _tree(child)]
                takes = any(o.outer_middleware or o.handlers_for(key) for o in below)  # type: ignore[attr-defined]
                assert (child in kept) == takes, (child.name, event)

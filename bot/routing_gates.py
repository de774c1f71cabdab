"""Routing that does not try every handler: the handlers a message or a button press could reach,
looked up rather than tried one by one.

aiogram routes an update by visiting router after router (some 80 here) and, in each, trying
every handler's filters in turn until one passes: for /events, 65 routers and 176 handlers, each
try an await and a copy of the update's data. Most of those filters are of three kinds whose
verdict depends on one thing only:

- `Command` (string commands): the message's first word (its prefix and command name);
- `State`, `StateFilter` (of states, not of whole groups): the chat's dialog state (`raw_state`);
- `CallbackData.filter()`: the prefix of the button's data.

`gate_routing` reads those filters once. For each update it then takes those three things (the
"key"), and each router keeps only the handlers every such filter of theirs allows (a handler
with none is always kept), and is skipped whole when neither it nor any router under it keeps a
handler (its own filters are not even tried: they could only have stopped it sooner). What a
kept handler goes through is unchanged: all its filters (those three kinds included), in order,
then the middlewares, exactly as aiogram does; only handlers that could not have passed are not
tried. A router with an outer middleware of its own for the update's type is never skipped (the
middleware would have run). Other update types route as before.

The answers are kept per router and key. Keys are bounded: a command, state or prefix no filter
names is one and the same "other" (every such filter refuses it alike).

And a button's data is unpacked once per press: aiogram's `CallbackData.filter()` unpacks it again
(a pydantic model built) in every handler it is tried against, so the handlers of one callback
data class were ordered by how often they are pressed. `gate_routing` makes each such filter an
`UnpackedOnce`, which shares one unpacked value per press and class (then checks its own rule).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiogram import Router
from aiogram.dispatcher.event.bases import REJECTED, UNHANDLED
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot.dispatch_chain import ComposedObserver, compose_once

GATED = ("message", "callback_query")
OTHER = object()  # a command, state or prefix no filter names
Key = tuple[Any, ...]
Gate = Callable[[Key], bool]


@dataclass
class _Names:
    """Every command, state and button prefix some filter names (what a key keeps)."""

    commands: set[tuple[str, str]] = field(default_factory=set)  # (prefix, name)
    folded: set[tuple[str, str]] = field(default_factory=set)  # (prefix, casefolded name)
    states: set[str | None] = field(default_factory=set)
    prefixes: dict[str, set[str]] = field(default_factory=dict)  # separator: prefixes
    _last: tuple[Any, Any, Key] = (None, None, ())  # the last update's key (asked once per router)

    def key(self, event: TelegramObject, raw_state: Any) -> Key:
        """(what the command filters look at, the button prefix filters, the state filters)."""
        last_event, last_state, key = self._last
        if last_event is event and last_state == raw_state:
            return key
        state = raw_state if raw_state in self.states else OTHER
        if isinstance(event, Message):
            key = (self._command(event.text or event.caption), None, state)
        elif isinstance(event, CallbackQuery):
            data = event.data
            prefixes = (
                tuple(
                    head if (head := data.split(separator, 1)[0]) in names else OTHER
                    for separator, names in self.prefixes.items()
                )
                if data
                else None
            )
            key = (None, prefixes, state)
        else:
            key = (None, None, state)
        self._last = (event, raw_state, key)
        return key

    def _command(self, text: str | None) -> Any:
        """(prefix, name as written if some filter names it, casefolded if some filter that ignores
        case names it); None for a message with no first word, OTHER for a command none names."""
        words = text.split(maxsplit=1) if text else ()
        if not words:
            return None
        prefix, name = words[0][0], words[0][1:].partition("@")[0]
        exact = name if (prefix, name) in self.commands else None
        folded = name.casefold() if (prefix, name.casefold()) in self.folded else None
        return OTHER if exact is None and folded is None else (prefix, exact, folded)


def _command_gate(item: Command, names: _Names) -> Gate | None:
    if not all(isinstance(command, str) for command in item.commands):
        return None  # a pattern: the name alone does not tell
    allowed = {(prefix, str(command)) for prefix in item.prefix for command in item.commands}
    (names.folded if item.ignore_case else names.commands).update(allowed)
    index = 2 if item.ignore_case else 1  # (ignore_case: its commands are casefolded already)

    def gate(key: Key) -> bool:
        command = key[0]
        return isinstance(command, tuple) and (command[0], command[index]) in allowed

    return gate


def _state_gate(states: tuple[Any, ...], names: _Names) -> Gate | None:
    allowed: set[str | None] = set()
    for state in states:
        value = state.state if isinstance(state, State) else state
        if not (value is None or isinstance(value, str)) or value == "*":
            return None  # any state, or a whole group: not told by one name
        allowed.add(value)
    names.states.update(allowed)
    return lambda key: key[2] in allowed


def _prefix_gate(item: CallbackQueryFilter, names: _Names) -> Gate:
    separator, prefix = item.callback_data.__separator__, item.callback_data.__prefix__
    names.prefixes.setdefault(separator, set()).add(prefix)
    position = list(names.prefixes).index(separator)
    return lambda key: key[1] is not None and key[1][position] == prefix


# The last press each callback data class was unpacked for, and what that gave (None: not of it).
_unpacked: dict[type[CallbackData], tuple[CallbackQuery, CallbackData | None]] = {}


def unpacked(query: CallbackQuery, kind: type[CallbackData]) -> CallbackData | None:
    """The press's data as `kind` (None if it is not one), unpacked once per press and class: the
    press is the same object through every filter it is tried against (kept by identity, so a
    press being routed while another one's tasks run only costs an unpack again)."""
    last = _unpacked.get(kind)
    if last is not None and last[0] is query:
        return last[1]
    value: CallbackData | None
    try:
        value = kind.unpack(query.data or "")
    except (TypeError, ValueError):
        value = None
    _unpacked[kind] = (query, value)
    return value


class UnpackedOnce(CallbackQueryFilter):
    """aiogram's `CallbackData.filter()` (the same outcome: `callback_data` for the handler, or
    False), on the press's data unpacked once (`unpacked`). Handlers of one press share the value:
    never change it."""

    __slots__ = ()

    async def __call__(self, query: CallbackQuery) -> Literal[False] | dict[str, Any]:
        if not isinstance(query, CallbackQuery) or not query.data:
            return False
        callback_data = unpacked(query, self.callback_data)
        if callback_data is None:
            return False
        if self.rule is None or self.rule.resolve(callback_data):
            return {"callback_data": callback_data}
        return False


def unpack_once(router: Router) -> int:
    """Make every `CallbackData.filter()` of the router's button presses (its own and its
    handlers') an `UnpackedOnce` (idempotent). Returns how many changed."""
    changed = 0
    observer = router.observers["callback_query"]
    for handler in (observer._handler, *observer.handlers):
        for item in handler.filters or ():
            if type(item.callback) is CallbackQueryFilter:
                item.callback.__class__ = UnpackedOnce
                changed += 1
    return changed


def _handler_gate(handler: HandlerObject, names: _Names) -> Gate | None:
    """All of the handler's filters of the three kinds as one test of the key (None: it has none).
    A message has no button prefix and a button press no command: such a filter refuses it."""
    gates: list[Gate] = []
    for item in handler.filters or ():
        callback = item.callback
        gate: Gate | None = None
        if isinstance(callback, Command):
            gate = _command_gate(callback, names)
        elif isinstance(callback, State):
            gate = _state_gate((callback,), names)
        elif isinstance(callback, StateFilter):
            gate = _state_gate(tuple(callback.states), names)
        elif isinstance(callback, CallbackQueryFilter):
            gate = _prefix_gate(callback, names)
        if gate is not None:
            gates.append(gate)
    if len(gates) < 2:
        return gates[0] if gates else None
    return lambda key: all(gate(key) for gate in gates)


class GatedObserver(ComposedObserver):
    """An observer that tries only the handlers the update's key allows (aiogram's `trigger`
    otherwise)."""

    names: _Names
    gates: list[tuple[HandlerObject, Gate | None]]
    kept: dict[Key, tuple[HandlerObject, ...]]

    def handlers_for(self, key: Key) -> tuple[HandlerObject, ...]:
        kept = self.kept.get(key)
        if kept is None:
            kept = self.kept[key] = tuple(h for h, gate in self.gates if gate is None or gate(key))
        return kept

    def candidates(self, event: TelegramObject, kwargs: dict[str, Any]) -> Sequence[HandlerObject]:
        return self.handlers_for(self.names.key(event, kwargs.get("raw_state")))


class GatedRouter(Router):
    """A router that passes an update only to the sub-routers that could take it (aiogram's
    `_propagate_event` otherwise)."""

    names: _Names
    reaches: dict[tuple[str, Key], tuple[Router, ...]]

    def could_take(self, update_type: str, key: Key) -> bool:
        observer = self.observers[update_type]
        return bool(
            observer.outer_middleware
            or not isinstance(observer, GatedObserver)
            or observer.handlers_for(key)
            or self.routers_for(update_type, key)
        )

    def routers_for(self, update_type: str, key: Key) -> tuple[Router, ...]:
        routers = self.reaches.get((update_type, key))
        if routers is None:
            routers = self.reaches[(update_type, key)] = tuple(
                router
                for router in self.sub_routers
                if not isinstance(router, GatedRouter) or router.could_take(update_type, key)
            )
        return routers

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        """aiogram's, without composing a chain of no outer middlewares around the next step."""
        observer = self.observers.get(update_type)
        if observer is not None and observer.outer_middleware:
            return await super().propagate_event(update_type, event, **kwargs)
        kwargs["event_router"] = self
        return await self._propagate_event(observer, update_type, event, **kwargs)

    async def _propagate_event(
        self, observer: TelegramEventObserver | None, update_type: str, event: TelegramObject, **kwargs: Any
    ) -> Any:
        """aiogram's, but a router's own filters are checked only if it has some, and its handlers
        tried only if the key lets one through (what aiogram does there then comes to nothing)."""
        response = UNHANDLED
        gated = update_type in GATED
        if observer:
            if observer._handler.filters:
                result, data = await observer.check_root_filters(event, **kwargs)
                if not result:
                    return UNHANDLED
                kwargs.update(data)
            if not (gated and isinstance(observer, GatedObserver)) or observer.handlers_for(
                self.names.key(event, kwargs.get("raw_state"))
            ):
                response = await observer.trigger(event, **kwargs)
                if response is REJECTED:
                    return UNHANDLED
                if response is not UNHANDLED:
                    return response
        routers: Any = self.sub_routers
        if gated:
            routers = self.routers_for(update_type, self.names.key(event, kwargs.get("raw_state")))
        for router in routers:
            below = router.observers.get(update_type)
            if isinstance(router, GatedRouter) and not (below is not None and below.outer_middleware):
                kwargs["event_router"] = router  # its `propagate_event` without its frame
                response = await router._propagate_event(below, update_type, event, **kwargs)
            else:
                response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                break
        return response


_GATED_CLASSES: dict[type[Router], type[Router]] = {}


def _gated_class(cls: type[Router]) -> type[Router]:
    """GatedRouter for a plain Router; for a subclass (the Dispatcher), one with both."""
    if issubclass(cls, GatedRouter) or cls is Router:
        return GatedRouter if cls is Router else cls
    if cls not in _GATED_CLASSES:
        _GATED_CLASSES[cls] = type(f"Gated{cls.__name__}", (GatedRouter, cls), {})
    return _GATED_CLASSES[cls]


def _tree(root: Router) -> Iterator[Router]:
    yield root
    for router in root.sub_routers:
        yield from _tree(router)


def gate_routing(root: Router) -> int:
    """Gate `root` and every router under it for messages and button presses (`root`'s own
    observers are left as they are: its outer middlewares always run), and every button filter
    unpacks a press once (`unpack_once`). Idempotent (the routers
    are module-level and outlive an App: the answers kept are dropped). Every observer's chains
    of middlewares are then composed once (`bot.dispatch_chain.compose_once`). Returns how many
    handlers have a gate."""
    names = _Names()
    routers = list(_tree(root))
    gated = 0
    for router in routers[1:]:
        for update_type in GATED:
            observer = router.observers[update_type]
            observer.__class__ = GatedObserver
            assert isinstance(observer, GatedObserver)
            observer.gates = [(handler, _handler_gate(handler, names)) for handler in observer.handlers]
            observer.names, observer.kept = names, {}
            gated += sum(gate is not None for _, gate in observer.gates)
    for router in routers:
        unpack_once(router)
        router.__class__ = _gated_class(type(router))
        assert isinstance(router, GatedRouter)
        router.names, router.reaches = names, {}
    compose_once(root)
    return gated

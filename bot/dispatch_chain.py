"""aiogram's middleware chains composed once instead of for every update (issue 15).

For each update aiogram composes every chain of middlewares it runs anew
(`MiddlewareManager.wrap_middlewares`: a `functools.wraps` copy of the handler's attributes and a
`functools.partial` per middleware), and walks each router's parents for its inner middlewares.
What it composes depends only on the middlewares registered and on the handler, so a chain is
kept and used again until any middleware of the process is registered or unregistered (managers
made `CountedManager` count every change: the tests add middlewares to a running App). The chain
is aiogram's own, composed by aiogram: what runs, and in what order, is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED, MiddlewareType, NextMiddlewareType, SkipHandler
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.types import TelegramObject

Next = NextMiddlewareType[TelegramObject]
_changes = 0  # middlewares registered or unregistered, on any `CountedManager`, since start


class CountedManager(MiddlewareManager):
    """aiogram's manager, counting its changes: a chain composed before one is composed again."""

    def register(self, middleware: MiddlewareType[TelegramObject]) -> MiddlewareType[TelegramObject]:
        global _changes
        _changes += 1
        return super().register(middleware)

    def unregister(self, middleware: MiddlewareType[TelegramObject]) -> None:
        global _changes
        _changes += 1
        super().unregister(middleware)


class ComposedObserver(TelegramEventObserver):
    """An observer whose chains (its outer middlewares around the update's next step; the inner
    middlewares around each handler) are composed once, as of the middlewares registered."""

    _outer: tuple[int, Callable[..., Any] | None, Next | None] = (-1, None, None)
    chains: dict[int, tuple[int, HandlerObject, Next]]

    def wrap_outer_middleware(self, callback: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        changes, composed_for, chain = self._outer
        if changes != _changes or composed_for != callback or chain is None:
            # aiogram's `callback` is a bound method made anew each time (`update.trigger`): an
            # equal one (same function, same object) is the same step. A closure made per event
            # (a router's `_wrapped`) never is: there the chain is composed as aiogram does.
            chain = self.middleware.wrap_middlewares(self.outer_middleware, callback)
            if getattr(callback, "__self__", None) is not None:
                self._outer = (_changes, callback, chain)
        return chain(event, data)

    def chain(self, handler: HandlerObject) -> Next:
        """The inner middlewares (this router's and its parents', as aiogram resolves them) around
        `handler`."""
        entry = self.chains.get(id(handler))
        if entry is None or entry[0] != _changes or entry[1] is not handler:
            chain = self.outer_middleware.wrap_middlewares(self._resolve_middlewares(), _direct(handler))
            entry = self.chains[id(handler)] = (_changes, handler, chain)
        return entry[2]

    def candidates(self, event: TelegramObject, kwargs: dict[str, Any]) -> Sequence[HandlerObject]:
        """The handlers to try, in order (`bot.routing_gates` tries fewer)."""
        return self.handlers

    async def trigger(self, event: TelegramObject, **kwargs: Any) -> Any:
        """aiogram's, with the chain kept, and no check of a handler with no filters (aiogram's
        passes, adding nothing)."""
        for handler in self.candidates(event, kwargs):
            kwargs["handler"] = handler
            if handler.filters:
                result, data = await handler.check(event, **kwargs)
                if not result:
                    continue
                kwargs.update(data)
            try:
                return await self.chain(handler)(event, kwargs)
            except SkipHandler:
                continue
        return UNHANDLED


def _direct(handler: HandlerObject) -> Callable[..., Any]:
    """`handler.call` (aiogram's: the callback given the arguments it names, awaited; a plain
    function in a thread) without its frame for a callback that is awaitable: the callback's own
    awaitable is returned, which the chain awaits."""
    if not handler.awaitable:
        return handler.call
    callback, prepare = handler.callback, handler._prepare_kwargs

    def call(*args: Any, **kwargs: Any) -> Any:  # (positional: the data may hold an "event" too)
        return callback(*args, **prepare(kwargs))

    return call


def compose_once(root: Router) -> None:
    """Make every observer of `root` and the routers under it a `ComposedObserver` (a subclass of
    one stays as it is: `bot.routing_gates`' are), its chains composed from now on, and every
    middleware manager a `CountedManager`. Idempotent; the chains kept are dropped."""
    for router in root.chain_tail:
        for observer in router.observers.values():
            if not isinstance(observer, ComposedObserver):
                observer.__class__ = ComposedObserver
            assert isinstance(observer, ComposedObserver)
            observer.chains, observer._outer = {}, ComposedObserver._outer
            for manager in (observer.middleware, observer.outer_middleware):
                if not isinstance(manager, CountedManager):
                    manager.__class__ = CountedManager

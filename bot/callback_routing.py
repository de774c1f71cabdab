"""Button presses go straight past the routers that cannot take them.

aiogram offers a callback query to every router in turn, and each router to every one of its
handlers; a handler's `CallbackData.filter()` parses the button's data (`unpack`: a split, a
refusal raised and caught) to find that the prefix is another one's. A tap on an event card passes
some 60 routers and 250 handlers on its way to its own: 5–7 ms of CPU per tap, measured with a
profiler on `bench.updates` (more than the tap's own work).

`route_callbacks` notes, for each router, the prefixes (`ev`, `ea`, …) its callback handlers and
those of the routers under it accept; a press whose prefix is not among them skips the router
without entering it. The outcome is the same: such a router would have returned UNHANDLED (each of
its handlers requires a `CallbackData` filter that refuses the press). A router with a callback
handler that takes any press (no `CallbackData` filter: the fallback), or with middlewares of its
own around callback queries, is always entered.
"""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.types import CallbackQuery, TelegramObject

Prefixes = frozenset[tuple[str, str]]  # (separator, prefix) of each CallbackData accepted


class _PrefixRoutedRouter(Router):
    """A router entered by a button press only when the press's prefix is one it accepts."""

    callback_prefixes: Prefixes

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        if update_type == "callback_query" and not _accepts(self.callback_prefixes, event):
            return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)


def _accepts(prefixes: Prefixes, event: TelegramObject) -> bool:
    data = event.data if isinstance(event, CallbackQuery) else None
    if not data:
        return False  # CallbackData filters refuse a press without data
    return any(data.split(separator, 1)[0] == prefix for separator, prefix in prefixes)


def _prefixes(router: Router) -> Prefixes | None:
    """What `router` and those under it accept; None when some handler may take any press."""
    observer = router.callback_query
    if observer.outer_middleware:
        return None
    accepted: set[tuple[str, str]] = set()
    for handler in observer.handlers:
        data = [
            item.callback for item in handler.filters or () if isinstance(item.callback, CallbackQueryFilter)
        ]
        if not data:
            return None
        # Every filter must pass: the first CallbackData one suffices to refuse.
        accepted.add((data[0].callback_data.__separator__, data[0].callback_data.__prefix__))
    for sub_router in router.sub_routers:
        below = _prefixes(sub_router)
        if below is None:
            return None
        accepted |= below
    return frozenset(accepted)


def route_callbacks(root: Router) -> int:
    """Let button presses skip the routers under `root` that cannot take them (idempotent: the
    routers are module-level and outlive an App). Returns how many routers may be skipped."""
    routed = 0
    for router in root.chain_tail:
        if router is root or type(router) not in (Router, _PrefixRoutedRouter):
            continue
        prefixes = _prefixes(router)
        if prefixes is None:
            if type(router) is _PrefixRoutedRouter:
                router.__class__ = Router
            continue
        router.__class__ = _PrefixRoutedRouter
        router.callback_prefixes = prefixes  # type: ignore[attr-defined]
        routed += 1
    return routed

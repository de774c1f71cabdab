"""Four aiogram defaults that cost every update, measured with a profiler on `bench.updates`:

- every filter that is not a coroutine (a magic filter such as `F.chat.type == "private"`, a
  lambda) runs in a thread (`asyncio.to_thread`): a thread hop for each of the tens of filters an
  update passes on its way to its handler. Ours are cheap and never block: `inline_sync_filters`
  makes them run in the event loop;
- each answer of the Bot API is validated with `Response[<the method's result type>]`, a pydantic
  generic model that pydantic caches only weakly: the garbage collector takes it back and the next
  call builds it again (milliseconds, for most messages sent). `JsonRequestSession` keeps one per
  result type for the life of the process, and looks it up by the method's class (in the session,
  which every call of both Bots passes through, rather than a request middleware: a layer less on
  every call);
- every request is sent as a form, URL-encoded one byte at a time in Python (a long message's
  text cost more than the rest of the request). `JsonRequestSession` sends a request that has no
  file as a JSON object of the very same fields and values (the Bot API reads both alike), built
  with less of aiogram's per-field work (`json_body`); uploads stay multipart;
- every aiogram object (an update, the message a call returns, each of its entities, users,
  chats, buttons, and every method built) runs pydantic's `model_post_init` chain to attach the
  bot: one wrapper per class level between it and `BotContextController` (four for a Message),
  each calling pydantic's private-attribute set-up again, then `__setattr__`. About half of the
  CPU that validating a /help reply (13 entities) costs. `flatten_bot_context` gives each such
  class one function with the same outcome.

And one of Python's: the garbage collector's full collections walk every container object in
the process, some 400,000 once the bot, aiogram, SQLAlchemy and pydantic are loaded. Measured
on `bench.resources`, such a walk took 0.4–1 s on a loaded machine and landed on whichever update
happened to allocate at that moment (a category page's p99 was one of them). `freeze_startup_heap`
moves what start-up built into the permanent generation once per process, so full collections
only walk what the bot allocated since. And it raises the young generation's threshold from
Python's 700 to `YOUNG_THRESHOLD`: the count is of container objects allocated and not yet freed,
and an update's objects are freed by their reference counts, not by the collector (in a
`bench.updates` run of /help and RSVP taps, 591 young collections found 9 objects to free in
all), yet each update crossed 700 about every other round trip: 0.15 ms of the bot's CPU per round
trip, 3–5 % of it, went to walking live objects. With 20,000: 3 young collections in the run.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import ssl
from collections.abc import Iterable
from functools import cache
from http import HTTPStatus
from typing import Any, TypeVar, cast

import certifi
from aiogram import Bot, Router
from aiogram.client.context_controller import BotContextController
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.event.event import EventObserver
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.dispatcher.middlewares.manager import MiddlewareManager
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods.base import Response, TelegramMethod, TelegramType
from aiogram.types import InputFile
from aiohttp import ClientError, ClientSession, TCPConnector
from pydantic_core import PydanticUndefined

_PINNED: dict[Any, Any] = {}  # each result type: its Response type
_BY_METHOD: dict[type, Any] = {}  # each method class: its Response type
_FLATTENED: dict[type, Any] = {}  # each class changed by `flatten_bot_context`: its post-init before
_T = TypeVar("_T")


_JSON = {"Content-Type": "application/json"}


class JsonRequestSession(AiohttpSession):
    """aiogram's aiohttp session, but a request without files goes as JSON: the fields and their
    values exactly as the form would carry them (`prepare_value`), in one `json.dumps`.

    And one TLS context for the process (`tls_context`, made with the first connection pool)
    rather than one per session built at once: loading certifi's certificates took 35–230 ms and
    some 0.7 MB each, and an App has two sessions (the tests build many Apps)."""

    def __init__(self, api: TelegramAPIServer, limit: int = 100) -> None:
        # `AiohttpSession.__init__` (aiogram 3.31, no proxy) but for the TLS context: its
        # attributes, which tests/test_aiogram_tuning.py compares with aiogram's.
        BaseSession.__init__(self, api=api)
        self._session: ClientSession | None = None
        self._connector_type: type[TCPConnector] = TCPConnector
        self._connector_init: dict[str, Any] = {"limit": limit, "ttl_dns_cache": 3600}
        self._should_reset_connector = True
        self._proxy = None
        self._chain: tuple[tuple[int, ...], Any] | None = None  # the middlewares, and their chain

    async def __call__(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        """aiogram's: the call through the request middlewares, in the order registered; the
        chain of them (one `functools.partial` per middleware) made once for calls with no timeout
        of their own (all but `getUpdates`) and again only when the middlewares change, rather than
        on every call."""
        if timeout is not None:
            return await super().__call__(bot, method, timeout)
        middlewares = tuple(map(id, self.middleware._middlewares))  # (the chain keeps them alive)
        if self._chain is None or self._chain[0] != middlewares:
            self._chain = (middlewares, self.middleware.wrap_middlewares(self.make_request, timeout=None))
        return cast(TelegramType, await self._chain[1](bot, method))

    async def create_session(self) -> ClientSession:
        self._connector_init.setdefault("ssl", tls_context())
        return await super().create_session()

    def json_body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> bytes | None:
        """The JSON body of a call: the fields `build_form_data` would send, each value as the form
        carries it (`prepare_value`); None if the call uploads a file (then it goes as a form).

        A field that is None is left out of the dump (`exclude_none`, nested ones too) rather than
        prepared and then dropped: `prepare_value` drops every None it meets, so the body is the
        same, for less work (a message has some twenty fields, most of them None, and every button
        of a keyboard fourteen). The strings, numbers and flags a call carries, and the bot's
        defaults it names, are written here as `prepare_value` writes them (a `json.dumps` call each
        otherwise: 1.5 µs for a chat id)."""
        files: dict[str, InputFile] = {}
        fields: dict[str, Any] = {}
        plain = self.json_dumps is json.dumps  # (a number's or a flag's text is then known)
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            if value.__class__ is Default:
                value = bot.default[value.name]
            kind = value.__class__
            if kind is str:
                prepared = value
            elif kind is int and plain:
                prepared = int.__repr__(value)  # what `json.dumps` writes for it
            elif kind is bool and plain:
                prepared = "true" if value else "false"
            else:
                prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:  # what `build_form_data` leaves out too
                fields[key] = prepared
        return None if files else self.json_dumps(fields).encode()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        body = self.json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url, data=body, headers=_JSON, timeout=self.timeout if timeout is None else timeout
            ) as response:
                content = await response.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(method=method, message=f"{type(error).__name__}: {error}") from error
        checked = self.check_response(bot=bot, method=method, status_code=response.status, content=content)
        return cast(TelegramType, checked.result)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        """aiogram's, on the method's response type pinned (`response_type`) rather than looked up
        in pydantic's generics on every call. A success is parsed and validated as aiogram does
        (`json_loads`, then the model; measured: pydantic's `model_validate_json` saves nothing
        here, aiogram's types run a Python validator on every nested object anyway); any other
        answer, or one that does not parse, goes through aiogram's own checks, which raise its
        errors (each `TelegramAPIError` class, retry_after, migrate_to_chat_id, 5xx)."""
        if HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            context = {"bot": bot}
            try:
                response = response_type(method).model_validate(self.json_loads(content), context=context)
            except Exception:  # aiogram's checks below raise what it raises
                response = None
            if response is not None and response.ok:
                return response
        return super().check_response(bot=bot, method=method, status_code=status_code, content=content)


def response_type(method: TelegramMethod[TelegramType]) -> type[Response[TelegramType]]:
    """`Response[<the method's result type>]`, built once per method class and kept (pydantic keeps
    its generics only weakly: the garbage collector takes them back)."""
    cls = method.__class__
    pinned = _BY_METHOD.get(cls)
    if pinned is None:
        returning = method.__returning__
        pinned = _PINNED.get(returning)
        if pinned is None:
            pinned = _PINNED[returning] = Response[returning]  # type: ignore[valid-type]
        _BY_METHOD[cls] = pinned
    return pinned


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every Bot API session of the process: aiogram's (certifi's
    certificates), made once."""
    return ssl.create_default_context(cafile=certifi.where())


def _attach_bot(self: BotContextController, context: Any, /) -> None:
    """What pydantic's chain of `wrapped_model_post_init` around aiogram's
    `BotContextController.model_post_init` leaves, in one call: the private attributes (`_bot`
    alone, no default) made if not there yet, then `_bot` set from the validation context."""
    bot = context.get("bot") if context else None
    private = getattr(self, "__pydantic_private__", None)
    if private is None:
        object.__setattr__(self, "__pydantic_private__", {"_bot": bot})
    else:
        private["_bot"] = bot


def flatten_bot_context() -> int:
    """Give every aiogram model class (`BotContextController` and the classes under it, as they
    are now) `_attach_bot` as its `model_post_init` (idempotent, once per process is enough).
    Only a class whose post-init is nothing but pydantic's wrappers around aiogram's own, and
    whose only private attribute is `_bot` without a default, changes: another is left as it is
    (an aiogram upgrade that adds to them keeps its behaviour). pydantic-core calls
    `model_post_init` by name, so validators already built use the new one. Returns how many
    classes changed."""
    declared = BotContextController.__dict__["model_post_init"]
    wrapper = declared.__code__  # pydantic's `wrapped_model_post_init`, shared by every level
    original = getattr(declared, "__wrapped__", None)  # aiogram's
    if original is None or declared.__code__ is original.__code__:
        return 0  # pydantic no longer wraps it: nothing known to flatten
    changed = 0
    classes, seen = [BotContextController], set()
    while classes:
        cls = classes.pop()
        if cls in seen:
            continue
        seen.add(cls)
        classes.extend(cls.__subclasses__())
        post_init = cls.__dict__.get("model_post_init")
        if post_init is None or post_init is _attach_bot or not _only_bot(cls):
            continue
        while getattr(post_init, "__code__", None) is wrapper:
            post_init = post_init.__wrapped__
        if post_init is original:
            _FLATTENED[cls] = cls.__dict__["model_post_init"]
            cls.model_post_init = _attach_bot  # type: ignore[method-assign]
            changed += 1
    return changed


def _only_bot(cls: type[BotContextController]) -> bool:
    private = cls.__private_attributes__
    if set(private) != {"_bot"}:
        return False
    attribute = private["_bot"]
    return attribute.default is PydanticUndefined and attribute.default_factory is None


class _InlineFilter(FilterObject):
    """A synchronous filter called in the event loop (its callback unchanged: `bot.context` looks
    at it to tell a dialog step)."""

    async def call(self, *args: Any, **kwargs: Any) -> Any:
        return self.callback(*args, **self._prepare_kwargs(kwargs))


def inline_sync_filters(root: Router) -> int:
    """Make every synchronous filter of `root` and the routers under it run in the event loop
    (idempotent). Returns how many changed. Meant for an App's own router tree: the routers the
    handler modules declare (the first App's), or `fresh_router` copies of them."""
    changed = 0
    for router in root.chain_tail:
        for observer in router.observers.values():
            for handler in (observer._handler, *observer.handlers):  # the router's own filters too
                for item in handler.filters or ():
                    if not item.awaitable and not isinstance(item, _InlineFilter):
                        item.__class__ = _InlineFilter
                        changed += 1
    return changed


def detach_routers(parent: Router, routers: Iterable[Router]) -> int:
    """Take those of `routers` that `parent` holds off it (aiogram has no API for it): each is
    free again, as it was declared, for the next App of the process to include as it is (its
    filters already inlined, its gates computed again by `gate_routing`). `parent` keeps no route
    to them. Returns how many were detached."""
    mine = {id(router): router for router in routers if router.parent_router is parent}
    if not mine:
        return 0
    parent.sub_routers = [router for router in parent.sub_routers if id(router) not in mine]
    for router in mine.values():
        router._parent_router = None
    if "reaches" in vars(parent):  # gated (`bot.routing_gates`): its routes kept per update
        parent.reaches = {}  # type: ignore[attr-defined]
    return len(mine)


def fresh_router(declared: Router) -> Router:
    """A router of its own with what `declared` holds: its handlers and their filters, its own
    filters and middlewares, its startup and shutdown callbacks, and copies of its sub-routers.

    The handler modules declare their routers once, at import; aiogram attaches a router to one
    parent only, so an App built while they are attached includes copies (`handlers.get_routers`:
    another App of the process is alive, or an App failed half-built and kept the routers it
    included; an App closed gave them back, `handlers.release_routers`). Copies are shallow where
    nothing changes: the callbacks, flags' values and filter instances are shared; the handler and
    filter objects (which `inline_sync_filters` changes) are not. Copied rather than built with
    `Router()`, whose thirty observers each inspect a signature (about 3 ms a router).
    aiogram has no public API to copy a router."""
    router = _shallow(declared)
    router._parent_router = None
    router.sub_routers = []
    copies: dict[int, TelegramEventObserver] = {}
    for observer in declared.observers.values():
        target = copies[id(observer)] = _shallow(observer)
        target.router = router
        target._handler = _copy_handler(observer._handler)
        target.handlers = [_copy_handler(handler) for handler in observer.handlers]
        target.middleware = _copy_middlewares(observer.middleware)
        target.outer_middleware = _copy_middlewares(observer.outer_middleware)
    for attribute, value in vars(declared).items():  # `message`, `callback_query`, `error(s)` …
        if id(value) in copies:
            setattr(router, attribute, copies[id(value)])
    router.observers = {name: copies[id(observer)] for name, observer in declared.observers.items()}
    router.startup, router.shutdown = EventObserver(), EventObserver()
    router.startup.handlers = list(declared.startup.handlers)
    router.shutdown.handlers = list(declared.shutdown.handlers)
    for sub_router in declared.sub_routers:
        router.include_router(fresh_router(sub_router))
    return router


def _copy_handler(handler: HandlerObject) -> HandlerObject:
    copied = _shallow(handler)
    copied.flags = dict(handler.flags)
    if handler.filters is not None:
        copied.filters = [_shallow(item) for item in handler.filters]
    return copied


def _copy_middlewares(manager: MiddlewareManager) -> MiddlewareManager:
    copied = _shallow(manager)
    copied._middlewares = list(manager._middlewares)
    return copied


def _shallow(item: _T) -> _T:
    """A shallow copy of a plain object (`copy.copy` takes ten times longer: thousands a copy)."""
    copied = object.__new__(type(item))
    copied.__dict__.update(item.__dict__)
    return copied


_heap_frozen = False
YOUNG_THRESHOLD = 20_000  # container objects allocated and not yet freed before a young collection


def freeze_startup_heap() -> None:
    """Once per process (a test session starts many bots): collect, then freeze what survived,
    and give the memory start-up freed back to the system (glibc keeps it otherwise: some 0.6 MB of
    idle RSS); the collector is on from then on (`bot.cli` turns it off while the bot starts).

    Whether it was done is asked of `gc` once only: `gc.get_freeze_count()` walks every object
    frozen (some 340,000 scattered over the heap: tens of milliseconds, 4 % of the CPU of a test
    process, which starts an App a test). The young generation's threshold is raised to
    `YOUNG_THRESHOLD` then too (left as it is if already higher)."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        if gc.get_freeze_count() == 0:
            gc.collect()
            gc.freeze()
            with contextlib.suppress(AttributeError, OSError):  # not glibc (musl, macOS): left as is
                ctypes.CDLL(None).malloc_trim(0)
        young, *older = gc.get_threshold()
        gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)
    gc.enable()

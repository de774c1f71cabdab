"""One cache of compiled SQL for all the engines of a test process.

SQLAlchemy keeps the SQL it compiled per engine and keys it by the dialect instance: every test
builds engines of its own (a database each), so each compiled every statement it ran again — some
4 % of the suite's CPU. Here the engines of a test process share one cache whose key holds what a
dialect is (its class and its plain settings: server version, paramstyle, default schema…) instead
of which instance it is. The SQL run is the same; a dialect whose settings differ compiles its own.
The ORM's flushes (INSERT/UPDATE/DELETE) keep theirs per mapper (an execution option of its own):
the mappers get the same cache. The bot's process has one engine: nothing to share there, so this
stays in the tests."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import LRUCache
from sqlmodel.main import default_registry

import storage.db
import storage.models  # every table mapped: their mappers get the cache

_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    return isinstance(value, _PLAIN) or (isinstance(value, tuple) and all(map(_plain, value)))


def _kind(dialect: Any) -> tuple[Any, ...]:
    """What makes two dialects compile alike: their class and every plain setting they hold."""
    return (type(dialect), tuple(sorted((k, v) for k, v in vars(dialect).items() if _plain(v))))


class SharedCompiledCache(LRUCache):  # type: ignore[type-arg]
    """SQLAlchemy's compiled cache (`compiled_cache` execution option), its keys' dialect
    replaced by its kind once the dialect is initialized (its engine's first connection)."""

    def __init__(self, capacity: int = 5000) -> None:
        super().__init__(capacity)
        self._kinds: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = weakref.WeakKeyDictionary()

    def share(self, dialect: Any) -> None:
        if dialect not in self._kinds:
            self._kinds[dialect] = _kind(dialect)

    def _key(self, key: Any) -> Any:
        kind = self._kinds.get(key[0])  # (dialect, statement's cache key, columns, ...)
        return key if kind is None else (kind, *key[1:])

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), value)


@pytest.fixture(scope="session", autouse=True)
def shared_compiled_sql() -> Iterator[SharedCompiledCache]:
    """Every engine `storage.db.create_engine` makes in this process, and every mapper's flushes,
    use the shared cache."""
    cache = SharedCompiledCache()
    real = storage.db.create_async_engine

    def create_async_engine(*args: Any, **kwargs: Any) -> AsyncEngine:
        engine = real(*args, execution_options={"compiled_cache": cache}, **kwargs)
        sync_engine = engine.sync_engine
        # After SQLAlchemy's own first "connect" listener, which initializes the dialect.
        event.listen(sync_engine.pool, "connect", lambda *_: cache.share(sync_engine.dialect))
        return engine

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(storage.db, "create_async_engine", create_async_engine)
        for mapper in default_registry.mappers:  # its memoized `_compiled_cache`, set beforehand
            patch.setitem(vars(mapper), "_compiled_cache", cache)
        yield cache

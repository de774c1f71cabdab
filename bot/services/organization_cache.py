"""Organizations as of their last change, so an update's context does not read its organization
from the database every time (issue 15: one statement of every update).

One cache per engine (`watch`): any INSERT, UPDATE or DELETE on the organizations table through
that engine (a service's flush, a bulk statement) empties it, and again when that transaction
commits or rolls back, so an update never keeps a value another update was about to change.
Another process's change (several webhook processes) is seen within `ttl` seconds.
`watch_tables` is that invalidation, for the other caches of the update path
(`bot.services.membership_cache`).

Each `get` hands the session its own instance (as if just loaded, without a query, its JSON values
copied), so a handler may change it and flush as before without touching what other updates see.
"""

from __future__ import annotations

import copy
import itertools
import time
import weakref
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

from sqlalchemy import Table, event, func, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.rows import attached_copy, detached_copy
from storage.models import Organization, OrgStatus

DEFAULT_TTL = 2.0  # seconds: how late a change made by another process may be seen
_TABLE = Organization.__table__  # type: ignore[attr-defined]
_CACHES: weakref.WeakKeyDictionary[Engine, OrganizationCache] = weakref.WeakKeyDictionary()
# Every cache of the update path, by the engine it watches (`WatchedCache.watching`, `sole_process`).
_WATCHING: weakref.WeakKeyDictionary[Engine, list[WatchedCache]] = weakref.WeakKeyDictionary()
SOLE_PROCESS_TTL = 600.0  # seconds: long polling, where no other process writes what they keep
_FLAGS = itertools.count()
_WRITES: weakref.WeakKeyDictionary[Engine, _Writes] = weakref.WeakKeyDictionary()
_WRITTEN = "cache-tables-written"  # connection.info: this transaction wrote a table a cache keeps


def watch_tables(engine: AsyncEngine, tables: Collection[Table], invalidate: Callable[[], None]) -> str:
    """Call `invalidate` on every INSERT, UPDATE or DELETE on one of `tables` through `engine`, and
    again when that transaction commits or rolls back (what a concurrent update read meanwhile is
    forgotten too). Returns the `connection.info` key that flags such a transaction while it is open
    (a value read in it is not the database's yet: `touched` tells)."""
    flag = f"touched-{next(_FLAGS)}"

    def written(conn: Any, _statement: Any, _context: Any) -> None:
        conn.info[flag] = True
        invalidate()

    def ended(conn: Any) -> None:
        if conn.info.pop(flag, False):
            invalidate()

    on_writes(engine, tables, written, ended)
    return flag


Written = Callable[[Any, Any, Any], None]  # (connection, statement, execution context)


def on_writes(
    engine: AsyncEngine, tables: Collection[Table], written: Written, ended: Callable[[Any], None]
) -> None:
    """Call `written` on every INSERT, UPDATE or DELETE on one of `tables` through `engine`, and
    `ended` when a transaction that wrote one of the caches' tables commits or rolls back."""
    writes = _WRITES.get(engine.sync_engine)
    if writes is None:
        writes = _WRITES[engine.sync_engine] = _Writes(engine.sync_engine)
    for table in tables:
        writes.by_table.setdefault(table, []).append(written)
    writes.ends.append(ended)


class _Writes:
    """The caches' one listener per engine: each statement that writes is routed by its table to
    the caches that keep it (instead of every cache inspecting every statement)."""

    def __init__(self, sync_engine: Engine) -> None:
        # (dict lookup: an ORM statement's table is an annotated copy, equal to it, same hash)
        self.by_table: dict[Table, list[Written]] = {}
        self.ends: list[Callable[[Any], None]] = []
        event.listen(sync_engine, "after_cursor_execute", self.written)
        event.listen(sync_engine, "commit", self.ended)
        event.listen(sync_engine, "rollback", self.ended)

    def written(self, conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
        if not (context.isinsert or context.isupdate or context.isdelete):
            return
        statement = getattr(context.compiled, "statement", None)
        callbacks = self.by_table.get(getattr(statement, "table", None))  # type: ignore[arg-type]
        if callbacks:
            conn.info[_WRITTEN] = True
            for callback in callbacks:
                callback(conn, statement, context)

    def ended(self, conn: Any) -> None:
        if conn.info.pop(_WRITTEN, False):
            for callback in self.ends:
                callback(conn)


async def touched(session: AsyncSession, flag: str) -> bool:
    """Has the session's open transaction written a watched table (`watch_tables`' flag)?"""
    if not session.in_transaction():
        return False
    return bool((await session.connection()).info.get(flag))


class WatchedCache:
    """What a cache of the update path shares: a `generation` that every invalidation moves on, so
    a value read while a write went by is not kept (`keeps`), and a value read in a transaction
    that wrote the watched tables is not kept either (it is not the database's yet)."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self.generation = 0
        self._flag = ""

    def invalidate(self) -> None:
        self.generation += 1

    def keep_at_least(self, ttl: float) -> None:
        """Keep values at least `ttl` seconds (long polling: no other process writes them)."""
        self.ttl = max(self.ttl, ttl)

    def sole_process(self, ttl: float) -> None:
        """This process alone handles updates and writes (long polling): keep values longer."""
        self.keep_at_least(ttl)

    def watching(self, engine: AsyncEngine) -> None:
        """Count this cache among `engine`'s (`sole_process`)."""
        _WATCHING.setdefault(engine.sync_engine, []).append(self)

    def fresh(self, read_at: float) -> bool:
        return time.monotonic() - read_at <= self.ttl

    async def keeps(self, session: AsyncSession, generation: int) -> bool:
        """May a value read since `generation` in `session` be kept?"""
        return generation == self.generation and not await touched(session, self._flag)

    def watch_tables(self, engine: AsyncEngine, tables: Collection[Table]) -> None:
        self._flag = watch_tables(engine, tables, self.invalidate)
        self.watching(engine)


class OrganizationCache(WatchedCache):
    def __init__(self, ttl: float = DEFAULT_TTL) -> None:
        super().__init__(ttl)
        self._rows: dict[int, tuple[float, Organization]] = {}
        self._active: tuple[float, int] | None = None  # (read at, how many organizations are active)
        self._all: tuple[float, list[Organization]] | None = None  # (read at, every organization)

    async def get(self, session: AsyncSession, organization_id: int) -> Organization | None:
        """The organization, as an instance of `session` (None if there is no such row)."""
        cached = self._rows.get(organization_id)
        if cached is None or not self.fresh(cached[0]):
            generation = self.generation
            row = await session.get(Organization, organization_id)
            if row is not None and await self.keeps(session, generation):
                self._rows[organization_id] = (time.monotonic(), detached_copy(row))
            return row
        instance = attached_copy(session, cached[1])
        if instance is not None:
            return instance
        instance = await session.merge(cached[1], load=False)  # (the session holds it already)
        for key, value in _mutable_values(cached[1]):
            set_committed_value(instance, key, copy.deepcopy(value))
        return instance

    async def active_count(self, session: AsyncSession) -> int:
        """How many organizations are active (neither suspended nor archived)."""
        if self._active is not None and self.fresh(self._active[0]):
            return self._active[1]
        generation = self.generation
        query = select(func.count()).select_from(Organization).where(Organization.status == OrgStatus.ACTIVE)
        count = int((await session.exec(query)).one())
        if await self.keeps(session, generation):
            self._active = (time.monotonic(), count)
        return count

    async def every(self, session: AsyncSession) -> list[Organization]:
        """Every organization, as detached copies to read (the cards' origin labels), not to
        change: one read of the table while nothing changes."""
        if self._all is not None and self.fresh(self._all[0]):
            return self._all[1]
        generation = self.generation
        rows = [detached_copy(row) for row in (await session.exec(select(Organization))).all()]
        if await self.keeps(session, generation):
            self._all = (time.monotonic(), rows)
        return rows

    def invalidate(self, organization_id: int | None = None) -> None:
        """Forget one organization (all of them when None)."""
        super().invalidate()
        self._active = self._all = None
        if organization_id is None:
            self._rows.clear()
        else:
            self._rows.pop(organization_id, None)

    def watch(self, engine: AsyncEngine) -> None:
        """Empty the cache on every write to the organizations table through `engine`; the cache
        of `engine`'s sessions from now on (`cache_of`)."""
        self.watch_tables(engine, [_TABLE])
        _CACHES[engine.sync_engine] = self


def sole_process(engine: AsyncEngine, ttl: float = SOLE_PROCESS_TTL) -> None:
    """This process alone handles updates (long polling): every cache watching `engine` keeps its
    values at least `ttl` seconds (a member's next update comes seconds later, past the webhook
    mode's TTL); this process's writes empty them as ever."""
    for cache in _WATCHING.get(engine.sync_engine, ()):
        cache.sole_process(ttl)


def cache_of(session: AsyncSession) -> OrganizationCache | None:
    """The organization cache watching the session's engine, if any."""
    return of_session(_CACHES, session)


CacheT = TypeVar("CacheT")


def of_session(caches: Mapping[Engine, CacheT], session: AsyncSession) -> CacheT | None:
    """The cache of `caches` (one per engine) watching the session's engine, if any (a session
    bound to a connection or to nothing has none)."""
    bind = session.bind
    return caches.get(bind.sync_engine) if isinstance(bind, AsyncEngine) else None


def _mutable_values(row: Organization) -> list[tuple[str, Any]]:
    state = inspect(row)
    return [(key, value) for key, value in state.dict.items() if isinstance(value, dict | list)]

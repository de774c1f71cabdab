"""The first page of a member's /events, kept until anything it shows may have changed (issue 15:
the page's statement, a trip to the database, on every /events).

One cache per engine (`watch`), emptied by any INSERT, UPDATE or DELETE on events, answers,
memberships or organizations through that engine, and again when that transaction ends
(`bot.services.organization_cache.watch_tables`); a page read while such a write went by, or in a
transaction that made one, is not kept. Time alone also takes events off the list: a page is kept
only until the first moment one of the events it counts may stop being upcoming (`expiry`).

Another process's write cannot empty it, so pages are kept only where one process handles every
update and writes (long polling: `organization_cache.sole_process`); elsewhere (webhook mode, a
script, a test's bare engine) every /events reads, as before.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.organization_cache import WatchedCache, of_session
from storage.models import Event, Membership, Organization, Rsvp

PAGES_MAX = 2048  # members whose first page is kept (the oldest is dropped first)
_CACHES: weakref.WeakKeyDictionary[Engine, UpcomingCache] = weakref.WeakKeyDictionary()


class Listed(Protocol):
    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime | None: ...


def expiry(events: Sequence[Listed], total: int) -> datetime | None:
    """Until when a first page of `events` (soonest first, `total` in all) stays true with no
    write: an event is upcoming while it has not started or not ended, so the first one to stop
    being upcoming does so at the earliest of the listed events' last moments or, when the list goes
    on after the page, the last listed one's start (every later event starts no sooner). None: no
    event, nothing for time to take."""
    if not events:
        return None
    moments = [
        event.starts_at if event.ends_at is None else max(event.starts_at, event.ends_at) for event in events
    ]
    if total > len(events):
        moments.append(events[-1].starts_at)
    return min(moments)


class UpcomingCache(WatchedCache):
    """First pages (`UpcomingPage`s, to read, not to change) by member and page size."""

    def __init__(self, ttl: float = 0.0) -> None:
        super().__init__(ttl)
        self._pages: dict[tuple[int, int], tuple[float, datetime | None, Any]] = {}

    def get(self, member_id: int, limit: int, now: datetime) -> Any | None:
        """The member's first page as kept, if it still holds at `now`."""
        kept = self._pages.get((member_id, limit))
        if kept is None:
            return None
        read_at, expires, page = kept
        if not self.fresh(read_at) or (expires is not None and now >= expires):
            return None
        return page

    async def keep(
        self, session: AsyncSession, generation: int, member_id: int, limit: int, page: Any
    ) -> None:
        """Keep `page` (its `events` and `total` as `expiry` takes them), read in `session` since
        `generation`, unless a write may have gone by."""
        if self.ttl <= 0 or not await self.keeps(session, generation):
            return
        if len(self._pages) >= PAGES_MAX:
            del self._pages[next(iter(self._pages))]
        self._pages[(member_id, limit)] = (time.monotonic(), expiry(page.events, page.total), page)

    def invalidate(self) -> None:
        super().invalidate()
        self._pages.clear()

    def watch(self, engine: AsyncEngine) -> None:
        """Empty on every write to what a page shows through `engine`; the cache of `engine`'s
        sessions from now on (`cache_of`)."""
        tables = [model.__table__ for model in (Event, Rsvp, Membership, Organization)]  # type: ignore[attr-defined]
        self.watch_tables(engine, tables)
        _CACHES[engine.sync_engine] = self


def cache_of(session: AsyncSession) -> UpcomingCache | None:
    """The cache watching the session's engine, if any."""
    return of_session(_CACHES, session)

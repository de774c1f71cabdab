"""Organizations as of their last change, so an update's context does not read its organization
from the database every time (issue 15: one statement of every update).

One cache per engine (`watch`): any INSERT, UPDATE or DELETE on the organizations table through
that engine (a service's flush, a bulk statement) empties it, and again when that transaction
commits or rolls back, so an update never keeps a value another update was about to change.
Another process's change (several webhook processes) is seen within `ttl` seconds.

Each `get` hands the session its own instance (merged without a query, its JSON values copied), so
a handler may change it and flush as before without touching what other updates see.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Organization

DEFAULT_TTL = 2.0  # seconds: how late a change made by another process may be seen
_TABLE = Organization.__table__  # type: ignore[attr-defined]
_TOUCHED = "organizations_touched"  # connection.info flag: this transaction wrote organizations


class OrganizationCache:
    def __init__(self, ttl: float = DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._rows: dict[int, tuple[float, Organization]] = {}

    async def get(self, session: AsyncSession, organization_id: int) -> Organization | None:
        """The organization, as an instance of `session` (None if there is no such row)."""
        cached = self._rows.get(organization_id)
        if cached is None or time.monotonic() - cached[0] > self.ttl:
            row = await session.get(Organization, organization_id)
            if row is not None:
                self._rows[organization_id] = (time.monotonic(), _detached_copy(row))
            return row
        instance = await session.merge(cached[1], load=False)
        for key, value in _mutable_values(cached[1]):
            set_committed_value(instance, key, copy.deepcopy(value))
        return instance

    def invalidate(self, organization_id: int | None = None) -> None:
        """Forget one organization (all of them when None)."""
        if organization_id is None:
            self._rows.clear()
        else:
            self._rows.pop(organization_id, None)

    def watch(self, engine: AsyncEngine) -> None:
        """Empty the cache on every write to the organizations table through `engine`."""

        def written(conn: Any, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
            writes = context.isinsert or context.isupdate or context.isdelete
            if writes and getattr(getattr(context.compiled, "statement", None), "table", None) is _TABLE:
                conn.info[_TOUCHED] = True
                self.invalidate()

        def ended(conn: Any) -> None:
            if conn.info.pop(_TOUCHED, False):
                self.invalidate()

        event.listen(engine.sync_engine, "after_cursor_execute", written)
        event.listen(engine.sync_engine, "commit", ended)
        event.listen(engine.sync_engine, "rollback", ended)


def _detached_copy(row: Organization) -> Organization:
    """A copy of the loaded row that belongs to no session (what `get` merges from)."""
    state = inspect(row)
    columns = [attribute.key for attribute in state.mapper.column_attrs]
    clone = Organization(**{key: copy.deepcopy(state.dict[key]) for key in columns if key in state.dict})
    make_transient_to_detached(clone)
    return clone


def _mutable_values(row: Organization) -> list[tuple[str, Any]]:
    state = inspect(row)
    return [(key, value) for key, value in state.dict.items() if isinstance(value, dict | list)]

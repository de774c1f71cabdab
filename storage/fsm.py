"""aiogram FSM storage in the SQL database: dialogs survive restarts and crashes.

Redis (aiogram's `RedisStorage`) is the alternative for multi-instance webhook deployments;
the SQL store keeps the default install to one moving part.

Long polling has one process handle every update (`sole_process`): there the dialog states as last
committed are also kept in the process (the most recent `SETTLED_MAX` chats), so an update of a
chat seen lately reads none (issue 15: one statement of every update). A write forgets the chat's
entry at once and sets it again when its unit of work commits (a rollback leaves it forgotten).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import create_session_factory, current_session
from storage.models import DialogState
from storage.types import utcnow

_KNOWN = "dialog_states"  # session.info: {key: (state, data)} this unit of work has seen
_WRITTEN = "dialog_states_written"  # session.info: (the storage, the keys this unit of work wrote)
SETTLED_MAX = 10_000  # chats whose committed dialog state a sole process keeps


class SQLStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = create_session_factory(engine)
        self._keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True, with_business_connection_id=True)
        self._settled: OrderedDict[str, tuple[str | None, dict[str, Any]]] | None = None

    def sole_process(self) -> None:
        """This process alone handles updates and writes dialog states (long polling): keep the
        committed ones (see the module docstring)."""
        if self._settled is None:
            self._settled = OrderedDict()

    def _settle(self, key: str, value: tuple[str | None, dict[str, Any]]) -> None:
        if self._settled is not None:
            self._settled[key] = (value[0], dict(value[1]))
            self._settled.move_to_end(key)
            while len(self._settled) > SETTLED_MAX:
                self._settled.popitem(last=False)

    def _forget(self, key: str) -> None:
        if self._settled is not None:
            self._settled.pop(key, None)

    async def _upsert(self, key: StorageKey, **values: Any) -> None:
        insert = postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
        row = {"key": self._keys.build(key), "updated_at": utcnow(), **values}
        statement = insert(DialogState).values(
            key=row["key"], state=row.get("state"), data=row.get("data", {}), updated_at=row["updated_at"]
        )
        statement = statement.on_conflict_do_update(
            index_elements=["key"],
            set_={name: statement.excluded[name] for name in values | {"updated_at": 0}},
        )
        self._forget(row["key"])
        shared = current_session.get()
        if shared is not None:
            await shared.exec(statement)  # type: ignore[call-overload]
            known = _known(shared)
            if row["key"] in known:  # what this unit of work now holds for the key
                state, data = known[row["key"]]
                known[row["key"]] = (values.get("state", state), dict(values.get("data", data)))
            if self._settled is not None:
                self._written(shared).add(row["key"])
            return
        async with self._sessions() as session:
            await session.exec(statement)  # type: ignore[call-overload]
            await session.commit()

    async def _values(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """(state, data) of the key; in an update's unit of work, read once (the unit of work's own
        writes kept up to date, forgotten at a rollback: nobody else writes a chat's dialog while
        one of its updates is handled)."""
        built = self._keys.build(key)
        shared = current_session.get()
        if shared is None:
            async with self._sessions() as session:
                row = await session.get(DialogState, built)
                return (row.state, dict(row.data)) if row else (None, {})
        known = _known(shared)
        if built not in known:
            settled = self._settled.get(built) if self._settled is not None else None
            if settled is not None:
                known[built] = (settled[0], dict(settled[1]))
            else:
                row = await shared.get(DialogState, built, populate_existing=True)
                known[built] = (row.state, dict(row.data)) if row else (None, {})
                if built not in self._written(shared):
                    self._settle(built, known[built])
        return known[built]

    def _written(self, session: AsyncSession) -> set[str]:
        """The keys `session`'s unit of work wrote: settled with their values when it commits
        (`_committed`)."""
        entry = session.info.get(_WRITTEN)
        if entry is None:
            entry = session.info[_WRITTEN] = (self, set())
        return entry[1]  # type: ignore[no-any-return]

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._values(key))[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._upsert(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return dict((await self._values(key))[1])

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""


def _known(session: AsyncSession) -> dict[str, tuple[str | None, dict[str, Any]]]:
    """The dialog states a unit of work has read or written, emptied when it rolls back."""
    known = session.info.get(_KNOWN)
    if known is None:
        known = session.info[_KNOWN] = {}
    return known  # type: ignore[no-any-return]


# One listener of each for the process, reading what the unit of work put in `session.info` (one
# registered on every session cost about 1% of an update: issue 15).


@event.listens_for(Session, "after_commit")
def _committed(sync_session: Session) -> None:
    """A unit of work committed: the dialog states it wrote are settled (a sole process's)."""
    entry = sync_session.info.get(_WRITTEN)
    if entry is not None:
        storage, written = entry
        known = sync_session.info.get(_KNOWN) or {}
        for key in written:
            if key in known:
                storage._settle(key, known[key])
        written.clear()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(sync_session: Session, _previous: Any) -> None:
    """A unit of work rolled back: what it read or wrote of dialog states is forgotten."""
    info = sync_session.info
    if _KNOWN in info:
        info[_KNOWN].clear()
    if _WRITTEN in info:
        info[_WRITTEN][1].clear()

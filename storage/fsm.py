"""aiogram FSM storage in the SQL database: dialogs survive restarts and crashes.

Redis (aiogram's `RedisStorage`) is the alternative for multi-instance webhook deployments;
the SQL store keeps the default install to one moving part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import current_session
from storage.models import DialogState
from storage.types import utcnow

_KNOWN = "dialog_states"  # session.info: {key: (state, data)} this unit of work has seen


class SQLStorage(BaseStorage):
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        self._keys = DefaultKeyBuilder(with_bot_id=True, with_destiny=True, with_business_connection_id=True)

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
        shared = current_session.get()
        if shared is not None:
            await shared.exec(statement)  # type: ignore[call-overload]
            known = _known(shared)
            if row["key"] in known:  # what this unit of work now holds for the key
                state, data = known[row["key"]]
                known[row["key"]] = (values.get("state", state), dict(values.get("data", data)))
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
            row = await shared.get(DialogState, built, populate_existing=True)
            known[built] = (row.state, dict(row.data)) if row else (None, {})
        return known[built]

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
        event.listen(session.sync_session, "after_soft_rollback", lambda *_: known.clear())
    return known  # type: ignore[no-any-return]

"""aiogram FSM storage in the SQL database: dialogs survive restarts and crashes.

Redis (aiogram's `RedisStorage`) is the alternative for multi-instance webhook deployments;
the SQL store keeps the default install to one moving part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import current_session
from storage.models import DialogState
from storage.types import utcnow


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
            return
        async with self._sessions() as session:
            await session.exec(statement)  # type: ignore[call-overload]
            await session.commit()

    async def _row(self, key: StorageKey) -> DialogState | None:
        shared = current_session.get()
        if shared is not None:
            return await shared.get(DialogState, self._keys.build(key), populate_existing=True)
        async with self._sessions() as session:
            return await session.get(DialogState, self._keys.build(key))

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._upsert(key, state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        row = await self._row(key)
        return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._upsert(key, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        row = await self._row(key)
        return dict(row.data) if row else {}

    async def close(self) -> None:
        """The engine belongs to the application, which disposes of it."""

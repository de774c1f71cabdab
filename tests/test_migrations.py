"""The migrated schema and the models agree, and migrations go down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from storage import models  # noqa: F401
from storage.db import create_engine
from storage.migrate import downgrade_to_base, upgrade_to_head
from storage.models.library import is_search_index


async def _diff(engine: AsyncEngine) -> list[object]:
    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync,
                    opts={
                        "compare_type": True,
                        "include_name": lambda name, kind, parents: not is_search_index(name, kind),
                    },
                ),
                SQLModel.metadata,
            )
        )


async def test_migrations_match_the_models(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        assert await _diff(engine) == []
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {"members", "organizations", "memberships", "audit_log", "dialog_states"} <= tables
    finally:
        await engine.dispose()


def test_downgrade_to_base_and_up_again(migrated_url: str) -> None:
    downgrade_to_base(migrated_url)
    upgrade_to_head(migrated_url)

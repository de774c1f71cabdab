"""Alembic environment: async engines for SQLite and PostgreSQL, metadata from storage.models."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import create_engine
from storage.models.library import is_search_index

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection: Connection | None = None) -> None:
    options = {
        "target_metadata": target_metadata,
        "compare_type": True,
        "render_as_batch": True,  # SQLite can only ALTER through table copies
        # The full-text objects are the migration's own (FTS5 tables, a GIN expression index).
        "include_name": lambda name, kind, parents: not is_search_index(name, kind),
    }
    if connection is None:
        context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **options)
    else:
        context.configure(connection=connection, **options)


def _run_sync(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration copies a table, drops the original and renames the copy: with
            # foreign keys enforced, dropping a table other rows refer to fails (members, in 0007,
            # once anyone has joined). Off for the migration (a no-op inside a transaction, so
            # before it starts), then every reference is checked.
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await connection.run_sync(_run_sync)
        await connection.commit()
        if sqlite:
            broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
            await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows that refer to nothing: {broken[:5]}")
    await engine.dispose()


if context.is_offline_mode():
    _configure()
    with context.begin_transaction():
        context.run_migrations()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_sync(connection)
    else:
        asyncio.run(_run_async())

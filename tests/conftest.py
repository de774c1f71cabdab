"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set), and the real bot polling the local Bot API emulator over HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade_to_head
from tests.postgres import throwaway_database

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG_SKIP_REASON = (
    "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    with throwaway_database(PG_URL, "db_test") as url:
        yield url


@pytest.fixture
def migrated_url(database_url: str) -> str:
    upgrade_to_head(database_url)
    return database_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session

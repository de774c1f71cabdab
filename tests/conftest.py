"""Shared fixtures: a migrated database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is
set), and the real bot polling the local Bot API emulator over HTTP.

Migrating takes about a second a database, so each test process migrates one template per kind
once and every test that wants a migrated database gets a copy of it (a file copy on SQLite,
`CREATE DATABASE … TEMPLATE` on PostgreSQL): the same schema and rows the migrations leave."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

import bot  # noqa: F401  before anything imports aiogram: its schemas built on first use (bot/lazy_schemas.py)
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade_to_head
from tests.compiled_sql import shared_compiled_sql  # noqa: F401  (a fixture: engines share compiled SQL)
from tests.postgres import throwaway_database
from tests.templates import COPIED  # the databases made as copies (migrated_url: nothing to do)

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG_SKIP_REASON = (
    "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
)
SQLITE = "sqlite+aiosqlite:///"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest schema, once per test process."""
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    upgrade_to_head(f"{SQLITE}{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated to the newest schema, once per test process (nobody stays
    connected to it, so it can be copied)."""
    with throwaway_database(PG_URL, "db_template") as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database: a fresh SQLite file, or a fresh PostgreSQL database dropped afterwards.
    When the test asks for `migrated_url` (the same database), it starts as a copy of the
    migrated template instead."""
    migrated = "migrated_url" in request.fixturenames
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"{SQLITE}{path}"
        if migrated:
            _copy_sqlite(request.getfixturevalue("sqlite_template"), path)
            COPIED.add(url)
        yield url
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    template = request.getfixturevalue("postgres_template") if migrated else None
    with throwaway_database(PG_URL, "db_test", template=template, durable=False) as url:
        if migrated:
            COPIED.add(url)
        yield url
        COPIED.discard(url)


@pytest.fixture
def migrated_url(database_url: str) -> str:
    if database_url not in COPIED:
        upgrade_to_head(database_url)
    return database_url


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its write-ahead log included)."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    original.close()
    copy.close()


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session

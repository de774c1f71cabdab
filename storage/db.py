"""Async engine and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import time
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelSession

from storage.sqlite_driver import connect
from storage.writes import watch_writes, wrote

BUSY_SECONDS = 30.0  # how long a writer waits for another before "database is locked"
PING_AFTER_IDLE_SECONDS = 1.0  # PostgreSQL: a pooled connection idle this long is pinged first
_IDLE_SINCE = "idle_since"  # connection record info: when it went back to the pool


def create_engine(database_url: str, *, pool_size: int | None = None) -> AsyncEngine:
    """Create the engine; for SQLite make the folder, turn on WAL and foreign keys.

    `pool_size`: how many connections the pool keeps open once used (SQLAlchemy's default 5;
    beyond it up to 10 more are opened and closed again each time). The bot keeps as many as it
    uses at once (`pool_size_for`): under load every update otherwise opened a connection of its
    own (issue 15: a thread and four PRAGMAs on SQLite, a login and cold prepared statements on
    PostgreSQL, ~290 connections in a few seconds of the updates bench)."""
    url = make_url(database_url)
    pool = {} if pool_size is None else {"pool_size": pool_size}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        database = url.database or ":memory:"
        if database == ":memory:":  # one connection (SQLAlchemy's StaticPool): no pool to size
            pool = {}
        engine = create_async_engine(
            url, async_creator=partial(connect, database, busy_seconds=BUSY_SECONDS), **pool
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: no fsync per commit; a commit survives any crash of the bot (SIGKILL
            # included) and only a power loss or OS crash may take back the last ones.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(BUSY_SECONDS * 1000)}")
            cursor.close()

        # The process's writers take turns (`storage.writes`); SQLite's busy handler is left with
        # other processes' writers.
        watch_writes(engine, take_turns=True, timeout=BUSY_SECONDS)
        return engine
    engine = create_async_engine(url, **pool)
    ping_when_idle(engine)
    watch_writes(engine)
    return engine


def pool_size_for(concurrent_updates: int) -> int:
    """Connections in use at once: one per update being handled, and a few more for the poller,
    the inbox's claims, the delivery engine and the scheduler's jobs."""
    return concurrent_updates + 5


def ping_when_idle(engine: AsyncEngine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """SQLAlchemy's `pool_pre_ping`, only for a connection left in the pool `idle_seconds` or more:
    one that was in use a moment ago needs no round trip to prove it is alive (under load, every
    checkout was one). A dead one is replaced, as with `pool_pre_ping`."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _checkin(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.pop(_IDLE_SINCE, None)
        if since is not None and time.monotonic() - since < idle_seconds:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool drops it and checks out another
            raise exc.DisconnectionError(str(error)) from error


class AsyncSession(SQLModelSession):
    """SQLModel's session, closed without a task of its own when it holds no connection.

    SQLAlchemy closes a session leaving `async with` in a task of its own, shielded, so that a
    cancel cannot abandon a connection halfway back to the pool; one task per session was a
    visible part of every update (issue 15: four sessions each). A session that holds no
    connection (its transaction ended, never begun, or begun by `add` or `merge` alone: the
    caches' members and organizations) has nothing to give back: its close never waits on
    anything, so no cancel can cut it, and it runs right here, with no greenlet either (nothing in
    it awaits; /help's session was closed in a task and a greenlet of their own)."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if holds_connection(self):
            await super().__aexit__(type_, value, traceback)
        else:
            self.sync_session.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def commit_due(session: AsyncSession) -> bool:
    """Whether committing `session` now would keep anything: changes not yet flushed, statements
    that wrote, or a commit marked due (`COMMIT_PENDING`: the update's handled-mark)."""
    return bool(session.info.get(COMMIT_PENDING)) or await writes_pending(session)


async def writes_pending(session: AsyncSession) -> bool:
    """Whether the session's transaction has anything of its own to keep: changes not yet
    flushed, or statements that wrote (`storage.writes`)."""
    if session.new or session.dirty or session.deleted:
        return True
    return holds_connection(session) and wrote(await session.connection())


def holds_connection(session: AsyncSession) -> bool:
    """Whether the session's transaction has a connection (a statement ran in it). `add` and
    `merge` begin a transaction without one (the caches' members and organizations are attached
    so): asking it for its connection would check one out of the pool for nothing."""
    transaction = session.sync_session.get_transaction()
    # (`_connections`: SQLAlchemy's own record of the transaction's connections, by bind)
    return transaction is not None and bool(transaction._connections)


# session.info key: a commit is due before the next reply even if nothing was written.
COMMIT_PENDING = "commit_pending"

# The unit of work of the update being handled; the FSM storage joins it so a dialog step and the
# data it saved commit together (and SQLite never waits on a second writer of the same update).
current_session: ContextVar[AsyncSession | None] = ContextVar("current_session", default=None)

"""Which connections are writing, and on SQLite, writers that take turns in the process.

`watch_writes(engine)` marks a connection as writing from its transaction's first write statement
(INSERT, UPDATE, DELETE, REPLACE, or a SELECT … FOR UPDATE) until the transaction ends;
`wrote(connection)` tells (the unit of work skips a commit that would have nothing to keep).

SQLite has one writer at a time. Left to itself, a second writer sleeps in SQLite's busy handler
(1, 2, 5, 10 … 100 ms at a time) and tries again, so under load writers wait far longer than the
writes take. With `take_turns`, each connection waits instead for the process's write lock (an
asyncio lock, first come first served) just before the first write of its transaction — the
statement pysqlite opens the transaction with — and gives it back as soon as the transaction is
committed, rolled back or the connection closed: the process's writers follow one another without
sleeping, and readers never wait (WAL). Another process (a backup, a second bot) is still waited
for by SQLite's busy handler. A connection that waits longer than `timeout` fails as SQLite would,
"database is locked" (a task holding the lock while it waits for another connection's write, as
SQLite would also have it wait).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import await_only

WRITING = "writing"  # connection.info: this connection's transaction has written
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")  # the statements pysqlite begins a transaction for


_WRITE_IN_WITH = re.compile(r"\b(INSERT|UPDATE|DELETE)\b")  # a data-modifying CTE (PostgreSQL)


def writes(statement: str) -> bool:
    """Whether the statement may write: a write, a SELECT … FOR UPDATE, or a WITH whose parts
    write (`WITH moved AS (UPDATE …) SELECT …`; a FOR UPDATE in it counts too)."""
    head = statement.lstrip()[:8].upper()
    if head.startswith("WITH"):
        return _WRITE_IN_WITH.search(statement.upper()) is not None
    return head.startswith(_WRITES) or (head.startswith("SELECT") and "FOR UPDATE" in statement.upper())


def wrote(connection: AsyncConnection) -> bool:
    """Whether the connection's current transaction has written anything."""
    return bool(connection.sync_connection is not None and connection.sync_connection.info.get(WRITING))


class WriteTurns:
    """The process's SQLite write lock (bound to the running event loop on first use)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holder: Any = None  # the DBAPI connection whose transaction holds the lock

    async def take(self, holder: Any) -> None:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._holder = asyncio.Lock(), loop, None
        try:  # (`asyncio.timeout`, not `wait_for`: no task of its own for every write)
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._holder = holder

    def give_back(self, holder: Any) -> None:
        if self._holder is holder and self._lock is not None:
            self._holder = None
            self._lock.release()


def _info(connection: Any) -> dict[str, Any]:
    """The pooled connection's info (a DBAPI connection, or the dialect's ad hoc proxy, has none)."""
    try:
        return connection.info  # type: ignore[no-any-return]
    except (AttributeError, NotImplementedError):
        return {}


def watch_writes(engine: AsyncEngine, *, take_turns: bool = False, timeout: float = 30.0) -> None:
    sync_engine: Engine = engine.sync_engine
    turns = WriteTurns(timeout) if take_turns else None

    def before(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if conn.info.get(WRITING) or not writes(statement):
            return
        if turns is not None:
            await_only(turns.take(conn.connection.dbapi_connection))
        conn.info[WRITING] = True

    event.listen(sync_engine, "before_cursor_execute", before)
    dialect = sync_engine.dialect

    def ended(method: Any) -> Any:
        def run(connection: Any) -> None:
            try:
                method(connection)
            finally:
                _info(connection).pop(WRITING, None)
                if turns is not None:
                    turns.give_back(getattr(connection, "dbapi_connection", connection))

        return run

    # The transaction's end, however it comes (the unit of work, the pool's reset on return, a
    # connection closed or cut by a cancellation): on the dialect, after the database has done it.
    for name in ("do_commit", "do_rollback", "do_close", "do_terminate"):
        setattr(dialect, name, ended(getattr(dialect, name)))

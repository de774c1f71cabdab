"""aiosqlite connections whose statements each take one trip to the connection's thread.

aiosqlite runs every call on a thread of its own per connection, and SQLAlchemy's adapter makes
four calls per statement (open a cursor, execute, fetch the rows, close the cursor). Each call is
a hand-over between the event loop and that thread, and those hand-overs, not SQLite, were most of
a statement's cost (py-spy on `bench.updates`: the event loop waiting to get the interpreter back).
Here a cursor does the four in one call, keeping the rows, the description, the row count and the
last row id for SQLAlchemy to read; everything else is aiosqlite's own connection.

A transaction's last statement may commit it in the same trip (`commit_in_statement`): the
caller's commit then finds no transaction open and costs no trip of its own. A statement whose
result nobody reads may wait for the connection's next trip (`defer_statement`) and run first in it.
"""

from __future__ import annotations

import collections
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import aiosqlite

CommitWhen = Literal["always", "if_changed"]


class BufferedCursor:
    """A cursor whose `execute` runs, fetches and closes in one call on the connection's thread."""

    def __init__(self, connection: aiosqlite.Connection, owner: Connection | None = None) -> None:
        self._connection = connection
        self._owner = owner
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: collections.deque[Any] = collections.deque()

    def __await__(self) -> Generator[Any, None, BufferedCursor]:  # `await connection.cursor()`
        return self.__aenter__().__await__()

    async def __aenter__(self) -> BufferedCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _deferred(self, sql: str, parameters: Any, many: bool) -> bool:
        """Kept for the connection's next trip if `defer_statement` asked for it (no result)."""
        owner = self._owner
        if owner is None or not owner.defer_next:
            return False
        owner.defer_next = False
        owner.deferred.append((sql, list(parameters) if many else parameters, many))
        self.description, self.rowcount, self.lastrowid = None, -1, None
        self._rows = collections.deque()
        return True

    async def execute(self, sql: str, parameters: Any = None) -> BufferedCursor:
        if self._deferred(sql, parameters, False):
            return self
        connection = self._connection
        commit: CommitWhen | None = None
        deferred: list[Statement] = []
        if self._owner is not None:
            commit, self._owner.commit_next = self._owner.commit_next, None
            deferred, self._owner.deferred = self._owner.deferred, []

        def run() -> tuple[Any, int, int | None, list[Any]]:
            _run(connection._conn, deferred)
            cursor = connection._conn.cursor()
            try:
                cursor.execute(sql) if parameters is None else cursor.execute(sql, parameters)
                rows = cursor.fetchall() if cursor.description else []
                if commit == "always" or (commit == "if_changed" and cursor.rowcount > 0):
                    connection._conn.commit()
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        self.description, self.rowcount, self.lastrowid, rows = await connection._execute(run)
        self._rows = collections.deque(rows)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> BufferedCursor:
        if self._deferred(sql, parameters, True):
            return self
        connection = self._connection
        deferred: list[Statement] = []
        if self._owner is not None:
            deferred, self._owner.deferred = self._owner.deferred, []

        def run() -> tuple[int, int | None]:
            _run(connection._conn, deferred)
            cursor = connection._conn.cursor()
            try:
                cursor.executemany(sql, parameters)
                return cursor.rowcount, cursor.lastrowid
            finally:
                cursor.close()

        self.rowcount, self.lastrowid = await connection._execute(run)
        self.description, self._rows = None, collections.deque()
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(len(self._rows), size or self.arraysize)
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> list[Any]:
        rows, self._rows = list(self._rows), collections.deque()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class Connection:
    """aiosqlite's connection, but for its cursors, and a commit or rollback with no transaction
    open (the pool's reset when a session hands its connection back after a commit, a session that
    only read) costs no trip: sqlite3 would do nothing there either (it checks the same flag)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._inner = connection
        self.commit_next: CommitWhen | None = None  # the next statement commits too (`commit_in_statement`)
        self.defer_next = False  # the next statement waits for the next trip (`defer_statement`)
        self.deferred: list[Statement] = []  # statements waiting for the next trip, in order

    def cursor(self) -> BufferedCursor:
        return BufferedCursor(self._inner, self)

    async def commit(self) -> None:
        deferred, self.deferred = self.deferred, []
        if deferred:
            inner = self._inner._conn

            def run() -> None:
                _run(inner, deferred)
                inner.commit()

            await self._inner._execute(run)
        elif self._inner.in_transaction:
            await self._inner.commit()

    async def rollback(self) -> None:
        self.deferred.clear()  # never run: nothing of them to undo
        if self._inner.in_transaction:
            await self._inner.rollback()

    async def close(self) -> None:
        self.deferred.clear()
        await self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


Statement = tuple[str, Any, bool]  # SQL, parameters, executemany


def _run(connection: Any, statements: list[Statement]) -> None:
    """On the connection's thread: the statements deferred to this trip, in order."""
    for sql, parameters, many in statements:
        cursor = connection.cursor()
        try:
            if many:
                cursor.executemany(sql, parameters)
            elif parameters is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, parameters)
        finally:
            cursor.close()


@contextmanager
def defer_statement(connection: Any) -> Iterator[None]:
    """Around the one statement run on `connection` (a SQLAlchemy `Connection`) in the block, whose
    result (rows, row count) nobody reads: on SQLite it runs at the start of the connection's next
    trip to its thread (the next statement, or the commit), not in a trip of its own; an error it
    raises is raised there, and a rollback first drops it. On other databases it changes nothing."""
    with _next_statement(connection, "defer_next", True, False):
        yield


@contextmanager
def commit_in_statement(connection: Any, when: CommitWhen = "always") -> Iterator[None]:
    """Around the one statement run on `connection` (a SQLAlchemy `Connection`) in the block: on
    SQLite, that statement commits its transaction in the same trip to the connection's thread
    (`if_changed`: only if it changed a row; otherwise the transaction stays open, for the caller
    to roll back), so the commit that follows costs no trip. Only for a transaction's last
    statement, with nothing left for the ORM to flush. On other databases it changes nothing."""
    with _next_statement(connection, "commit_next", when, None):
        yield


@contextmanager
def _next_statement(connection: Any, flag: str, value: object, cleared: object) -> Iterator[None]:
    """Our SQLite connection's `flag` set to `value` for the block (its next statement reads it)."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, Connection):
        yield
        return
    setattr(driver, flag, value)
    try:
        yield
    finally:
        setattr(driver, flag, cleared)


async def connect(database: str, *, busy_seconds: float) -> Connection:
    """What SQLAlchemy's aiosqlite dialect would open for this file (its thread a daemon, as there)."""
    connection = aiosqlite.connect(database, timeout=busy_seconds, check_same_thread=False)
    getattr(connection, "_thread", connection).daemon = True  # (the connection was a thread before 0.22)
    return Connection(await connection)

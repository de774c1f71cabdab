"""The handled-marks of updates that wrote nothing, written together: a group commit.

An update's first reply waits for its handled-mark to be committed (`bot.web.inbox.HandledMark`).
When its unit of work wrote nothing of its own (/help, /events, a card shown), that mark is all the
commit would keep, and a transaction per update (a connection, an UPDATE, a COMMIT) was a visible
part of such an update's cost (issue 15). Here the updates that ask while a batch is being written
wait for the next one: one `UPDATE … WHERE update_id IN (…) RETURNING update_id` and one commit,
on a connection of its own, for all of them (on SQLite the statement commits in its trip and
takes its write turn as any writer). Each update's reply leaves only once the batch holding its
mark is committed, so a crash before that leaves it to be handled again and a crash after it
never has it handled twice. An update whose id did not come back had lost its claim: `ClaimLost`,
as its own commit would have raised. An update that wrote something keeps its mark in its own
transaction (atomic with its writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.web import inbox
from storage.sqlite_driver import commit_in_statement
from storage.types import utcnow

log = logging.getLogger(__name__)
T = inbox.T
WRITER = "inbox-marks"  # the name of the task writing the batches (the statement counts look for it)

_MARK_MANY = (
    update(T)
    .where(*inbox.CLAIMED_MANY, T.c.handled_at.is_(None))
    .values(handled_at=bindparam("now_"))
    .returning(T.c.update_id)
)


async def mark_many(
    connection: AsyncConnection, worker: str, update_ids: Sequence[int], now: datetime
) -> set[int]:
    """The handled-marks of several updates of this worker in one statement, committed (on SQLite
    in the same trip); returns the updates marked (any other's claim was lost). One greenlet for
    the statement and its commit (`run_sync`)."""
    keys = {"update_ids_": list(update_ids), "worker_": worker, "now_": now}
    return await connection.run_sync(_marked, keys)


def _marked(connection: Connection, keys: dict[str, Any]) -> set[int]:
    with commit_in_statement(connection):  # (the transaction's only statement)
        rows = connection.execute(_MARK_MANY, keys).all()
    connection.commit()
    return {row[0] for row in rows}


class MarkFailed(Exception):
    """The batch holding this update's mark failed: the mark was not written (nothing is sent)."""


class MarkBatches:
    """The handled-marks of one worker's updates, written a batch at a time by a task that lives
    while updates ask (the classic group commit: while one batch is written, the next collects)."""

    def __init__(self, engine: AsyncEngine, worker: str) -> None:
        # On PostgreSQL the one statement is atomic by itself: run in AUTOCOMMIT, it takes one trip
        # (no BEGIN, no COMMIT). On SQLite it commits in its own trip anyway (`mark_many`), and a
        # commit must end its transaction: that gives the process's write turn back.
        if engine.dialect.name != "sqlite":
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.engine = engine
        self.worker = worker
        self._asked: dict[int, asyncio.Future[bool]] = {}  # the next batch: update id → its answer
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, update_id: int) -> None:
        """Returns once the update's mark is committed. Raises ClaimLost if the claim was lost,
        MarkFailed if the batch failed."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._asked[update_id] = future
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name=WRITER)
        try:
            marked = await future
        except asyncio.CancelledError:
            if self._asked.get(update_id) is future:  # not taken yet: not written at all
                del self._asked[update_id]
            raise
        if not marked:
            raise inbox.ClaimLost(update_id)

    async def drain(self) -> None:
        """Until no batch is being written (a stop: before the claims are released)."""
        while self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._writer)

    async def _write(self) -> None:
        """Batches while updates ask, on one connection of its own (no ORM session: there is
        nothing to flush), closed here rather than in a task of its own as `async with` would (no
        cancel reaches this task but the loop's end)."""
        batch: dict[int, asyncio.Future[bool]] = {}
        connection: AsyncConnection | None = None
        try:
            while self._asked or connection is not None:
                if not self._asked:  # (any update asking while it closes starts the loop again)
                    await _closed(connection)
                    connection = None
                    continue
                batch, self._asked = self._asked, {}
                try:
                    connection, marked = await self._written(connection, list(batch))
                except Exception as error:
                    log.exception("inbox_marks_failed")
                    connection = None  # (closed by `_written`: a connection that failed is not used again)
                    for future in _waiting(batch):
                        future.set_exception(MarkFailed(repr(error)))
                else:
                    for update_id, future in batch.items():
                        if not future.done():
                            future.set_result(update_id in marked)
                batch = {}
        finally:  # (cancelled: the loop is closing) nothing more is written
            self._writer = None
            for future in _waiting({**batch, **self._asked}):
                future.cancel()
            self._asked = {}
            if connection is not None:
                await _closed(connection)

    async def _written(
        self, connection: AsyncConnection | None, update_ids: list[int]
    ) -> tuple[AsyncConnection, set[int]]:
        """One batch written, again on a fresh connection if PostgreSQL chose it as a deadlock's
        victim (the lease loop's `renew` locks the same worker's rows in an order of its own): the
        statement did nothing then, and its updates would otherwise fail. The connection a batch
        failed on is closed here, whether it came in or was opened here (one opened for this batch
        was left to the garbage collector, checked out, when the batch failed otherwise)."""
        for attempt in range(DEADLOCK_RETRIES + 1):
            connection = connection or await self.engine.connect()
            try:
                return connection, await mark_many(connection, self.worker, update_ids, utcnow())
            except BaseException as error:
                await _closed(connection)
                connection = None
                if attempt == DEADLOCK_RETRIES or not isinstance(error, DBAPIError) or not _deadlock(error):
                    raise
                log.warning("inbox_marks_deadlock_retried", extra={"attempt": attempt + 1})
        raise AssertionError("unreachable")


DEADLOCK_RETRIES = 2


def _deadlock(error: DBAPIError) -> bool:
    """PostgreSQL's deadlock_detected (SQLSTATE 40P01), as asyncpg reports it."""
    return getattr(error.orig, "sqlstate", None) == "40P01" or "40P01" in str(error.orig)


async def _closed(connection: AsyncConnection) -> None:
    with contextlib.suppress(Exception):  # (already logged, or the loop is closing)
        await connection.close()


def _waiting(batch: dict[int, asyncio.Future[bool]]) -> list[asyncio.Future[bool]]:
    """The answers still awaited (an update cancelled meanwhile awaits none)."""
    return [future for future in batch.values() if not future.done()]

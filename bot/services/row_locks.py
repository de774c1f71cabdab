"""The two row locks the services share.

`bump`: the first statement of every transaction that can change who holds a seat (an event's
RSVPs, a training's sign-ups) is `UPDATE <parent> SET <seq> = <seq> + 1 WHERE id = :id ...
RETURNING <seq>, ...`. On PostgreSQL that holds the parent's row lock until commit; on SQLite it
takes the database write lock (pysqlite begins the transaction only at the first write, so reading
first would race). Counting seats after it is safe on both, and the returned number is the tap's
place in tap order.

`claim`: `UPDATE <table> SET ... WHERE id IN (SELECT id ... FOR UPDATE SKIP LOCKED) RETURNING ...`
takes due rows for one worker: on PostgreSQL concurrent workers skip each other's rows; SQLite has
a single writer, so the statement is atomic there as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession


async def bump(
    session: AsyncSession, seq: Any, *conditions: Any, returning: Sequence[Any]
) -> Row[Any] | None:
    """Add one to the counter column `seq` of the row meeting `conditions` (its id, and the state
    it must be in) and return (the new `seq`, *`returning`); None, with nothing written, when no
    row meets them."""
    return await bumped(session, bump_statement(seq, *conditions, returning=returning))


def bump_statement(seq: Any, *conditions: Any, returning: Sequence[Any]) -> Any:
    """`bump`'s statement, for callers on a hot path to build once (with bind parameters in
    `conditions`) and run with `bumped`."""
    return update(seq.class_).where(*conditions).values({seq: seq + 1}).returning(seq, *returning)


async def bumped(
    session: AsyncSession, statement: Any, params: dict[str, Any] | None = None
) -> Row[Any] | None:
    """Run a `bump_statement` with the values of its bind parameters."""
    return (await (await session.connection()).execute(statement, params)).first()


async def claim(
    session: AsyncSession,
    table: Any,
    due: Any,
    values: dict[str, Any],
    *,
    order_by: Sequence[Any] = (),
    limit: int | None = None,
    recheck: Sequence[Any] = (),
) -> list[int]:
    """Set `values` on the rows of `table` meeting `due` (at most `limit`, in `order_by` order) that
    no other transaction holds, and on which `recheck` still holds; returns the ids claimed."""
    ids = select(table.id).where(due).order_by(*order_by).limit(limit).with_for_update(skip_locked=True)
    statement = (
        update(table)
        .where(col(table.id).in_(ids.scalar_subquery()), *recheck)
        .values(**values)
        .returning(col(table.id))
    )
    return [row[0] for row in (await (await session.connection()).execute(statement)).all()]

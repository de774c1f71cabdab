"""Small steps every capability takes on its own rows, in the caller's transaction: saving a new
row, reading one as stored now, and deleting a draft together with the rows that hang from it;
`Page`, one page of a list and how many there are in all; and `detached_copy`, what the caches keep."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import inspect
from sqlalchemy.orm import Mapper, make_transient_to_detached
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

Row = TypeVar("Row", bound=SQLModel)


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of rows (from `offset`), and how many there are in all."""

    items: Sequence[Row]
    total: int
    offset: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.items) < self.total


def detached_copy(row: Row) -> Row:
    """A copy of the loaded row that belongs to no session, its column values deep-copied (what a
    cache keeps and hands out, so that no caller changes the cached one)."""
    state = inspect(row)
    columns = [attribute.key for attribute in state.mapper.column_attrs]
    clone = type(row)(**{key: copy.deepcopy(state.dict[key]) for key in columns if key in state.dict})
    make_transient_to_detached(clone)
    return clone


def attached_copy(session: AsyncSession, row: Row) -> Row | None:
    """A new instance of a cached `detached_copy` in `session`, as if just loaded (its JSON values
    deep-copied), without a query; None if the session holds that row already (then `merge`).
    What `session.merge(row, load=False)` gives, without its greenlet and its walk of the
    row's attributes and relationships (issue 15: the update's organization, on every update)."""
    state = inspect(row)
    if state.key is None or state.key in session.identity_map:
        return None
    instance = state.mapper.class_manager.new_instance()
    values = state.dict
    for key in _columns(state.mapper):
        if key in values:
            value = values[key]
            instance.__dict__[key] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


@cache
def _columns(mapper: Mapper[Any]) -> tuple[str, ...]:
    return tuple(attribute.key for attribute in mapper.column_attrs)


async def saved(session: AsyncSession, row: Row) -> Row:
    """`row` added and flushed: its id is assigned (the caller commits)."""
    session.add(row)
    await session.flush()
    return row


async def reloaded(session: AsyncSession, table: type[Row], row_id: int) -> Row | None:
    """The row with this id as stored now: reloaded even when the session already holds it
    (another transaction may have changed it since, or a rollback expired it)."""
    key = table.id  # type: ignore[attr-defined]
    statement = select(table).where(key == row_id).execution_options(populate_existing=True)
    return (await session.exec(statement)).first()


async def delete_rows(session: AsyncSession, *groups: Sequence[Any]) -> None:
    """Delete each group of rows in turn, flushing after each: the rows that hang from a draft (a
    training's sessions, a survey's questions) before the draft itself."""
    for group in groups:
        for row in group:
            await session.delete(row)
        await session.flush()

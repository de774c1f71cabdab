"""The queries events and trainings share about seats. Their answer tables (`Rsvp`,
`TrainingSignup`) have the same design: one row per member and parent (`event_id`, `training_id`),
a `status`, and `seq`, the parent's counter at the tap that set it (tap order; see
`row_locks.bump`). Each function takes the answer table's parent column (`col(Rsvp.event_id)`) and
reads rows as stored now (`populate_existing`: another transaction may have changed them since the
session loaded them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession


async def answer_of(session: AsyncSession, parent: Any, parent_id: int, member_id: int) -> Any | None:
    """The member's answer (whatever its status)."""
    answers = parent.class_
    statement = select(answers).where(parent == parent_id, answers.member_id == member_id)
    return (await session.exec(statement.execution_options(populate_existing=True))).first()


async def in_tap_order(
    session: AsyncSession,
    parent: Any,
    parent_id: int,
    status: str,
    *conditions: Any,
    limit: int | None = None,
) -> list[Any]:
    """The answers with `status` (and `conditions`), first tapped first, at most `limit`."""
    answers = parent.class_
    statement = (
        select(answers)
        .where(parent == parent_id, answers.status == status, *conditions)
        .order_by(col(answers.seq))
        .limit(limit)
    )
    return list((await session.exec(statement.execution_options(populate_existing=True))).all())


async def count_answers(session: AsyncSession, parent: Any, parent_id: int, *conditions: Any) -> int:
    answers = parent.class_
    statement = select(func.count()).select_from(answers).where(parent == parent_id, *conditions)
    return int((await session.exec(statement)).one())


async def place_in_line(session: AsyncSession, parent: Any, parent_id: int, status: str, seq: int) -> int:
    """The waitlist place (1 = next in line) of the answer taken at `seq` (`status`: waitlisted)."""
    answers = parent.class_
    return await count_answers(session, parent, parent_id, answers.status == status, col(answers.seq) <= seq)


async def held_parent_ids(
    session: AsyncSession,
    parent: Any,
    parent_table: Any,
    member_id: int,
    statuses: Sequence[str],
    *conditions: Any,
) -> list[int]:
    """The parents (events, trainings meeting `conditions`) where the member's answer has one of
    `statuses`, in id order (the order to lock them in)."""
    answers = parent.class_
    statement = (
        select(parent)
        .join(parent_table, col(parent_table.id) == parent)
        .where(answers.member_id == member_id, col(answers.status).in_(statuses), *conditions)
    )
    return sorted((await session.exec(statement)).all())

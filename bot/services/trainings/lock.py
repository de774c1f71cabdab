"""The row lock that makes seat counting safe.

Seat counting follows `bot.services.events`: every transaction that can change who holds a seat
starts with `UPDATE trainings SET signup_seq = signup_seq + 1 WHERE id = :id ... RETURNING ...`
(`row_locks.bump`: the row lock on PostgreSQL, the write lock on SQLite), so counting after it is
safe and the returned number is the sign-up's place in tap order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.row_locks import bump
from bot.services.trainings.queries import get_training
from bot.services.trainings.rules import TrainingError
from storage.models import Training, TrainingStatus


@dataclass(frozen=True)
class Locked:
    seq: int
    status: TrainingStatus
    capacity: int
    signup_deadline: datetime | None


async def lock_training(session: AsyncSession, training_id: int, *conditions: Any) -> Locked | None:
    """The first statement of every seat-changing transaction (see the module docstring); None when
    the training does not exist or does not meet `conditions` (nothing was written)."""
    columns = (col(Training.status), col(Training.capacity), col(Training.signup_deadline))
    row = await bump(
        session, col(Training.signup_seq), col(Training.id) == training_id, *conditions, returning=columns
    )
    if row is None:
        return None
    seq, status, capacity, deadline = row
    return Locked(int(seq), TrainingStatus(status), int(capacity), deadline)


async def refusal(session: AsyncSession, training_id: int, now: datetime) -> TrainingError:
    """Why a training does not take sign-ups (nothing was written)."""
    try:
        training = await get_training(session, training_id)
    except TrainingError as error:
        return error
    if training.status == TrainingStatus.DRAFT:
        return TrainingError("not_found")
    if training.status == TrainingStatus.CANCELLED:
        return TrainingError("cancelled")
    if training.status != TrainingStatus.OPEN:
        return TrainingError("closed")
    return TrainingError("deadline_passed")


def deadline_open(now: datetime) -> Any:
    """The condition "the sign-up deadline has not passed" (none set counts as open)."""
    return (col(Training.signup_deadline).is_(None)) | (col(Training.signup_deadline) > now)

"""What coordinators list about trainings: the organization's trainings, page by page, and sign-up
counts (the seat rules themselves live in `bot.services.trainings`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import SignupStatus, Training, TrainingSignup, TrainingStatus

# Listed for coordinators: drafts are never left behind (the dialog publishes at once), cancelled
# trainings are over.
LISTED = (TrainingStatus.OPEN, TrainingStatus.CLOSED, TrainingStatus.COMPLETED)


@dataclass(frozen=True)
class TrainingPage:
    trainings: list[Training]
    total: int


async def organization_trainings(
    session: AsyncSession, organization_id: int, offset: int, limit: int
) -> TrainingPage:
    """Open, closed and completed trainings, open ones first, newest first."""
    condition = (col(Training.organization_id) == organization_id) & col(Training.status).in_(LISTED)
    total = int((await session.exec(select(func.count()).select_from(Training).where(condition))).one())
    rows = await session.exec(
        select(Training)
        .where(condition)
        .order_by(col(Training.status) != TrainingStatus.OPEN, col(Training.id).desc())
        .offset(max(0, offset))
        .limit(limit)
    )
    return TrainingPage(list(rows.all()), total)


async def signup_counts(session: AsyncSession, training_id: int) -> dict[SignupStatus, int]:
    rows = await session.exec(
        select(TrainingSignup.status, func.count())
        .where(TrainingSignup.training_id == training_id)
        .group_by(col(TrainingSignup.status))
    )
    counts = {status: 0 for status in SignupStatus}
    for status, count in rows.all():
        counts[SignupStatus(status)] = int(count)
    return counts

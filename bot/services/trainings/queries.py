"""Reading trainings: one training (for a coordinator, or as members may see it), its sessions, the
organization's list for coordinators, and sign-up counts and places. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import inspect as sa_inspect
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import seat_queries
from bot.services.origins import sees
from bot.services.rows import reloaded
from bot.services.trainings.rules import TrainingError
from storage.models import Event, EventStatus, SignupStatus, Training, TrainingSignup, TrainingStatus
from storage.types import ROW_ID_MAX

# Listed for coordinators: drafts are never left behind (the dialog publishes at once), cancelled
# trainings are over.
LISTED = (TrainingStatus.OPEN, TrainingStatus.CLOSED, TrainingStatus.COMPLETED)


async def get_training(session: AsyncSession, training_id: int) -> Training:
    training = await reloaded(session, Training, training_id)
    if training is None:
        raise TrainingError("not_found")
    return training


async def fresh(session: AsyncSession, training: Training) -> Training:
    """The training as stored now (also when the caller's copy was expired by a rollback)."""
    identity = sa_inspect(training).identity
    return await get_training(session, int(identity[0]) if identity else training.id or 0)


async def visible_training(session: AsyncSession, member_id: int | None, training_id: int) -> Training | None:
    """A training this member may see: published (not a draft), of an active organization they
    belong to; None otherwise (a forged id, another organization's training)."""
    if not 0 < training_id <= ROW_ID_MAX:
        return None
    training = await session.get(Training, training_id, populate_existing=True)
    if (
        training is None
        or training.status == TrainingStatus.DRAFT
        or not await sees(session, member_id, training.organization_id)
    ):
        return None
    return training


async def sessions_of(session: AsyncSession, training_id: int) -> list[Event]:
    """The training's session events, by start."""
    result = await session.exec(
        select(Event)
        .where(Event.training_id == training_id)
        .order_by(col(Event.starts_at), col(Event.id))
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def next_session(session: AsyncSession, training_id: int, now: datetime) -> Event | None:
    return next(
        (
            event
            for event in await sessions_of(session, training_id)
            if event.starts_at > now and event.status != EventStatus.CANCELLED
        ),
        None,
    )


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


# -- sign-ups ------------------------------------------------------------------------------------


async def my_signup(session: AsyncSession, training_id: int, member_id: int) -> TrainingSignup | None:
    """The member's sign-up for the training (whatever its status), as stored now."""
    return await seat_queries.answer_of(session, col(TrainingSignup.training_id), training_id, member_id)


async def count_signups(session: AsyncSession, training_id: int, status: SignupStatus) -> int:
    parent = col(TrainingSignup.training_id)
    return await seat_queries.count_answers(session, parent, training_id, TrainingSignup.status == status)


async def signup_counts(session: AsyncSession, training_id: int) -> dict[SignupStatus, int]:
    """Sign-ups per status, every status present."""
    result = await session.exec(
        select(TrainingSignup.status, func.count())
        .where(TrainingSignup.training_id == training_id)
        .group_by(TrainingSignup.status)
    )
    found = {SignupStatus(status): int(count) for status, count in result.all()}
    return {status: found.get(status, 0) for status in SignupStatus}


async def seats_left(session: AsyncSession, training: Training) -> int:
    return max(0, training.capacity - await count_signups(session, training.id or 0, SignupStatus.CONFIRMED))


async def place_in_line(session: AsyncSession, training_id: int, seq: int) -> int:
    """The waitlist place (1 = next in line) of the sign-up taken at `seq`."""
    parent = col(TrainingSignup.training_id)
    return await seat_queries.place_in_line(session, parent, training_id, SignupStatus.WAITLISTED, seq)


async def waitlist_position(session: AsyncSession, training_id: int, member_id: int) -> int | None:
    signup = await my_signup(session, training_id, member_id)
    if signup is None or signup.status != SignupStatus.WAITLISTED:
        return None
    return await place_in_line(session, training_id, signup.seq)

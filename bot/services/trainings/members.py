"""Trainings as members see them: the open trainings they may sign up for and their own sign-ups;
and what `/mydata` exports and `/forget` erases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import audience_filter
from bot.services.trainings.attendance import completion
from bot.services.trainings.lock import deadline_open
from bot.services.trainings.rules import HOLDING
from bot.services.trainings.seats import withdraw_member
from storage.models import Member, Membership, Training, TrainingSignup, TrainingStatus


async def _reaches(session: AsyncSession, training: Training, member: Member) -> bool:
    query = select(Member.id).where(
        Member.id == member.id, audience_filter(training.organization_id, training.audience, None)
    )
    return (await session.exec(query)).first() is not None


async def open_trainings_for(session: AsyncSession, member: Member, now: datetime) -> list[Training]:
    """Open trainings of the member's organizations whose audience includes them and whose sign-up
    deadline has not passed, the soonest sign-up deadline first."""
    organizations = select(Membership.organization_id).where(Membership.member_id == member.id)
    trainings = (
        await session.exec(
            select(Training)
            .where(
                col(Training.organization_id).in_(organizations),
                Training.status == TrainingStatus.OPEN,
                deadline_open(now),
            )
            .order_by(col(Training.signup_deadline), col(Training.id))
        )
    ).all()
    return [training for training in trainings if await _reaches(session, training, member)]


async def my_trainings(
    session: AsyncSession, member_id: int, now: datetime
) -> list[tuple[Training, TrainingSignup, tuple[int, int]]]:
    """The member's sign-ups (confirmed or waiting; cancelled trainings and completed ones where they
    had a seat are kept for the record), with their completion, newest training first."""
    rows = (
        await session.exec(
            select(Training, TrainingSignup)
            .join(TrainingSignup, col(TrainingSignup.training_id) == col(Training.id))
            .where(
                TrainingSignup.member_id == member_id,
                col(TrainingSignup.status).in_(HOLDING),
                Training.status != TrainingStatus.DRAFT,
            )
            .order_by(col(Training.id).desc())
            .execution_options(populate_existing=True)
        )
    ).all()
    return [
        (training, signup, await completion(session, training.id or 0, member_id))
        for training, signup in rows
    ]


async def member_signups(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """The member's sign-ups with their answers and completion, for `/mydata`."""
    rows = (
        await session.exec(
            select(Training, TrainingSignup)
            .join(TrainingSignup, col(TrainingSignup.training_id) == col(Training.id))
            .where(TrainingSignup.member_id == member_id)
            .order_by(col(TrainingSignup.created_at))
        )
    ).all()
    exported = []
    for training, signup in rows:
        attended, total = await completion(session, training.id or 0, member_id)
        exported.append(
            {
                "training": training.title,
                "status": str(signup.status),
                "answers": dict(zip([q["text"] for q in training.questions], signup.answers, strict=False)),
                "sessions_attended": attended,
                "sessions": total,
                "signed_up_at": signup.created_at.isoformat(),
                "updated_at": signup.updated_at.isoformat(),
            }
        )
    return exported


async def erase_member(session: AsyncSession, member_id: int, now: datetime) -> int:
    """For `/forget`: leave every running training (the next in line is promoted), then erase the
    answers given at sign-up. Returns how many sign-ups ended."""
    ended = await withdraw_member(session, member_id, now)
    await (await session.connection()).execute(
        update(TrainingSignup).where(col(TrainingSignup.member_id) == member_id).values(answers=[])
    )
    return ended

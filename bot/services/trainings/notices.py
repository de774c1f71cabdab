"""The notices trainings send. Nothing here sends: every notification decision is a
`TrainingNotice` row whose outbox rows (kind "training_notice", ref_id = the notice id) are written
in the caller's transaction (`bot.services.outbox_rows`); `bot.delivery.trainings` renders them at
send time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import audience_members, count_members, reachable_members
from bot.services.outbox_rows import Notices, write_notice
from bot.services.trainings.rules import MUTE_TOPIC, NOTICE_KIND
from storage.models import Member, Organization, SignupStatus, Training, TrainingNotice, TrainingSignup

NOTICES = Notices(TrainingNotice, "training_id", NOTICE_KIND)


def audience_query(training: Training) -> Any:
    """The members a "published" notice goes to (the training's audience, minus those who muted it)."""
    return audience_members(training.organization_id, training.audience, MUTE_TOPIC)


async def count_audience(session: AsyncSession, training: Training) -> int:
    """How many members publishing would notify (for the coordinator's preview)."""
    return await count_members(session, training.organization_id, training.audience, MUTE_TOPIC)


async def count_audience_of(session: AsyncSession, organization_id: int, audience: dict[str, Any]) -> int:
    """How many members publishing to `audience` would tell (the training is not written yet)."""
    return await count_members(session, organization_id, audience, MUTE_TOPIC)


async def organization_of(session: AsyncSession, training: Training) -> Organization:
    organization = await session.get(Organization, training.organization_id)
    assert organization is not None
    return organization


async def notify(
    session: AsyncSession,
    training: Training,
    kind: str,
    details: dict[str, Any],
    statuses: Sequence[SignupStatus],
    now: datetime,
    *,
    member_ids: Sequence[int] | None = None,
) -> int:
    """One notice to the participants whose sign-up is in `statuses` (or to `member_ids`), at once."""
    organization = await organization_of(session, training)
    query = reachable_members()
    if member_ids is not None:
        query = query.where(col(Member.id).in_(member_ids))
    else:
        query = query.join(TrainingSignup, col(TrainingSignup.member_id) == col(Member.id)).where(
            TrainingSignup.training_id == training.id, col(TrainingSignup.status).in_(statuses)
        )
    return await write_notice(session, NOTICES, training, organization, kind, details, query, now)

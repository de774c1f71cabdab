"""The notices trainings send. Nothing here sends: every notification decision is a
`TrainingNotice` row whose outbox rows (kind "training_notice", ref_id = the notice id) are written
in the caller's transaction; `bot.delivery.trainings` renders them at send time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import audience_filter, count_members, member_pages
from bot.services.trainings.rules import MUTE_TOPIC, NOTICE_KIND, version_for
from storage.models import (
    DeliveryStatus,
    Member,
    Membership,
    MemberStatus,
    Organization,
    OutboxMessage,
    SignupStatus,
    Training,
    TrainingNotice,
    TrainingSignup,
)


def recipient_query() -> Any:
    """Members who can be told anything: active, consenting, reachable."""
    return select(Member.id, Member.telegram_id, Member.language, Member.timezone).where(
        Member.status == MemberStatus.ACTIVE,
        col(Member.consent_at).is_not(None),
        col(Member.telegram_id).is_not(None),
    )


def audience_query(training: Training) -> Any:
    """The members a "published" notice goes to (the training's audience, minus those who muted it)."""
    return (
        select(Member.id, Member.telegram_id, Member.language, Member.timezone)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(audience_filter(training.organization_id, training.audience, MUTE_TOPIC))
    )


async def count_audience(session: AsyncSession, training: Training) -> int:
    """How many members publishing would notify (for the coordinator's preview)."""
    return await count_members(session, training.organization_id, training.audience, MUTE_TOPIC)


async def count_audience_of(session: AsyncSession, organization_id: int, audience: dict[str, Any]) -> int:
    """How many members publishing to `audience` would tell (the training is not written yet)."""
    return await count_members(session, organization_id, audience, MUTE_TOPIC)


def outbox_row(
    notice_id: int,
    recipient: Any,
    training: Training,
    organization: Organization,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> dict[str, Any]:
    """`language` is the member's interface language; the payload carries `version` (the language
    of the title/description they get) and their `timezone`."""
    member_id, chat_id, language, zone = recipient
    return {
        "kind": NOTICE_KIND,
        "ref_id": notice_id,
        "member_id": member_id,
        "chat_id": chat_id,
        "language": language or organization.default_language,
        "payload": {
            "training_id": training.id,
            **payload,
            "version": version_for(training, language, organization.default_language),
            "timezone": zone or organization.timezone,
        },
        "status": DeliveryStatus.PENDING,
        "not_before": not_before,
        "attempts": 0,
        "created_at": now,
    }


async def new_notice(
    session: AsyncSession, training_id: int, kind: str, details: dict[str, Any], now: datetime
) -> int:
    notice = TrainingNotice(training_id=training_id, kind=kind, details=details, created_at=now)
    session.add(notice)
    await session.flush()
    assert notice.id is not None
    return notice.id


async def insert_outbox(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(insert(OutboxMessage), rows)


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
    """One notice to the participants whose sign-up is in `statuses` (or to `member_ids`)."""
    organization = await organization_of(session, training)
    notice_id = await new_notice(session, training.id or 0, kind, details, now)
    query = recipient_query()
    if member_ids is not None:
        query = query.where(col(Member.id).in_(member_ids))
    else:
        query = query.join(TrainingSignup, col(TrainingSignup.member_id) == col(Member.id)).where(
            TrainingSignup.training_id == training.id, col(TrainingSignup.status).in_(statuses)
        )
    total = 0
    payload = {"notice": kind, **details}
    async for page in member_pages(session, query):
        rows = [outbox_row(notice_id, row, training, organization, payload, now, now) for row in page]
        await insert_outbox(session, rows)
        total += len(rows)
    return total

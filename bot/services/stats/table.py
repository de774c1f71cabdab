"""The super-admins' table: one row per organization (not archived) for a period, each figure
counted for every organization in one grouped query. Joins and leaves are suppressed across the
organizations as the weekly counts are across weeks: the confederation's total minus the shown rows
never gives a hidden one back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.stats.members import LEFT_ACTIONS, counted, parsed
from bot.services.stats.period import Period
from bot.services.suppression import series
from storage.models import (
    Announcement,
    AuditEntry,
    DeliveryStatus,
    Event,
    EventStatus,
    Member,
    Membership,
    Organization,
    OrgStatus,
    OutboxMessage,
    Rsvp,
)


@dataclass(frozen=True)
class OrganizationRow:
    organization_id: int
    name: str
    members: int
    joins: int | str  # a count, `FEW` or `WITHHELD`
    leaves: int | str
    events: int
    checkins: int
    delivered: int


async def _grouped(session: AsyncSession, query: Any) -> Counter[int]:
    return Counter({key: int(count) for key, count in (await session.exec(query)).all() if key is not None})


async def organization_rows(session: AsyncSession, period: Period, min_group: int) -> list[OrganizationRow]:
    """Every organization that is not archived, most members first."""
    names = dict(
        (
            await session.exec(
                select(Organization.id, Organization.name).where(Organization.status != OrgStatus.ARCHIVED)
            )
        ).all()
    )
    members = await _grouped(
        session,
        select(Membership.organization_id, func.count())
        .join(Member, col(Member.id) == col(Membership.member_id))
        .where(*counted())
        .group_by(col(Membership.organization_id)),
    )
    joins = await _grouped(
        session,
        select(Membership.organization_id, func.count())
        .where(col(Membership.created_at) >= period.start, col(Membership.created_at) < period.end)
        .group_by(col(Membership.organization_id)),
    )
    leaves: Counter[int] = Counter()
    left = await session.exec(
        select(AuditEntry.organization_id, AuditEntry.at, AuditEntry.details).where(
            col(AuditEntry.action).in_(LEFT_ACTIONS), col(AuditEntry.at) >= period.start
        )
    )
    for organization_id, at, details in left.all():
        if organization_id is None:
            continue
        leaves[organization_id] += period.contains(at)
        joined = parsed(details.get("joined_at"))
        joins[organization_id] += joined is not None and period.contains(joined)
    events = await _grouped(session, _events(period))
    checkins = await _grouped(
        session,
        _events(period).join(Rsvp, col(Rsvp.event_id) == col(Event.id)).where(col(Rsvp.attended).is_(True)),
    )
    delivered = await _grouped(
        session,
        select(Announcement.organization_id, func.count())
        .join(OutboxMessage, col(OutboxMessage.ref_id) == col(Announcement.id))
        .where(
            OutboxMessage.kind == "announcement",
            OutboxMessage.status == DeliveryStatus.SENT,
            col(Announcement.started_at) >= period.start,
            col(Announcement.started_at) < period.end,
        )
        .group_by(col(Announcement.organization_id)),
    )
    shown_joins = series({key: joins[key] for key in names}, min_group)
    shown_leaves = series({key: leaves[key] for key in names}, min_group)
    rows = [
        OrganizationRow(
            key,
            name,
            members[key],
            shown_joins[key],
            shown_leaves[key],
            events[key],
            checkins[key],
            delivered[key],
        )
        for key, name in names.items()
    ]
    return sorted(rows, key=lambda row: (-row.members, row.name.casefold()))


def _events(period: Period) -> Any:
    """(organization, how many) of the events (not training sessions) published and starting in the
    period; the caller may join more."""
    return (
        select(Event.organization_id, func.count())
        .where(
            col(Event.training_id).is_(None),
            Event.status == EventStatus.PUBLISHED,
            col(Event.starts_at) >= period.start,
            col(Event.starts_at) < period.end,
        )
        .group_by(col(Event.organization_id))
    )


async def organization_choices(
    session: AsyncSession, offset: int, limit: int
) -> tuple[list[tuple[int, str]], int]:
    """A page of the organizations (not archived) by name, for the super-admins' choice, and how
    many there are."""
    condition = Organization.status != OrgStatus.ARCHIVED
    total = int((await session.exec(select(func.count()).select_from(Organization).where(condition))).one())
    rows = await session.exec(
        select(Organization.id, Organization.name)
        .where(condition)
        .order_by(col(Organization.name), col(Organization.id))
        .offset(max(0, offset))
        .limit(limit)
    )
    return [(organization_id or 0, name) for organization_id, name in rows.all()], total

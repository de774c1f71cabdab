"""Members over time and by profile: joins and leaves per week, and how many members live in each
country and city, come from each country, speak each language and follow each interest.

A leave deletes the membership row, so the audit log remembers it: a "membership.left" entry (or a
"member.deleted" one, written by /forget) carries `details["joined_at"]`. A week's joins are the
memberships created that week that still exist plus the left ones that had joined that week; its
leaves are those entries written that week."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.stats.period import Period, Scope
from storage.models import AuditEntry, Member, Membership, MemberStatus

LEFT_ACTIONS = ("membership.left", "member.deleted")
NOT_GIVEN = "?"  # the group of members who did not say
PROFILE_FIELDS = ("residence_country", "residence_city", "origin_country", "language", "interests")


@dataclass(frozen=True)
class Flow:
    """Joins and leaves per week (Monday → count), every week of the period present."""

    joins: dict[date, int]
    leaves: dict[date, int]


def counted() -> list[object]:
    """Members counted in statistics: registered (consented), whatever their reachability."""
    return [col(Member.consent_at).is_not(None), col(Member.status) != MemberStatus.DELETED]


async def member_count(session: AsyncSession, scope: Scope) -> int:
    """The members now (each once, even when they belong to several organizations of the scope)."""
    query = (
        select(func.count(func.distinct(Membership.member_id)))
        .join(Member, col(Member.id) == col(Membership.member_id))
        .where(scope.where(Membership.organization_id), *counted())
    )
    return int((await session.exec(query)).one())


def parsed(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


async def flow(session: AsyncSession, scope: Scope, period: Period) -> Flow:
    """Joins and leaves per week of the period (zeros when nobody joined or left)."""
    joined = await session.exec(
        select(Membership.created_at).where(
            scope.where(Membership.organization_id),
            col(Membership.created_at) >= period.start,
            col(Membership.created_at) < period.end,
        )
    )
    left = (
        await session.exec(
            select(AuditEntry.at, AuditEntry.details).where(
                scope.where(AuditEntry.organization_id),
                col(AuditEntry.action).in_(LEFT_ACTIONS),
                col(AuditEntry.organization_id).is_not(None),
                col(AuditEntry.at) >= period.start,
            )
        )
    ).all()
    joined_then = [moment for _, details in left if (moment := parsed(details.get("joined_at")))]
    return Flow(
        joins=period.per_week([*joined.all(), *joined_then]),
        leaves=period.per_week(at for at, _ in left),
    )


async def profile_counts(session: AsyncSession, scope: Scope) -> dict[str, Counter[str]]:
    """For each of `PROFILE_FIELDS`, how many members fall in each group (`NOT_GIVEN` for those who
    did not say; a city is "City, CC"). Interests: a member counts in each interest they follow."""
    member_ids = select(Membership.member_id).where(scope.where(Membership.organization_id)).scalar_subquery()
    rows = await session.exec(
        select(
            Member.residence_country,
            Member.residence_city,
            Member.origin_country,
            Member.language,
            Member.interests,
        ).where(col(Member.id).in_(member_ids), *counted())
    )
    counts: dict[str, Counter[str]] = {name: Counter() for name in PROFILE_FIELDS}
    for residence, city, origin, language, interests in rows.all():
        counts["residence_country"][residence or NOT_GIVEN] += 1
        place = " ".join((city or "").split()).title()
        counts["residence_city"][f"{place}, {residence or NOT_GIVEN}" if place else NOT_GIVEN] += 1
        counts["origin_country"][origin or NOT_GIVEN] += 1
        counts["language"][language or NOT_GIVEN] += 1
        for interest in interests or [NOT_GIVEN]:
            counts["interests"][interest] += 1
    return counts

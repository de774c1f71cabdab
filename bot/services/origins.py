"""What a member sees, and from which organization: the organizations whose events, trainings and
surveys reach them (every active one they belong to, plus events opened to the whole confederation
and surveys a super-admin sent their way), and the organization's name each card and message shows.

The name is shown only when the deployment has more than one active organization: a
single-organization deployment looks as it always did, and where there are several every member
sees the same card (a member of one organization still learns which one an open event comes from).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, exists, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import organizations_reached
from bot.services.organization_cache import cache_of
from bot.services.organizations import organization_text
from storage.models import Event, Membership, Organization, OrgStatus

# These conditions name the tables' columns, not the models' attributes: the same SQL, and a
# statement of table columns that uses them stays a Core one (no ORM compile or result set-up: the
# /events page, `bot.services.events.queries`).
_EVENTS, _MEMBERSHIPS = Event.__table__.c, Membership.__table__.c  # type: ignore[attr-defined]
_ORGANIZATIONS = Organization.__table__.c  # type: ignore[attr-defined]


def active_organizations() -> Any:
    """The ids of the organizations that act (not suspended, not archived)."""
    return select(_ORGANIZATIONS.id).where(_ORGANIZATIONS.status == OrgStatus.ACTIVE)


def member_organizations(member_id: Any) -> Any:
    """The ids of the active organizations the member belongs to (`member_id` a value or a bound
    parameter)."""
    return select(_MEMBERSHIPS.organization_id).where(
        _MEMBERSHIPS.member_id == member_id, _MEMBERSHIPS.organization_id.in_(active_organizations())
    )


def events_for(member_id: Any) -> Any:
    """SQL condition on `Event`: of one of the member's organizations, or open to every organization
    (of an active one)."""
    return or_(
        _EVENTS.organization_id.in_(member_organizations(member_id)),
        and_(_EVENTS.open_to_all.is_(True), _EVENTS.organization_id.in_(active_organizations())),
    )


async def sees(session: AsyncSession, member_id: int | None, organization_id: int) -> bool:
    """Does the member belong to this organization, and is it active?"""
    query = member_organizations(member_id).where(_MEMBERSHIPS.organization_id == organization_id)
    return (await session.exec(query.limit(1))).first() is not None


async def reached(
    session: AsyncSession, member_id: int | None, organization_id: int, audience: dict[str, Any]
) -> bool:
    """Is the member in an active organization that the audience reaches (its own organization, or
    the organizations of its confederation-wide reach)? Its other filters are not applied: a member
    may answer a survey forwarded to them."""
    query = select(
        exists().where(
            Membership.member_id == member_id,
            organizations_reached(organization_id, audience),
            col(Membership.organization_id).in_(active_organizations()),
        )
    )
    return bool((await session.exec(query)).one())


async def shows_origins(session: AsyncSession) -> bool:
    """More than one active organization: cards and messages say which one they come from (the
    count is the organization cache's, when the session's engine has one)."""
    cache = cache_of(session)
    if cache is not None:
        return await cache.active_count(session) > 1
    query = select(func.count()).select_from(Organization).where(Organization.status == OrgStatus.ACTIVE)
    return int((await session.exec(query)).one()) > 1


async def origin_names(session: AsyncSession, locale: str) -> dict[int, str]:
    """{organization id: its name in `locale`} to label cards with; empty when names are not shown
    (read once while nothing changes, when the session's engine has an organization cache)."""
    if not await shows_origins(session):
        return {}
    cache = cache_of(session)
    if cache is not None:
        organizations: Sequence[Organization] = await cache.every(session)
    else:
        organizations = (await session.exec(select(Organization))).all()
    return {
        organization.id or 0: organization_text(organization, "name", locale)
        for organization in organizations
    }


async def origin_name(session: AsyncSession, organization_id: int, locale: str) -> str | None:
    """The organization's name to label one card or message with, or None when names are not shown."""
    if not await shows_origins(session):
        return None
    organization = await session.get(Organization, organization_id)
    return organization_text(organization, "name", locale) if organization is not None else None

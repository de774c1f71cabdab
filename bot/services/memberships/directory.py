"""The directory: listed, active organizations and networks, filtered by country of activity,
language and topic, searched by name in any script (folded as the country search folds: case,
accents, Arabic short vowels), a page at a time; each card's facts (upcoming events, a rounded
member count); and what a member sees of their own organizations.

A confederation has tens or hundreds of organizations: the listed ones are read whole and filtered
here, which keeps the search's folding (not portable SQL) and stays well under a millisecond per
hundred organizations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.memberships.joining import membership_in, pending_request
from bot.services.organizations import organization_text
from bot.services.text import fold
from storage.models import (
    Event,
    EventStatus,
    Member,
    Membership,
    MemberStatus,
    Organization,
    OrgKind,
    OrgStatus,
    Role,
    Visibility,
)

PAGE_SIZE = 6
QUERY_MAX = 60
EXACT_BELOW = 10  # member counts below this are never shown exactly


@dataclass(frozen=True)
class DirectoryFilter:
    country: str = ""  # ISO code of a country of activity
    language: str = ""  # a working language
    topic: str = ""  # an interest key
    query: str = ""  # part of the name, in any script

    @property
    def active(self) -> bool:
        return bool(self.country or self.language or self.topic or self.query)


@dataclass(frozen=True)
class Listing:
    entries: list[Organization]
    total: int
    page: int
    pages: int


class Standing(StrEnum):
    """Where a member stands with an organization."""

    NONE = "none"
    MEMBER = "member"
    PENDING = "pending"  # their request waits for the admins


@dataclass(frozen=True)
class Facts:
    upcoming_events: int
    members: int  # exact: shown rounded (`rounded_members`)


async def listed_organizations(session: AsyncSession) -> list[Organization]:
    result = await session.exec(
        select(Organization).where(
            Organization.visibility == Visibility.LISTED, Organization.status == OrgStatus.ACTIVE
        )
    )
    return list(result.all())


def _names(organization: Organization) -> list[str]:
    names = [organization.name, organization.slug]
    for translated in (organization.translations or {}).values():
        if isinstance(translated, dict) and isinstance(translated.get("name"), str):
            names.append(translated["name"])
    return [fold(name) for name in names if name]


def matches(organization: Organization, wanted: DirectoryFilter) -> bool:
    if wanted.country and wanted.country not in (organization.countries or []):
        return False
    if wanted.language and wanted.language not in (organization.languages or []):
        return False
    if wanted.topic and wanted.topic not in (organization.topics or []):
        return False
    folded = fold(wanted.query)
    return not folded or any(folded in name for name in _names(organization))


def _order(organization: Organization, language: str) -> tuple[bool, str, int]:
    """Organizations first, then networks; each by name as the member reads it."""
    name = fold(organization_text(organization, "name", language))
    return organization.kind == OrgKind.NETWORK, name, organization.id or 0


async def directory_page(session: AsyncSession, wanted: DirectoryFilter, page: int, language: str) -> Listing:
    found = sorted(
        (org for org in await listed_organizations(session) if matches(org, wanted)),
        key=lambda org: _order(org, language),
    )
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    return Listing(found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], len(found), page, pages)


async def facets(session: AsyncSession) -> dict[str, list[str]]:
    """The countries, languages and topics the listed organizations name (the filters' choices)."""
    found: dict[str, set[str]] = {"country": set(), "language": set(), "topic": set()}
    for organization in await listed_organizations(session):
        found["country"].update(organization.countries or [])
        found["language"].update(organization.languages or [])
        found["topic"].update(organization.topics or [])
    return {key: sorted(values) for key, values in found.items()}


async def listed_by_slug(session: AsyncSession, slug: str) -> Organization | None:
    """A listed, active organization by its slug (a `?start=dir_<slug>` link)."""
    result = await session.exec(
        select(Organization).where(
            Organization.slug == slug,
            Organization.visibility == Visibility.LISTED,
            Organization.status == OrgStatus.ACTIVE,
        )
    )
    return result.first()


async def facts(session: AsyncSession, organization_id: int, now: datetime) -> Facts:
    events = (
        select(func.count())
        .select_from(Event)
        .where(
            Event.organization_id == organization_id,
            Event.status == EventStatus.PUBLISHED,
            col(Event.training_id).is_(None),
            or_(col(Event.starts_at) > now, and_(col(Event.ends_at).is_not(None), col(Event.ends_at) > now)),
        )
    )
    members = (
        select(func.count())
        .select_from(Membership)
        .join(Member, col(Member.id) == col(Membership.member_id))
        .where(
            Membership.organization_id == organization_id,
            col(Member.consent_at).is_not(None),
            Member.status != MemberStatus.DELETED,
        )
    )
    return Facts(int((await session.exec(events)).one()), int((await session.exec(members)).one()))


def rounded_members(count: int) -> int | None:
    """The member count as shown: None below ten (never exact), else to the nearest ten."""
    return None if count < EXACT_BELOW else (count + 5) // 10 * 10


async def standing(
    session: AsyncSession, member: Member | None, organization_id: int
) -> tuple[Standing, Role | None]:
    """Whether the member belongs to the organization (and their role), or asked to."""
    if member is None or member.id is None:
        return Standing.NONE, None
    membership = await membership_in(session, organization_id, member.id)
    if membership is not None:
        return Standing.MEMBER, Role(membership.role)
    if await pending_request(session, organization_id, member.id) is not None:
        return Standing.PENDING, None
    return Standing.NONE, None


async def memberships_of(session: AsyncSession, member: Member) -> list[tuple[Organization, Role]]:
    """The member's organizations (archived ones left out), in the order they joined."""
    result = await session.exec(
        select(Organization, Membership.role)
        .join(Membership, col(Membership.organization_id) == col(Organization.id))
        .where(Membership.member_id == member.id, Organization.status != OrgStatus.ARCHIVED)
        .order_by(col(Membership.id))
    )
    return [(organization, Role(role)) for organization, role in result.all()]


async def administers_any(session: AsyncSession, member: Member | None) -> bool:
    """Is the person an admin of at least one organization?"""
    if member is None or member.id is None or member.status != MemberStatus.ACTIVE:
        return False
    result = await session.exec(
        select(Membership.id).where(Membership.member_id == member.id, Membership.role == Role.ADMIN).limit(1)
    )
    return result.first() is not None

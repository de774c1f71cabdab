"""What announcements, events and surveys share about reaching members: the audience filter and
paging through an audience without loading it whole (each member's language version:
`bot.services.versions`).

An audience reaches the members of its organization, or, when a super-admin widened it (its
"reach", see `organizations_reached`), the members of every active organization, of those active
in a country, or of chosen ones. A member is selected once however many of those organizations
they belong to (a semi-join on memberships, never a join that would repeat them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import String, and_, cast, exists, false, func, not_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Member, Membership, MemberStatus, Organization, OrgStatus

# "members": explicit member ids (e.g. a training's attendees for its feedback survey); "reach":
# the organizations reached beyond the audience's own ({"all": true}, {"country": "DE"} or
# {"organizations": [ids]}), which only super-admins set.
AUDIENCE_KEYS = (
    "interests",
    "languages",
    "residence_countries",
    "origin_countries",
    "city",
    "members",
    "reach",
)
PAGE = 1000


def _json_has(column: Any, key: str) -> Any:
    """A JSON list column contains `key` (keys are fixed identifiers, so text matching is exact)."""
    return cast(column, String).like(f'%"{key}"%')


def is_wide(audience: Any) -> bool:
    """Does the audience reach beyond its own organization (a confederation-wide reach)?"""
    return isinstance(audience, dict) and bool(audience.get("reach"))


def organizations_reached(organization_id: int, audience: dict[str, Any]) -> Any:
    """SQL condition on `Membership.organization_id`: the audience's own organization, or the active
    organizations its reach names (suspended and archived ones never: nothing goes out for them)."""
    reach = audience.get("reach")
    if not isinstance(reach, dict) or not reach:
        return Membership.organization_id == organization_id
    active = select(Organization.id).where(Organization.status == OrgStatus.ACTIVE)
    if isinstance(country := reach.get("country"), str):
        if not (len(country) == 2 and country.isascii() and country.isalpha()):
            return false()
        active = active.where(_json_has(Organization.countries, country.upper()))
    elif isinstance(chosen := reach.get("organizations"), list):
        active = active.where(col(Organization.id).in_([int(ident) for ident in chosen]))
    elif reach.get("all") is not True:
        return Membership.organization_id == organization_id
    return col(Membership.organization_id).in_(active)


def audience_filter(organization_id: int, audience: dict[str, Any], category: str | None) -> Any:
    """SQL condition on `Member` for the members an announcement, event or survey reaches (active,
    consented, in the organization or its reach, matching the filters, not muting `category`)."""
    conditions = [
        col(Member.id).in_(
            select(Membership.member_id).where(organizations_reached(organization_id, audience))
        ),
        Member.status == MemberStatus.ACTIVE,
        col(Member.consent_at).is_not(None),
        col(Member.telegram_id).is_not(None),
    ]
    if interests := audience.get("interests"):
        conditions.append(or_(*(_json_has(Member.interests, key) for key in interests)))
    if languages := audience.get("languages"):
        conditions.append(col(Member.language).in_(languages))
    if countries := audience.get("residence_countries"):
        conditions.append(col(Member.residence_country).in_(countries))
    if countries := audience.get("origin_countries"):
        conditions.append(col(Member.origin_country).in_(countries))
    if "members" in audience:  # an empty list reaches no one (never "everyone")
        conditions.append(col(Member.id).in_([int(member_id) for member_id in audience["members"] or []]))
    if city := audience.get("city"):
        conditions.append(func.lower(Member.residence_city) == city.lower())
    if category:
        conditions.append(not_(_json_has(Member.muted, category)))
    return and_(*conditions)


def still_member(organization_id: Any) -> Any:
    """The member (of the query's `Member` row) belongs to the organization (a column or an id):
    those who left it hear nothing more from it, even about what they answered before."""
    return exists().where(
        col(Membership.member_id) == col(Member.id), col(Membership.organization_id) == organization_id
    )


def reachable_members() -> Any:
    """(member id, chat id, language, zone) of every member who can be told anything: active,
    consenting, with a chat. Callers narrow it (those who answered an event, one member)."""
    return select(Member.id, Member.telegram_id, Member.language, Member.timezone).where(
        Member.status == MemberStatus.ACTIVE,
        col(Member.consent_at).is_not(None),
        col(Member.telegram_id).is_not(None),
    )


def audience_members(organization_id: int, audience: dict[str, Any], category: str | None) -> Any:
    """(member id, chat id, language, zone) of the members `audience_filter` selects."""
    return select(Member.id, Member.telegram_id, Member.language, Member.timezone).where(
        audience_filter(organization_id, audience, category)
    )


async def count_members(
    session: AsyncSession, organization_id: int, audience: dict[str, Any], category: str | None
) -> int:
    """How many members `audience_filter` selects (the "reaches N members" of every composer)."""
    query = (
        select(func.count()).select_from(Member).where(audience_filter(organization_id, audience, category))
    )
    return int((await session.exec(query)).one())


async def member_pages(session: AsyncSession, query: Any) -> AsyncIterator[list[Any]]:
    """Keyset pagination by member id (the query's first column): never holds a whole audience in
    memory."""
    last_id = 0
    while True:
        page = query.where(col(Member.id) > last_id).order_by(col(Member.id)).limit(PAGE)
        rows = (await session.exec(page)).all()
        if not rows:
            return
        yield list(rows)
        last_id = rows[-1][0]


def spreadsheet_cell(value: str) -> str:
    """Spreadsheets run cells starting with = + - @ as formulas: neutralize them (CSV exports)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

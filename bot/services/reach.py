"""Confederation-wide reach: what a super-admin may add to an audience ("reach", read by
`audience.organizations_reached`) — every active organization, those active in a country, or
chosen ones — and the lists the picker offers. Suspended and archived organizations are never
offered nor reached."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Organization, OrgStatus


def reach_of(audience: dict[str, Any] | None) -> dict[str, Any]:
    """The audience's reach ({} when it stays in its organization)."""
    reach = (audience or {}).get("reach")
    return dict(reach) if isinstance(reach, dict) else {}


def with_reach(audience: dict[str, Any], reach: dict[str, Any] | None) -> dict[str, Any]:
    """`audience` with this reach (None or empty: back to its own organization)."""
    kept = {key: value for key, value in audience.items() if key != "reach"}
    return {**kept, "reach": reach} if reach else kept


def chosen_organizations(audience: dict[str, Any] | None) -> list[int]:
    chosen = reach_of(audience).get("organizations")
    return [int(ident) for ident in chosen] if isinstance(chosen, list) else []


def toggled_organization(audience: dict[str, Any], organization_id: int) -> dict[str, Any]:
    """The chosen organizations with this one added or removed (none left: no reach)."""
    chosen = chosen_organizations(audience)
    chosen = (
        [ident for ident in chosen if ident != organization_id]
        if organization_id in chosen
        else [
            *chosen,
            organization_id,
        ]
    )
    return with_reach(audience, {"organizations": sorted(chosen)} if chosen else None)


async def reach_organizations(session: AsyncSession) -> list[tuple[int, str]]:
    """(id, name) of every active organization, by name."""
    rows = (
        await session.exec(
            select(Organization.id, Organization.name)
            .where(Organization.status == OrgStatus.ACTIVE)
            .order_by(col(Organization.name), col(Organization.id))
        )
    ).all()
    return [(int(ident or 0), name) for ident, name in rows]


async def organization_names(session: AsyncSession) -> list[tuple[int, str]]:
    """(id, name) of every organization, whatever its status (for results that name them)."""
    rows = (await session.exec(select(Organization.id, Organization.name))).all()
    return [(int(ident or 0), name) for ident, name in rows]


async def reach_countries(session: AsyncSession) -> list[str]:
    """The countries some active organization is active in (ISO codes, sorted)."""
    lists = (
        await session.exec(select(Organization.countries).where(Organization.status == OrgStatus.ACTIVE))
    ).all()
    return sorted({str(code).upper() for countries in lists for code in countries or [] if code})

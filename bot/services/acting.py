"""Which organization a person acts for: the one place that decides it (`MemberMiddleware` calls
`acting_organization` for every update, and the result is `ctx.organization` everywhere).

Staff of several organizations, and the confederation's super-admins, choose with the switcher on
the staff dialogs' first card (`choose_acting`); the choice is remembered on the member
(`Member.acting_organization_id`) and holds while they are still staff there (super-admins: always)
and the organization is not archived. Otherwise: the first organization where they hold a staff
role, else the deployment's own (the first organization)."""

from __future__ import annotations

from typing import Final

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.confederation.listing import organizations_with_role
from bot.services.membership_cache import memberships
from bot.services.organization_cache import cache_of
from bot.services.roles import Actor
from storage.models import Member, MemberStatus, Organization, OrgStatus, Role
from storage.types import utcnow

STAFF_ROLES: Final = (Role.COORDINATOR, Role.ORGANIZER, Role.ADMIN)


async def staff_organizations(session: AsyncSession, member: Member | None) -> list[Organization]:
    """The organizations (not archived) where the member holds a staff role, as they joined them."""
    return await organizations_with_role(session, member, STAFF_ROLES)


async def acting_organization(
    session: AsyncSession, member: Member | None, actor: Actor | None, default: Organization
) -> Organization:
    """The organization this person acts for in this update (see the module docstring). The
    memberships and organizations come from their caches: no statement once they are warm."""
    if member is None or member.id is None or member.status != MemberStatus.ACTIVE:
        return default
    staff = [
        held.organization_id
        for held in await memberships(session, member.id)
        if held.role in STAFF_ROLES and not held.archived
    ]
    chosen = member.acting_organization_id
    if chosen is not None and (chosen in staff or (actor is not None and actor.is_super_admin)):
        organization = await _organization(session, chosen, default)
        if organization is not None and organization.status != OrgStatus.ARCHIVED:
            return organization
    if not staff:
        return default
    return await _organization(session, staff[0], default) or default


async def _organization(
    session: AsyncSession, organization_id: int, default: Organization
) -> Organization | None:
    if organization_id == default.id:
        return default
    cache = cache_of(session)
    if cache is not None:
        return await cache.get(session, organization_id)
    return await session.get(Organization, organization_id)


async def acting_choices(
    session: AsyncSession, member: Member | None, actor: Actor | None
) -> list[Organization]:
    """The organizations this person may act for: every one that is not archived for a
    super-admin, else those where they hold a staff role."""
    if actor is not None and actor.is_super_admin:
        result = await session.exec(
            select(Organization)
            .where(Organization.status != OrgStatus.ARCHIVED)
            .order_by(col(Organization.id))
        )
        return list(result.all())
    return await staff_organizations(session, member)


async def choose_acting(
    session: AsyncSession, member: Member | None, actor: Actor | None, organization_id: int
) -> Organization | None:
    """Remember that the person acts for this organization from now on; None (nothing changed)
    when they may not act for it (a forged or stale choice)."""
    if member is None or member.id is None:
        return None
    choices = await acting_choices(session, member, actor)
    organization = next((item for item in choices if item.id == organization_id), None)
    if organization is None:
        return None
    member.acting_organization_id = organization.id
    member.updated_at = utcnow()
    session.add(member)
    await session.flush()
    return organization

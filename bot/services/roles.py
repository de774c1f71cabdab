"""Organizations and roles. Every grant and revoke is written to the audit log."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.membership_cache import memberships
from bot.services.refusal import Refusal
from storage.models import AuditEntry, Member, Membership, MemberStatus, Organization, OrgStatus, Role
from storage.types import utcnow

GRANTABLE_ROLES = (Role.ORGANIZER, Role.COORDINATOR, Role.ADMIN)
# Who may act as what: an admin can do everything an organizer or coordinator can.
_IMPLIED = {
    Role.ADMIN: {Role.ADMIN, Role.ORGANIZER, Role.COORDINATOR, Role.MEMBER},
    Role.ORGANIZER: {Role.ORGANIZER, Role.MEMBER},
    Role.COORDINATOR: {Role.COORDINATOR, Role.MEMBER},
    Role.MEMBER: {Role.MEMBER},
}


class RoleError(Refusal):
    """A role change that is not allowed; `reason` is a stable code handlers translate."""


@dataclass(frozen=True)
class Actor:
    """Who is acting: their Telegram id, and whether they are a deployment super-admin."""

    telegram_id: int
    is_super_admin: bool


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64] or "community"


async def ensure_default_organization(
    session: AsyncSession, name: str, language: str, timezone: str
) -> Organization:
    """The deployment's first organization, created once on first start."""
    organization = await _first_organization(session)
    if organization is None:
        organization = Organization(
            slug=slugify(name),
            name=name,
            default_language=language,
            timezone=timezone,
            invite_code=secrets.token_urlsafe(9),
        )
        session.add(organization)
        await session.flush()
    return organization


async def _first_organization(session: AsyncSession) -> Organization | None:
    return (await session.exec(select(Organization).order_by(col(Organization.id)).limit(1))).first()


async def deployment_organization(session: AsyncSession) -> Organization:
    """The deployment's own organization (the first one, created on first start)."""
    organization = await _first_organization(session)
    assert organization is not None, "the default organization is created at start"
    return organization


async def organization_of(session: AsyncSession, member: Member) -> Organization | None:
    """The (first) organization the member joined."""
    result = await session.exec(
        select(Organization)
        .join(Membership, col(Membership.organization_id) == col(Organization.id))
        .where(Membership.member_id == member.id)
        .order_by(col(Membership.id))
        .limit(1)
    )
    return result.first()


async def role_of(session: AsyncSession, organization_id: int, member_id: int) -> Role:
    result = await session.exec(
        select(Membership.role).where(
            Membership.organization_id == organization_id, Membership.member_id == member_id
        )
    )
    role = result.first()
    return Role(role) if role else Role.MEMBER


async def acts_as(
    session: AsyncSession, actor: Actor, member: Member | None, org_id: int, role: Role
) -> bool:
    """Server-side authorization: may this person act with `role` in the organization?"""
    if actor.is_super_admin:
        return True
    if member is None or member.id is None or member.status != MemberStatus.ACTIVE:
        return False
    return role in _IMPLIED[await role_of(session, org_id, member.id)]


async def effective_roles(session: AsyncSession, actor: Actor, member: Member | None) -> set[Role]:
    """The roles whose commands the person's menu shows: every role they hold in any organization
    that is not archived (an organizer in one organization sees the organizer commands)."""
    roles = {Role.ADMIN} if actor.is_super_admin else set()
    if member is not None and member.id is not None and member.status == MemberStatus.ACTIVE:
        roles.add(Role.MEMBER)
        roles.update(held.role for held in await memberships(session, member.id) if not held.archived)
    return roles


async def staff_menus(session: AsyncSession) -> list[tuple[Member, set[Role]]]:
    """Every member who holds a staff role somewhere, with the roles their menu shows."""
    result = await session.exec(
        select(Member, Membership.role)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .join(Organization, col(Organization.id) == col(Membership.organization_id))
        .where(
            Membership.role != Role.MEMBER,
            Organization.status != OrgStatus.ARCHIVED,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    menus: dict[int, tuple[Member, set[Role]]] = {}
    for member, role in result.all():
        menus.setdefault(member.id or 0, (member, {Role.MEMBER}))[1].add(Role(role))
    return list(menus.values())


async def can_organize(
    session: AsyncSession, actor: Actor | None, member: Member | None, org_id: int
) -> bool:
    """Organizer actions (announcements, events): organizers, admins and super-admins."""
    return actor is not None and await acts_as(session, actor, member, org_id, Role.ORGANIZER)


async def can_coordinate(
    session: AsyncSession, actor: Actor | None, member: Member | None, org_id: int
) -> bool:
    """Coordinator actions (surveys, quick polls): coordinators, organizers, admins and super-admins."""
    if actor is None:
        return False
    if actor.is_super_admin:
        return True
    if member is None or member.id is None or member.status != MemberStatus.ACTIVE:
        return False
    return bool(_IMPLIED[await role_of(session, org_id, member.id)] & {Role.COORDINATOR, Role.ORGANIZER})


async def can_manage_roles(session: AsyncSession, actor: Actor, member: Member | None, org_id: int) -> bool:
    return await acts_as(session, actor, member, org_id, Role.ADMIN)


async def _set_role(
    session: AsyncSession,
    actor: Actor,
    membership: Membership,
    role: Role,
    action: str,
    details: dict[str, str],
) -> None:
    """Give the membership `role`, recorded in the audit log as `action` with `details`."""
    membership.role = role
    membership.granted_by_telegram_id = actor.telegram_id
    membership.updated_at = utcnow()
    session.add(membership)
    session.add(
        AuditEntry(
            actor_telegram_id=actor.telegram_id,
            action=action,
            organization_id=membership.organization_id,
            target_member_id=membership.member_id,
            details=details,
        )
    )
    await session.flush()


async def is_last_admin(
    session: AsyncSession, organization_id: int, target: Member, confederation_staff: Collection[int] = ()
) -> bool:
    """Would the organization be left without an admin if `target` were not one any more? The
    confederation's staff (super-admins, `confederation_staff`) are counted out: they are not the
    organization's own, and taking their role never leaves it without one."""
    if target.telegram_id in confederation_staff:
        return False
    others = await session.exec(
        select(Member.telegram_id)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(
            Membership.organization_id == organization_id,
            Membership.role == Role.ADMIN,
            Membership.member_id != target.id,
            Member.status == MemberStatus.ACTIVE,
        )
    )
    return not any(telegram_id not in confederation_staff for telegram_id in others.all())


async def grant_role(
    session: AsyncSession,
    actor: Actor,
    organization_id: int,
    target: Member,
    role: Role,
    confederation_staff: Collection[int] = (),
) -> None:
    """Give `target` this role in the organization (its admins may make admins too). Demoting the
    organization's last admin is refused (`last_admin`)."""
    if role not in GRANTABLE_ROLES:
        raise RoleError("unknown_role")
    if target.id is None or not target.is_registered or target.status != MemberStatus.ACTIVE:
        raise RoleError("not_registered")
    membership = await _membership(session, organization_id, target.id)
    previous = Role(membership.role) if membership else Role.MEMBER
    if previous == role:
        raise RoleError("already_has_role")
    if previous == Role.ADMIN and await is_last_admin(session, organization_id, target, confederation_staff):
        raise RoleError("last_admin")
    if membership is None:
        membership = Membership(organization_id=organization_id, member_id=target.id)
    await _set_role(
        session, actor, membership, role, "role.granted", {"role": str(role), "previous": str(previous)}
    )


async def revoke_role(
    session: AsyncSession,
    actor: Actor,
    organization_id: int,
    target: Member,
    confederation_staff: Collection[int] = (),
) -> Role:
    """Back to plain member. Returns the role taken away; the organization's last admin keeps
    theirs (`last_admin`)."""
    membership = await _membership(session, organization_id, target.id) if target.id else None
    if membership is None or Role(membership.role) == Role.MEMBER:
        raise RoleError("no_role")
    previous = Role(membership.role)
    if previous == Role.ADMIN and await is_last_admin(session, organization_id, target, confederation_staff):
        raise RoleError("last_admin")
    await _set_role(session, actor, membership, Role.MEMBER, "role.revoked", {"role": str(previous)})
    return previous


async def role_holders(session: AsyncSession, organization_id: int) -> list[tuple[Member, Role]]:
    result = await session.exec(
        select(Member, Membership.role)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Membership.organization_id == organization_id, Membership.role != Role.MEMBER)
        .order_by(col(Membership.role), col(Member.display_name))
    )
    return [(member, Role(role)) for member, role in result.all()]


async def find_member_by_reference(session: AsyncSession, reference: str) -> Member | None:
    """A member named by @username or numeric Telegram id (as an admin would type it)."""
    reference = reference.strip()
    if reference.lstrip("-").isdigit():
        result = await session.exec(select(Member).where(Member.telegram_id == int(reference)))
        return result.first()
    username = reference.removeprefix("@")
    if not re.fullmatch(r"[A-Za-z0-9_]{4,32}", username):
        return None
    result = await session.exec(
        select(Member).where(
            func.lower(Member.username) == username.lower(), Member.status == MemberStatus.ACTIVE
        )
    )
    return result.first()


async def _membership(
    session: AsyncSession, organization_id: int, member_id: int | None
) -> Membership | None:
    result = await session.exec(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.member_id == member_id
        )
    )
    return result.first()

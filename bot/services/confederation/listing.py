"""Organizations as staff list them: a page of the management list with member counts, and those
where a person holds a role (the organizations they administer, or act for)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Member, Membership, MemberStatus, Organization, OrgStatus, Role


@dataclass(frozen=True)
class OrganizationsPage:
    rows: list[tuple[Organization, int]]  # each organization and its number of active members
    offset: int
    total: int


def _members_of(organization_ids: Any) -> Any:
    return (
        select(Membership.organization_id, func.count())
        .join(Member, col(Member.id) == col(Membership.member_id))
        .where(col(Membership.organization_id).in_(organization_ids), Member.status == MemberStatus.ACTIVE)
        .group_by(col(Membership.organization_id))
    )


async def member_count(session: AsyncSession, organization_id: int) -> int:
    row = (await session.exec(_members_of([organization_id]))).first()
    return int(row[1]) if row else 0


async def organizations_page(
    session: AsyncSession, offset: int, size: int, only: list[int] | None = None
) -> OrganizationsPage:
    """A page of the organizations (`only` these ids, if given): active and suspended ones by name,
    archived ones last, each with its member count. An offset past the end shows the last page."""
    query = select(Organization)
    counted = select(func.count()).select_from(Organization)
    if only is not None:
        query = query.where(col(Organization.id).in_(only))
        counted = counted.where(col(Organization.id).in_(only))
    total = int((await session.exec(counted)).one())
    offset = max(0, min(offset, (max(total, 1) - 1) // size * size))
    archived_last = case((Organization.status == OrgStatus.ARCHIVED, 1), else_=0)
    organizations = list(
        (
            await session.exec(
                query.order_by(archived_last, func.lower(Organization.name), col(Organization.id))
                .offset(offset)
                .limit(size)
            )
        ).all()
    )
    counts = dict((await session.exec(_members_of([item.id for item in organizations]))).all())
    return OrganizationsPage([(item, int(counts.get(item.id, 0))) for item in organizations], offset, total)


async def organizations_with_role(
    session: AsyncSession, member: Member | None, roles: Collection[Role]
) -> list[Organization]:
    """The organizations (not archived) where the active member holds one of `roles`, in the
    order they joined them."""
    if member is None or member.id is None or member.status != MemberStatus.ACTIVE:
        return []
    result = await session.exec(
        select(Organization)
        .join(Membership, col(Membership.organization_id) == col(Organization.id))
        .where(
            Membership.member_id == member.id,
            col(Membership.role).in_(roles),
            Organization.status != OrgStatus.ARCHIVED,
        )
        .order_by(col(Membership.id))
    )
    return list(result.all())


async def administered(session: AsyncSession, member: Member | None) -> list[Organization]:
    """The organizations (not archived) where the member is an admin."""
    return await organizations_with_role(session, member, (Role.ADMIN,))

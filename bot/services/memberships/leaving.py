"""Leaving an organization: the membership row goes (so every audience, which joins memberships,
stops at once), the messages of that organization still waiting for the member are cancelled, and
the member's own history (event answers, survey answers, sign-ups) stays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import roles
from bot.services.memberships.joining import membership_in
from bot.services.memberships.rules import LEFT, MembershipError
from bot.services.outbox_rows import cancel_pending
from bot.services.surveys.rules import POLL_STOP_KIND as POLL_STOP
from storage.models import AuditEntry, Member, Membership, OutboxMessage, Role


def organization_rows(organization_id: int) -> Any:
    """Outbox rows sent on behalf of the organization (each row carries the organization it speaks
    for), but a native poll's "poll_stop", which only closes a poll already sent. The weekly digest
    of resources and a super-admin's confederation-wide reach speak for no one organization: they
    stay."""
    return and_(col(OutboxMessage.organization_id) == organization_id, col(OutboxMessage.kind) != POLL_STOP)


async def is_last_admin(session: AsyncSession, organization_id: int, member_id: int) -> bool:
    """Would the organization be left without an admin if this member left (`roles.is_last_admin`)?"""
    member = await session.get(Member, member_id)
    return member is not None and await roles.is_last_admin(session, organization_id, member)


async def leave(session: AsyncSession, member: Member, organization_id: int, now: datetime) -> int:
    """The member leaves the organization ("not_member" if they do not belong to it, "last_admin"
    if no other admin would be left). Returns how many waiting messages were cancelled."""
    membership = await membership_in(session, organization_id, member.id)
    if membership is None or member.id is None:
        raise MembershipError("not_member")
    if membership.role == Role.ADMIN and await is_last_admin(session, organization_id, member.id):
        raise MembershipError("last_admin")
    await (await session.connection()).execute(delete(Membership).where(col(Membership.id) == membership.id))
    session.expunge(membership)
    session.add(
        AuditEntry(
            at=now,
            action=LEFT,
            organization_id=organization_id,
            target_member_id=member.id,
            details={"joined_at": membership.created_at.isoformat()},
        )
    )
    if member.acting_organization_id == organization_id:
        member.acting_organization_id = None
        session.add(member)
    cancelled = await cancel_pending(
        session, col(OutboxMessage.member_id) == member.id, organization_rows(organization_id)
    )
    await session.flush()
    return cancelled


async def membership_count(session: AsyncSession, member_id: int) -> int:
    """How many organizations the member belongs to."""
    query = select(func.count()).select_from(Membership).where(Membership.member_id == member_id)
    return int((await session.exec(query)).one())


async def leave_everywhere(session: AsyncSession, member: Member) -> None:
    """Before an erasure (/forget): the waiting messages of every organization are cancelled (the
    memberships themselves are deleted, and audited as "member.deleted" leaves, by the erasure; an
    admin's erasure is never refused)."""
    memberships = (await session.exec(select(Membership).where(Membership.member_id == member.id))).all()
    for membership in memberships:
        await cancel_pending(
            session, col(OutboxMessage.member_id) == member.id, organization_rows(membership.organization_id)
        )
    await session.flush()

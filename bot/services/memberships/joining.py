"""Joining an organization: at once (open policy, or an invite-only organization through its link)
or by a request its admins decide (approval policy). A member joins at most once: a second tap,
or a request already waiting, changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.memberships.rules import (
    JOINED,
    REQUESTED,
    JoinOutcome,
    MembershipError,
    Via,
)
from storage.models import (
    AuditEntry,
    JoinPolicy,
    JoinRequest,
    JoinRequestStatus,
    Member,
    Membership,
    MemberStatus,
    Organization,
    OrgStatus,
    Role,
    Visibility,
)


async def insert_ignoring_duplicates(session: AsyncSession, table: type, **values: Any) -> bool:
    """INSERT one row unless it would break a unique constraint; whether it was inserted."""
    connection = await session.connection()
    module = postgresql if connection.dialect.name == "postgresql" else sqlite
    result = await connection.execute(module.insert(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)  # type: ignore[attr-defined]


def check_open(organization: Organization | None) -> Organization:
    """The organization, if it takes members now: archived (or missing) is "not_found",
    suspended is "suspended"."""
    if organization is None or organization.status == OrgStatus.ARCHIVED:
        raise MembershipError("not_found")
    if organization.status == OrgStatus.SUSPENDED:
        raise MembershipError("suspended")
    return organization


async def _row_of(
    session: AsyncSession, model: Any, organization_id: int, member_id: int | None, *more: Any
) -> Any:
    """The member's row of `model` (Membership, JoinRequest) in the organization, if any."""
    query = select(model).where(model.organization_id == organization_id, model.member_id == member_id, *more)
    return (await session.exec(query)).first()


async def membership_in(
    session: AsyncSession, organization_id: int, member_id: int | None
) -> Membership | None:
    return await _row_of(session, Membership, organization_id, member_id)  # type: ignore[no-any-return]


async def pending_request(
    session: AsyncSession, organization_id: int, member_id: int | None
) -> JoinRequest | None:
    pending = JoinRequest.status == JoinRequestStatus.PENDING
    return await _row_of(session, JoinRequest, organization_id, member_id, pending)  # type: ignore[no-any-return]


async def add_membership(
    session: AsyncSession, organization_id: int, member_id: int, now: datetime, actor_telegram_id: int | None
) -> bool:
    """The member joins the organization (audited as "membership.joined"); False, with nothing
    written, when they already belong to it (also when another process was a moment faster)."""
    inserted = await insert_ignoring_duplicates(
        session,
        Membership,
        organization_id=organization_id,
        member_id=member_id,
        role=Role.MEMBER,
        created_at=now,
        updated_at=now,
    )
    if not inserted:
        return False
    session.add(
        AuditEntry(
            at=now,
            actor_telegram_id=actor_telegram_id,
            action=JOINED,
            organization_id=organization_id,
            target_member_id=member_id,
            details={},
        )
    )
    await _close_pending(session, organization_id, member_id, now)
    await session.flush()
    return True


async def _close_pending(session: AsyncSession, organization_id: int, member_id: int, now: datetime) -> None:
    """A request still waiting is withdrawn once the member is in (they joined another way)."""
    await (await session.connection()).execute(
        update(JoinRequest)
        .where(
            col(JoinRequest.organization_id) == organization_id,
            col(JoinRequest.member_id) == member_id,
            col(JoinRequest.status) == JoinRequestStatus.PENDING,
        )
        .values(status=JoinRequestStatus.CANCELLED, decided_at=now)
    )


@dataclass(frozen=True)
class Asked:
    """A request made now, and the id of its "join.requested" audit entry: the outbox rows of this
    round of the request are filed under it (a request asked again after a decline is the same row)."""

    request: JoinRequest
    ref: int


async def join(
    session: AsyncSession, member: Member, organization: Organization | None, via: Via, now: datetime
) -> tuple[JoinOutcome, Asked | None]:
    """Join `organization` (or ask to): the outcome, and the request when one was made now (its
    admins are to be told: `requests.notify_admins`). Raises `MembershipError`."""
    if member.id is None or not member.is_registered or member.status != MemberStatus.ACTIVE:
        raise MembershipError("not_registered")
    organization = check_open(organization)
    assert organization.id is not None
    if via == Via.DIRECTORY and organization.visibility != Visibility.LISTED:
        raise MembershipError("not_found")  # an unlisted organization is reached by its link only
    if await membership_in(session, organization.id, member.id) is not None:
        return JoinOutcome.ALREADY_MEMBER, None
    policy = JoinPolicy(organization.join_policy)
    if policy == JoinPolicy.INVITE and via != Via.INVITE:
        raise MembershipError("invite_only")
    if policy == JoinPolicy.APPROVAL:
        asked = await _request(session, organization.id, member.id, now)
        return (JoinOutcome.REQUESTED, asked) if asked else (JoinOutcome.ALREADY_REQUESTED, None)
    joined = await add_membership(session, organization.id, member.id, now, None)
    return (JoinOutcome.JOINED if joined else JoinOutcome.ALREADY_MEMBER), None


async def _request(
    session: AsyncSession, organization_id: int, member_id: int, now: datetime
) -> Asked | None:
    """The member's request, pending from now (audited as "join.requested"): a new row, or their
    row of an earlier request (decided or withdrawn) asked again. None when one already waits
    (also when another process made it a moment ago)."""
    mine = (col(JoinRequest.organization_id) == organization_id, col(JoinRequest.member_id) == member_id)
    reopened = await (await session.connection()).execute(
        update(JoinRequest)
        .where(*mine, col(JoinRequest.status) != JoinRequestStatus.PENDING)
        .values(
            status=JoinRequestStatus.PENDING, created_at=now, decided_at=None, decided_by_telegram_id=None
        )
    )
    if not reopened.rowcount and not await insert_ignoring_duplicates(  # type: ignore[attr-defined]
        session,
        JoinRequest,
        organization_id=organization_id,
        member_id=member_id,
        status=JoinRequestStatus.PENDING,
        created_at=now,
    ):
        return None
    request = (
        await session.exec(select(JoinRequest).where(*mine).execution_options(populate_existing=True))
    ).one()
    entry = AuditEntry(
        at=now,
        action=REQUESTED,
        organization_id=organization_id,
        target_member_id=member_id,
        details={"request_id": request.id},
    )
    session.add(entry)
    await session.flush()
    assert entry.id is not None
    return Asked(request, entry.id)


async def cancel_request(session: AsyncSession, member: Member, organization_id: int, now: datetime) -> bool:
    """The member withdraws their waiting request; False when none was waiting."""
    result = await (await session.connection()).execute(
        update(JoinRequest)
        .where(
            col(JoinRequest.organization_id) == organization_id,
            col(JoinRequest.member_id) == member.id,
            col(JoinRequest.status) == JoinRequestStatus.PENDING,
        )
        .values(status=JoinRequestStatus.CANCELLED, decided_at=now)
    )
    return bool(result.rowcount)


async def cancel_member_requests(session: AsyncSession, member_id: int, now: datetime) -> None:
    """Every request of the member still waiting is withdrawn (they erased their data)."""
    await (await session.connection()).execute(
        update(JoinRequest)
        .where(col(JoinRequest.member_id) == member_id, col(JoinRequest.status) == JoinRequestStatus.PENDING)
        .values(status=JoinRequestStatus.CANCELLED, decided_at=now)
    )


async def member_requests(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """The member's join requests, for /mydata."""
    result = await session.exec(
        select(JoinRequest, Organization.name)
        .join(Organization, col(Organization.id) == col(JoinRequest.organization_id))
        .where(JoinRequest.member_id == member_id)
        .order_by(col(JoinRequest.id))
    )
    return [
        {
            "organization": name,
            "status": str(request.status),
            "requested_at": request.created_at.isoformat(),
            "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        }
        for request, name in result.all()
    ]

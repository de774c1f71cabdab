"""Join requests to organizations whose admins approve members: each admin is told (in their own
language, through the outbox), the first admin's decision counts, and the member is told either
way. Who may decide is checked here, on the server: the organization's admins and super-admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import reachable_members
from bot.services.memberships.joining import Asked, add_membership, check_open, join
from bot.services.memberships.rules import (
    APPROVED,
    DECIDED_KIND,
    DECLINED,
    REQUEST_KIND,
    JoinOutcome,
    MembershipError,
    Via,
)
from bot.services.outbox_rows import insert_rows, pending_row
from bot.services.roles import Actor, can_manage_roles
from storage.models import (
    AuditEntry,
    JoinRequest,
    JoinRequestStatus,
    Member,
    Membership,
    Organization,
    Role,
)


@dataclass(frozen=True)
class Decision:
    """What pressing Approve or Decline came to: `decided` when this press decided; otherwise the
    request's state as someone else left it (`decided_by`: their name, when known)."""

    request: JoinRequest
    organization: Organization
    applicant: Member | None
    decided: bool
    decided_by: str | None = None


async def admin_addressees(
    session: AsyncSession, organization: Organization, super_admins: frozenset[int]
) -> list[tuple[int | None, int, str]]:
    """(member id, chat id, language) of whoever decides the organization's requests: its admins,
    else (an organization with no admin yet) the super-admins."""
    default = organization.default_language
    admins = (
        await session.exec(
            reachable_members()
            .join(Membership, col(Membership.member_id) == col(Member.id))
            .where(Membership.organization_id == organization.id, Membership.role == Role.ADMIN)
            .order_by(col(Member.id))
        )
    ).all()
    if admins:
        return [(member_id, chat_id, language or default) for member_id, chat_id, language, _ in admins]
    known = {
        member.telegram_id: member
        for member in (
            await session.exec(select(Member).where(col(Member.telegram_id).in_(super_admins)))
        ).all()
    }
    return [
        (known[telegram_id].id, telegram_id, known[telegram_id].language or default)
        if telegram_id in known
        else (None, telegram_id, default)
        for telegram_id in sorted(super_admins)
    ]


async def notify_admins(
    session: AsyncSession,
    asked: Asked,
    organization: Organization,
    super_admins: frozenset[int],
    now: datetime,
) -> int:
    """One outbox row per admin with the request (rendered, with its buttons, at send time), filed
    under the request's audit entry. Returns how many admins are told."""
    payload = {"request_id": asked.request.id, "organization_id": organization.id}
    rows = [
        pending_row(REQUEST_KIND, asked.ref, to, payload, now, now, organization_id=organization.id)
        for to in await admin_addressees(session, organization, super_admins)
    ]
    await insert_rows(session, rows)
    return len(rows)


async def join_or_ask(
    session: AsyncSession,
    member: Member,
    organization: Organization | None,
    via: Via,
    super_admins: frozenset[int],
    now: datetime,
) -> JoinOutcome:
    """`joining.join`, and a request made now told to the organization's admins (or, when it has
    none, to the super-admins `super_admins`). Raises `MembershipError`."""
    outcome, asked = await join(session, member, organization, via, now)
    if asked is not None and organization is not None:
        await notify_admins(session, asked, organization, super_admins, now)
    return outcome


async def decide(
    session: AsyncSession,
    actor: Actor,
    actor_member: Member | None,
    request_id: int,
    approve: bool,
    now: datetime,
) -> Decision:
    """Approve or decline the request. Only its organization's admins and super-admins may
    ("not_allowed"; a missing or forged id is "no_request"). The first decision counts: a later
    press gets the decision as it stands and changes nothing."""
    request = await session.get(JoinRequest, request_id) if 0 < request_id < 2**31 else None
    if request is None:
        raise MembershipError("no_request")
    if not await can_manage_roles(session, actor, actor_member, request.organization_id):
        raise MembershipError("not_allowed")
    organization = check_open(await session.get(Organization, request.organization_id))
    applicant = await session.get(Member, request.member_id)
    status = JoinRequestStatus.APPROVED if approve else JoinRequestStatus.DECLINED
    won = await (await session.connection()).execute(
        update(JoinRequest)
        .where(col(JoinRequest.id) == request_id, col(JoinRequest.status) == JoinRequestStatus.PENDING)
        .values(status=status, decided_at=now, decided_by_telegram_id=actor.telegram_id)
    )
    await session.refresh(request)
    if not won.rowcount:  # type: ignore[attr-defined]
        return Decision(request, organization, applicant, False, await _decider(session, request))
    entry = AuditEntry(
        at=now,
        actor_telegram_id=actor.telegram_id,
        action=APPROVED if approve else DECLINED,
        organization_id=organization.id,
        target_member_id=request.member_id,
        details={"request_id": request.id},
    )
    session.add(entry)
    await session.flush()
    if approve:
        await add_membership(session, request.organization_id, request.member_id, now, actor.telegram_id)
    if applicant is not None and applicant.telegram_id is not None:
        to = (applicant.id, applicant.telegram_id, applicant.language or organization.default_language)
        payload = {"request_id": request.id, "approved": approve}
        row = pending_row(DECIDED_KIND, entry.id, to, payload, now, now, organization_id=organization.id)
        await insert_rows(session, [row])
    await session.flush()
    return Decision(request, organization, applicant, True)


async def _decider(session: AsyncSession, request: JoinRequest) -> str | None:
    """The name of the admin who decided (None: unknown, or the member withdrew the request)."""
    if request.decided_by_telegram_id is None:
        return None
    member = (
        await session.exec(select(Member).where(Member.telegram_id == request.decided_by_telegram_id))
    ).first()
    if member is None:
        return None
    return member.display_name or (f"@{member.username}" if member.username else None)

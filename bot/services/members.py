"""Members: consent, profile, export and erasure. No Telegram here; handlers call these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.memberships.rules import JOINED
from storage.models import (
    AuditEntry,
    LibraryDigestOptOut,
    Member,
    Membership,
    MemberStatus,
    Organization,
    ResourceSave,
    ResourceVote,
)
from storage.types import utcnow

INTERESTS = (
    "events",
    "trainings",
    "business",
    "culture",
    "volunteering",
    "women",
    "youth",
    "health",
    "legal",
)
NAME_MAX = 64
CITY_MAX = 100


@dataclass(frozen=True)
class TelegramIdentity:
    """What Telegram tells us about the person behind an update."""

    telegram_id: int
    username: str | None
    full_name: str


# Built once: every update from a person reads their member (issue 15: building it cost ~2%).
_BY_TELEGRAM_ID = select(Member).where(Member.telegram_id == bindparam("telegram_id"))


async def get_member(session: AsyncSession, telegram_id: int) -> Member | None:
    result = await session.exec(_BY_TELEGRAM_ID, params={"telegram_id": telegram_id})
    return result.first()


async def member_by_id(session: AsyncSession, member_id: int) -> Member | None:
    """A member by our own row id (as carried by callback data); None for a missing or forged id."""
    return await session.get(Member, member_id) if member_id > 0 else None


async def count_registered(session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count()).select_from(Member).where(col(Member.consent_at).is_not(None))
    )
    return int(result.one())


async def record_consent(
    session: AsyncSession, who: TelegramIdentity, language: str, timezone: str, organization_id: int | None
) -> Member:
    """The member accepted the privacy notice: create (or revive) their record and join them to
    the organization whose bot they started."""
    member = await get_member(session, who.telegram_id)
    now = utcnow()
    if member is None:
        member = Member(telegram_id=who.telegram_id)
        session.add(member)
    member.username = who.username
    member.language = language
    member.timezone = member.timezone or timezone
    member.status = MemberStatus.ACTIVE
    member.consent_at = now
    member.consent_declined_at = None
    member.blocked_at = None
    member.updated_at = now
    await session.flush()
    if organization_id is not None:
        joined = await session.exec(
            select(Membership).where(
                Membership.organization_id == organization_id, Membership.member_id == member.id
            )
        )
        if joined.first() is None:
            session.add(Membership(organization_id=organization_id, member_id=member.id))
            session.add(
                AuditEntry(
                    action=JOINED, organization_id=organization_id, target_member_id=member.id, details={}
                )
            )
            await session.flush()
    return member


async def record_decline(session: AsyncSession, telegram_id: int, language: str) -> Member:
    """Declined consent: keep only the id and language, so we don't ask again unprompted."""
    member = await get_member(session, telegram_id)
    if member is None:
        member = Member(telegram_id=telegram_id)
        session.add(member)
    _erase_personal_fields(member)
    member.language = language
    member.status = MemberStatus.DECLINED
    member.consent_declined_at = utcnow()
    await session.flush()
    return member


async def update_profile(session: AsyncSession, member: Member, **fields: Any) -> Member:
    allowed = {
        "display_name",
        "origin_country",
        "residence_country",
        "residence_city",
        "timezone",
        "interests",
        "muted",
        "language",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not profile fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(member, name, value)
    member.updated_at = utcnow()
    session.add(member)
    await session.flush()
    return member


async def complete_profile(session: AsyncSession, member: Member) -> None:
    if member.profile_completed_at is None:
        member.profile_completed_at = utcnow()
        session.add(member)
        await session.flush()


async def touch_identity(session: AsyncSession, member: Member, who: TelegramIdentity) -> None:
    """Keep the @username current (admins find members by it) and re-activate after a block."""
    changed = False
    if member.username != who.username and member.status == MemberStatus.ACTIVE:
        member.username = who.username
        changed = True
    if member.status in (MemberStatus.BLOCKED, MemberStatus.UNREACHABLE):
        member.status = MemberStatus.ACTIVE
        member.blocked_at = None
        changed = True
    if changed:
        member.updated_at = utcnow()
        session.add(member)
        await session.flush()


async def set_blocked(session: AsyncSession, telegram_id: int, blocked: bool) -> None:
    member = await get_member(session, telegram_id)
    if member is None or member.status in (MemberStatus.DECLINED, MemberStatus.DELETED):
        return
    if blocked and member.status == MemberStatus.ACTIVE:
        member.status, member.blocked_at = MemberStatus.BLOCKED, utcnow()
    elif not blocked and member.status == MemberStatus.BLOCKED:
        member.status, member.blocked_at = MemberStatus.ACTIVE, None
    session.add(member)
    await session.flush()


async def export_member_data(session: AsyncSession, member: Member) -> dict[str, Any]:
    """Everything stored about the member, for `/mydata` (GDPR art. 15 style)."""
    memberships = await session.exec(
        select(Membership, Organization)
        .join(Organization, col(Organization.id) == col(Membership.organization_id))
        .where(Membership.member_id == member.id)
    )
    audit = await session.exec(
        select(AuditEntry).where(AuditEntry.target_member_id == member.id).order_by(col(AuditEntry.at))
    )
    saved = await session.exec(
        select(ResourceSave.resource_id, ResourceSave.created_at).where(ResourceSave.member_id == member.id)
    )
    votes = await session.exec(
        select(ResourceVote.resource_id, ResourceVote.useful).where(ResourceVote.member_id == member.id)
    )

    def iso(value: Any) -> Any:
        return value.isoformat() if value is not None else None

    return {
        "member": {
            "telegram_id": member.telegram_id,
            "username": member.username,
            "display_name": member.display_name,
            "language": member.language,
            "timezone": member.timezone,
            "origin_country": member.origin_country,
            "residence_country": member.residence_country,
            "residence_city": member.residence_city,
            "interests": list(member.interests),
            "muted_topics": list(member.muted),
            "status": str(member.status),
            "consent_at": iso(member.consent_at),
            "profile_completed_at": iso(member.profile_completed_at),
            "created_at": iso(member.created_at),
            "updated_at": iso(member.updated_at),
        },
        "roles": [
            {"organization": org.name, "role": str(membership.role), "since": iso(membership.created_at)}
            for membership, org in memberships.all()
        ],
        "role_changes": [
            {"at": iso(entry.at), "action": entry.action, "details": entry.details} for entry in audit.all()
        ],
        "saved_resources": [{"resource_id": ident, "saved_at": iso(at)} for ident, at in saved.all()],
        "resource_votes": [{"resource_id": ident, "useful": useful} for ident, useful in votes.all()],
    }


async def forget_member(session: AsyncSession, member: Member, by: str = "self") -> None:
    """Erase personal data. The row stays, unlinked from Telegram, so aggregate counts hold.

    The audit log gets a "member.deleted" entry per organization left (its admins see it; /stats
    counts it as a leave, `joined_at` keeping the weekly joins right), or one without organization
    for a member of none. `by`: "self" (/forget, the member acted themself) or "retention" (the
    daily anonymization); no actor id is kept, nor anything personal."""
    memberships = await session.exec(select(Membership).where(Membership.member_id == member.id))
    joined = [(row.organization_id, row.created_at) for row in memberships.all()]
    await session.exec(delete(Membership).where(col(Membership.member_id) == member.id))  # type: ignore[call-overload]
    for personal in (
        ResourceSave,
        LibraryDigestOptOut,
    ):  # the library's favourites and switch; votes stay counted
        await session.exec(delete(personal).where(col(personal.member_id) == member.id))  # type: ignore[call-overload]
    _erase_personal_fields(member)
    member.telegram_id = None
    member.status = MemberStatus.DELETED
    member.consent_at = None
    for organization_id, joined_at in joined or [(None, None)]:
        session.add(
            AuditEntry(
                action="member.deleted",
                organization_id=organization_id,
                target_member_id=member.id,
                actor_telegram_id=None,
                details={"by": by} | ({"joined_at": joined_at.isoformat()} if joined_at else {}),
            )
        )
    await session.flush()


def _erase_personal_fields(member: Member) -> None:
    member.username = None
    member.display_name = None
    member.language = None
    member.timezone = None
    member.origin_country = None
    member.residence_country = None
    member.residence_city = None
    member.interests = []
    member.muted = []
    member.profile_completed_at = None
    member.updated_at = utcnow()

"""Organizations, members, their roles and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = [
    "AuditEntry",
    "JoinPolicy",
    "JoinRequest",
    "JoinRequestStatus",
    "Member",
    "MemberStatus",
    "Membership",
    "OrgKind",
    "OrgStatus",
    "Organization",
    "Role",
    "Visibility",
]


class MemberStatus(StrEnum):
    ACTIVE = "active"
    DECLINED = "declined"  # said no to the privacy notice: only the id and language are kept
    BLOCKED = "blocked"  # blocked the bot; a later /start re-activates
    UNREACHABLE = "unreachable"  # Telegram answered "chat not found"; a later message re-activates
    DELETED = "deleted"  # used /forget: personal fields erased, row kept for aggregate counts


class Role(StrEnum):
    MEMBER = "member"
    COORDINATOR = "coordinator"  # trainings, surveys
    ORGANIZER = "organizer"  # events, announcements
    ADMIN = "admin"  # roles and settings of the organization


class OrgKind(StrEnum):
    ORGANIZATION = "organization"
    NETWORK = "network"  # cuts across organizations (a women's network, a youth network)


class Visibility(StrEnum):
    LISTED = "listed"  # shown in /directory
    UNLISTED = "unlisted"  # reachable by its invite link only


class JoinPolicy(StrEnum):
    OPEN = "open"  # anyone joins from the directory or the link
    APPROVAL = "approval"  # a request the organization's admins approve or decline
    INVITE = "invite"  # only through the invite link


class OrgStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # nothing goes out on its behalf; members keep their data
    ARCHIVED = "archived"  # gone from lists and the directory; history kept


class JoinRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # withdrawn by the member, or they joined another way


class Organization(SQLModel, table=True):
    """One organization of the confederation (or a network across them). The first one is the
    deployment's own, created on first start and named by `ORGANIZATION_NAME`."""

    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(64), unique=True, index=True)
    name: str = Field(sa_type=String(128))
    default_language: str = Field(default="en", sa_type=String(8))
    timezone: str = Field(default="UTC", sa_type=String(64))
    # Quiet hours in members' own clocks, minutes after midnight: non-urgent announcements wait.
    quiet_start: int = Field(default=22 * 60, sa_column_kwargs={"server_default": str(22 * 60)})
    quiet_end: int = Field(default=8 * 60, sa_column_kwargs={"server_default": str(8 * 60)})
    kind: OrgKind = Field(
        default=OrgKind.ORGANIZATION, sa_type=String(16), sa_column_kwargs={"server_default": "organization"}
    )
    description: str | None = Field(default=None, sa_type=String(500))
    # Organizer-written translations: {"de": {"name": "...", "description": "..."}}.
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    countries: list[str] = Field(  # ISO 3166 alpha-2 codes of the countries it is active in
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    cities: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    languages: list[str] = Field(  # working languages (locale codes)
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    topics: list[str] = Field(  # interest keys, as members pick them in their profile
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    contact: str | None = Field(default=None, sa_type=String(200))
    logo_file_id: str | None = Field(default=None, sa_type=String(255))
    visibility: Visibility = Field(
        default=Visibility.LISTED, sa_type=String(16), sa_column_kwargs={"server_default": "listed"}
    )
    join_policy: JoinPolicy = Field(
        default=JoinPolicy.OPEN, sa_type=String(16), sa_column_kwargs={"server_default": "open"}
    )
    # The code of the invite link t.me/<bot>?start=org_<code>: random, rotatable, unique.
    invite_code: str | None = Field(default=None, sa_type=String(32), unique=True, index=True)
    status: OrgStatus = Field(
        default=OrgStatus.ACTIVE, sa_type=String(16), sa_column_kwargs={"server_default": "active"}
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def organization_id(self) -> int:
        """Its own id: as far as rights go, an organization belongs to itself (`Context.load`
        checks a right in the row's `organization_id`)."""
        return self.id or 0


class Member(SQLModel, table=True):
    __tablename__ = "members"

    id: int | None = Field(default=None, primary_key=True)
    # Nullable so that /forget can cut the link to the Telegram account while counts stay right.
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    username: str | None = Field(default=None, sa_type=String(32), index=True)
    display_name: str | None = Field(default=None, sa_type=String(64))
    language: str | None = Field(default=None, sa_type=String(8))
    timezone: str | None = Field(default=None, sa_type=String(64))
    origin_country: str | None = Field(default=None, sa_type=String(2))
    residence_country: str | None = Field(default=None, sa_type=String(2))
    residence_city: str | None = Field(default=None, sa_type=String(100))
    interests: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Announcement categories (interest keys) the member does not want to receive.
    muted: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    status: MemberStatus = Field(default=MemberStatus.ACTIVE, sa_type=String(16))
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consent_declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    profile_completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    blocked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The organization this person acts for in staff dialogs (remembered for their chat); None:
    # the first organization where they hold a staff role, else the deployment's own.
    acting_organization_id: int | None = Field(
        default=None, sa_column=Column(ForeignKey("organizations.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def is_registered(self) -> bool:
        return self.consent_at is not None and self.status in (
            MemberStatus.ACTIVE,
            MemberStatus.BLOCKED,
            MemberStatus.UNREACHABLE,
        )


class Membership(SQLModel, table=True):
    """A member's role in one organization (one row per member and organization)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    member_id: int = Field(foreign_key="members.id", index=True)
    role: Role = Field(default=Role.MEMBER, sa_type=String(16))
    granted_by_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JoinRequest(SQLModel, table=True):
    """A member's request to join an organization whose join policy asks for approval (one row per
    member and organization; a new request after a decline reopens it)."""

    __tablename__ = "join_requests"
    __table_args__ = (
        UniqueConstraint("organization_id", "member_id"),
        Index("ix_join_requests_org_status", "organization_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    member_id: int = Field(sa_column=Column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False))
    status: JoinRequestStatus = Field(default=JoinRequestStatus.PENDING, sa_type=String(16))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_telegram_id: int | None = Field(default=None, sa_type=BigInteger)


class AuditEntry(SQLModel, table=True):
    """Who did what to whom, when. Details carry ids and codes, never message texts.

    Actions (stable codes, filtered by /audit): role.granted, role.revoked, membership.joined,
    membership.left, join.requested, join.approved, join.declined, organization.created,
    organization.changed, organization.suspended, organization.archived, organization.restored,
    organization.invite_rotated, organization.quiet_hours, export.* (export.survey, export.event,
    export.training, export.stats, export.audit), broadcast.* (broadcast.announcement,
    broadcast.survey), member.deleted (/forget: per organization left, no actor id, details
    {"by": "self", "joined_at": iso})."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_at", "organization_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(sa_type=String(64))
    organization_id: int | None = Field(default=None, foreign_key="organizations.id")
    target_member_id: int | None = Field(default=None, foreign_key="members.id")
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

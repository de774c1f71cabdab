"""Organizations, members, their roles and the audit log."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = ["AuditEntry", "Member", "MemberStatus", "Membership", "Organization", "Role"]


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


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(64), unique=True, index=True)
    name: str = Field(sa_type=String(128))
    default_language: str = Field(default="en", sa_type=String(8))
    timezone: str = Field(default="UTC", sa_type=String(64))
    # Quiet hours in members' own clocks, minutes after midnight: non-urgent announcements wait.
    quiet_start: int = Field(default=22 * 60, sa_column_kwargs={"server_default": str(22 * 60)})
    quiet_end: int = Field(default=8 * 60, sa_column_kwargs={"server_default": str(8 * 60)})
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


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


class AuditEntry(SQLModel, table=True):
    """Who did what to whom, when. Details carry ids and codes, never message texts."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_telegram_id: int | None = Field(default=None, sa_type=BigInteger)
    action: str = Field(sa_type=String(64))
    organization_id: int | None = Field(default=None, foreign_key="organizations.id")
    target_member_id: int | None = Field(default=None, foreign_key="members.id")
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

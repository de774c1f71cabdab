"""Announcements: organizer-written broadcasts with translations, audience and schedule."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, String, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = ["Announcement", "AnnouncementStatus", "MediaKind"]


class AnnouncementStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"  # waits for `scheduled_at`; editable and cancellable until then
    SENDING = "sending"  # its outbox rows are being delivered
    SENT = "sent"
    CANCELLED = "cancelled"


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class Announcement(SQLModel, table=True):
    __tablename__ = "announcements"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    author_member_id: int | None = Field(default=None, foreign_key="members.id")
    author_chat_id: int = Field(sa_type=BigInteger)  # where progress and the report go
    author_language: str = Field(default="en", sa_type=String(8))
    author_timezone: str = Field(default="UTC", sa_type=String(64))
    # The organizer's text as Telegram HTML (their formatting kept, everything else escaped).
    text: str = Field(default="", sa_type=Text)
    language: str = Field(default="en", sa_type=String(8))  # the language `text` is written in
    translations: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    media_kind: MediaKind | None = Field(default=None, sa_type=String(16))
    media_file_id: str | None = Field(default=None, sa_type=String(255))
    # Audience filter: {"interests": [...], "languages": [...], "residence_countries": [...],
    # "origin_countries": [...], "city": "..."}; empty means everyone.
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    category: str | None = Field(default=None, sa_type=String(32))  # an interest key members can mute
    urgent: bool = False  # urgent ones ignore quiet hours
    local_time: str | None = Field(default=None, sa_type=String(5))  # "10:00": each member's own clock
    status: AnnouncementStatus = Field(default=AnnouncementStatus.DRAFT, sa_type=String(16), index=True)
    scheduled_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    status_message_id: int | None = Field(default=None, sa_type=BigInteger)
    recipients: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

"""Tables of running the bot in production: the webhook inbox and members' calendar feeds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = ["CalendarFeed", "InboxStatus", "InboxUpdate"]


class InboxStatus(StrEnum):
    PENDING = "pending"  # acknowledged to Telegram, not yet handled
    CLAIMED = "claimed"  # a process is handling it: its chat waits
    DONE = "done"
    FAILED = "failed"  # the handler raised (the member got the apology); never retried


class InboxUpdate(SQLModel, table=True):
    """One update received on the webhook, written (and committed) before Telegram gets its 200.

    The primary key is Telegram's `update_id`, so an update delivered twice is stored once.
    `handled_at` is set inside the update's own unit of work: once it is committed, the update
    counts as handled whatever happens to the process afterwards.
    """

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_status_chat", "status", "chat_key", "update_id"),
        Index("ix_inbox_chat_status", "chat_key", "status"),
    )

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_key: str = Field(sa_type=String(48))  # updates of one key are handled one at a time, in order
    kind: str = Field(sa_type=String(32))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: InboxStatus = Field(default=InboxStatus.PENDING, sa_type=String(16))
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, sa_type=String(64))
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0


class CalendarFeed(SQLModel, table=True):
    """A member's private calendar feed: whoever knows the token reads their calendar, so a new
    token (revoke) replaces the old one and /forget deletes the row."""

    __tablename__ = "calendar_feeds"

    member_id: int = Field(
        sa_column=Column(Integer, ForeignKey("members.id", ondelete="CASCADE"), primary_key=True)
    )
    token: str = Field(sa_type=String(64), unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

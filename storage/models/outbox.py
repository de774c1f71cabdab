"""The outbox: one row per recipient and message, handed to Telegram by the delivery engine."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = ["DeliveryStatus", "OutboxMessage"]


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender; back to pending if that sender died
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; `last_error` says why
    BLOCKED = "blocked"  # the member blocked the bot (or deleted their account)
    UNREACHABLE = "unreachable"  # Telegram does not know the chat
    CANCELLED = "cancelled"


class OutboxMessage(SQLModel, table=True):
    """One message to one chat, written in the transaction that decided to send it."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", "chat_id"),
        Index("ix_outbox_due", "status", "not_before"),
        Index("ix_outbox_ref", "kind", "ref_id", "status"),
        Index("ix_outbox_org_status", "organization_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(32))  # "announcement", later "reminder", ...
    ref_id: int  # the announcement (reminder, ...) this message belongs to
    member_id: int | None = Field(default=None, foreign_key="members.id")
    # The organization the message speaks for: nothing is claimed while it is suspended or archived
    # (None: the confederation itself). No foreign key: the hot insert path stays one index lighter.
    organization_id: int | None = None
    chat_id: int = Field(sa_type=BigInteger)  # 0 for anonymous polls: no chat linked to its counts
    language: str = Field(default="en", sa_type=String(8))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: DeliveryStatus = Field(default=DeliveryStatus.PENDING, sa_type=String(16))
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=String(200))
    claimed_by: str | None = Field(default=None, sa_type=String(64))
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

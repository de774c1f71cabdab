"""Joint positions (advocacy): a statement drafted by confederation staff or an organization's
admins, addressed to an institution or a consultation, that other organizations endorse through
their admins and that members may sign with their consent, until a deadline; then submitted as a
PDF (plus CSV and XLSX) to the drafter.

- `Position`: the statement, its translations, the addressee, the deadline, who is asked
  (`target`: every active organization, or the chosen `target_organizations`), whether members may
  sign (and until when their names are kept), an optional consultation (a survey) whose results go
  into the submission.
- `PositionEndorsement`: one row per organization asked; its admins answer once (endorse/decline),
  changeable until the deadline.
- `PositionSignature`: a member's name added after a consent text; withdrawn by deleting the row;
  `/forget` deletes them, `/mydata` lists them. Display name and country are copied at signing
  (what the consent showed is what is submitted), and deleted once `keep_until` has passed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = [
    "EndorsementDecision",
    "Position",
    "PositionEndorsement",
    "PositionSignature",
    "PositionStatus",
    "PositionTarget",
]


class PositionStatus(StrEnum):
    DRAFT = "draft"  # visible to the drafting organization's staff only
    OPEN = "open"  # published: organizations asked, members may sign (when allowed)
    CLOSED = "closed"  # the deadline passed (or the drafter closed it): submission produced
    WITHDRAWN = "withdrawn"  # the drafter took it back before the deadline


class PositionTarget(StrEnum):
    ALL = "all"  # every active organization (confederation staff only)
    CHOSEN = "chosen"  # the organizations in `target_organizations` (and always the drafter's own)


class EndorsementDecision(StrEnum):
    PENDING = "pending"
    ENDORSED = "endorsed"
    DECLINED = "declined"


class Position(SQLModel, table=True):
    __tablename__ = "positions"
    __table_args__ = (Index("ix_positions_status_deadline", "status", "deadline"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)  # the drafter's
    status: PositionStatus = Field(default=PositionStatus.DRAFT, sa_type=String(16))
    title: str = Field(default="", sa_type=String(255))
    statement: str = Field(default="", sa_type=Text)
    language: str = Field(default="en", sa_type=String(8))  # the language of title and statement
    # Staff-written translations: {"fr": {"title": "...", "statement": "..."}}.
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    addressee: str = Field(default="", sa_type=String(255))  # the institution or consultation
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    target: PositionTarget = Field(default=PositionTarget.CHOSEN, sa_type=String(16))
    target_organizations: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    signatures_open: bool = Field(default=False)  # members may add their name
    # Members' names and countries are kept (and shared with the addressee) until then.
    keep_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    survey_id: int | None = Field(  # an attached consultation, whose results go into the document
        default=None, sa_column=Column(ForeignKey("surveys.id", ondelete="SET NULL"), nullable=True)
    )
    submission_language: str | None = Field(default=None, sa_type=String(8))  # the PDF's language
    created_by: int | None = Field(
        default=None, sa_column=Column(ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the last submission


class PositionEndorsement(SQLModel, table=True):
    """An organization asked to endorse a position, and its admins' answer."""

    __tablename__ = "position_endorsements"
    __table_args__ = (
        UniqueConstraint("position_id", "organization_id"),
        Index("ix_position_endorsements_org", "organization_id", "decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(sa_column=Column(ForeignKey("positions.id", ondelete="CASCADE"), nullable=False))
    organization_id: int = Field(foreign_key="organizations.id")
    decision: EndorsementDecision = Field(default=EndorsementDecision.PENDING, sa_type=String(16))
    decided_by: int | None = Field(
        default=None, sa_column=Column(ForeignKey("members.id", ondelete="SET NULL"), nullable=True)
    )
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PositionSignature(SQLModel, table=True):
    """A member's name under a position, given with consent (what was shown is what is kept)."""

    __tablename__ = "position_signatures"
    __table_args__ = (UniqueConstraint("position_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    position_id: int = Field(sa_column=Column(ForeignKey("positions.id", ondelete="CASCADE"), nullable=False))
    member_id: int = Field(
        sa_column=Column(ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    display_name: str = Field(sa_type=String(64))
    country: str | None = Field(default=None, sa_type=String(2))  # residence, ISO 3166 alpha-2
    consented_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

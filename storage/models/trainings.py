"""Trainings: courses whose sessions are events, sign-ups with seats and a waitlist, notices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = ["SignupStatus", "Training", "TrainingNotice", "TrainingSignup", "TrainingStatus"]


class TrainingStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # sign-ups taken until the deadline
    CLOSED = "closed"  # no more sign-ups; the sessions go on
    CANCELLED = "cancelled"
    COMPLETED = "completed"  # the last session has ended; feedback sent


class SignupStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class Training(SQLModel, table=True):
    """A course of one or more sessions (`Event` rows with `training_id` set) with seats held at the
    training level."""

    __tablename__ = "trainings"
    __table_args__ = (Index("ix_trainings_org_status", "organization_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    title: str = Field(sa_type=String(200))
    description: str = Field(default="", sa_type=Text)
    language: str = Field(default="en", sa_type=String(8))  # the language title/description are in
    teaching_languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trainer: str = Field(default="", sa_type=String(200))
    capacity: int
    signup_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timezone: str = Field(default="UTC", sa_type=String(64))  # the coordinator's zone
    # [{"text": str, "options": [str, ...]}]; no options: a free text answer
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # {lang: {"title": ..., "description": ...}}
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: TrainingStatus = Field(default=TrainingStatus.DRAFT, sa_type=String(16))
    # Bumped by every seat-changing transaction as its first statement: the lock and the tap order.
    signup_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    feedback_survey_id: int | None = Field(default=None, foreign_key="surveys.id")
    created_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TrainingSignup(SQLModel, table=True):
    __tablename__ = "training_signups"
    __table_args__ = (
        UniqueConstraint("training_id", "member_id"),
        Index("ix_training_signups_status_seq", "training_id", "status", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(foreign_key="trainings.id")
    member_id: int = Field(foreign_key="members.id", index=True)
    status: SignupStatus = Field(sa_type=String(16))
    seq: int  # the training's `signup_seq` of the sign-up: tap order
    answers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TrainingNotice(SQLModel, table=True):
    """One notification decision about a training ("published", "confirmed", "promoted",
    "cancelled", "closed", "message", "seats"); its outbox rows have kind "training_notice" and
    ref_id = this id."""

    __tablename__ = "training_notices"

    id: int | None = Field(default=None, primary_key=True)
    training_id: int = Field(foreign_key="trainings.id", index=True)
    kind: str = Field(sa_type=String(32))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

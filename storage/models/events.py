"""Events: series, occurrences, answers (RSVPs), reminders and change notices."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = [
    "Event",
    "EventNotice",
    "EventSeries",
    "EventStatus",
    "Reminder",
    "ReminderStatus",
    "Rsvp",
    "RsvpStatus",
    "SeriesRule",
]


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SeriesRule(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY_WEEKDAY = "monthly_weekday"  # "first Saturday", "last Friday"


class RsvpStatus(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "not_going"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # a freed seat held for this member until `offered_until`


class ReminderStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # taken by a releaser; back to the queue if its claim outlives the lease
    SENT = "sent"  # handed to the outbox
    SKIPPED = "skipped"  # the event had started when it was processed, or a later one superseded it
    CANCELLED = "cancelled"


class EventSeries(SQLModel, table=True):
    """A recurrence rule; its occurrences are `Event` rows with `series_id` set."""

    __tablename__ = "event_series"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    rule: SeriesRule = Field(sa_type=String(16))
    timezone: str = Field(sa_type=String(64))
    local_start: int  # minutes after midnight on the series' local clock
    duration_minutes: int | None = None
    weekday: int  # 0 = Monday
    nth: int | None = None  # monthly rules: 1–5, or -1 for the last one in the month
    until: date | None = None  # last local date an occurrence may fall on
    count: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Event(SQLModel, table=True):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_org_status_start", "organization_id", "status", "starts_at"),
        # /events: its page in start order and its total read from this index alone (0011)
        Index(
            "ix_events_listed",
            "status",
            "training_id",
            "starts_at",
            "id",
            "ends_at",
            "organization_id",
            "open_to_all",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id")
    series_id: int | None = Field(default=None, foreign_key="event_series.id", index=True)
    title: str = Field(sa_type=String(200))
    description: str = Field(default="", sa_type=Text)
    language: str = Field(default="en", sa_type=String(8))  # the language title/description are in
    # {lang: {"title": ..., "description": ...}}
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    timezone: str = Field(default="UTC", sa_type=String(64))  # the organizer's zone the times were typed in
    place: str | None = Field(default=None, sa_type=String(300))
    online_url: str | None = Field(default=None, sa_type=String(500))
    capacity: int | None = None  # None: no limit
    rsvp_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claim_window_hours: int | None = None  # None: a freed seat goes straight to the next in line
    reminder_offsets: list[int] = Field(
        default_factory=lambda: [1440, 60], sa_column=Column(JSON, nullable=False)
    )  # minutes before the start
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Open to the whole confederation: visible and bookable by members of every organization.
    open_to_all: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    status: EventStatus = Field(default=EventStatus.DRAFT, sa_type=String(16))
    checkin_code: str | None = Field(default=None, sa_type=String(12))
    # Bumped by every RSVP transaction as its first statement: the row lock that serializes seat
    # counting, and the tap order.
    rsvp_seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A session of a training: seats are the training's, so /events, event notices and event RSVPs
    # leave it alone (see bot.services.trainings).
    training_id: int | None = Field(default=None, foreign_key="trainings.id", index=True)
    created_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Rsvp(SQLModel, table=True):
    __tablename__ = "rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "member_id"),
        Index("ix_rsvps_event_status_seq", "event_id", "status", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id")
    member_id: int = Field(foreign_key="members.id", index=True)
    status: RsvpStatus = Field(sa_type=String(16))
    seq: int  # the event's `rsvp_seq` of the tap that set this status: tap order
    offered_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attended: bool = False
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Reminder(SQLModel, table=True):
    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("event_id", "offset_minutes"),
        Index("ix_reminders_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id")
    offset_minutes: int
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: ReminderStatus = Field(default=ReminderStatus.PENDING, sa_type=String(16))
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EventNotice(SQLModel, table=True):
    """One notification decision about an event ("published", "changed", "cancelled", "promoted",
    "offered", "offer_expired"); its outbox rows have kind "event_notice" and ref_id = this id."""

    __tablename__ = "event_notices"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="events.id", index=True)
    kind: str = Field(sa_type=String(32))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

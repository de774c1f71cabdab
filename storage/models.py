"""SQLModel tables. Later capabilities add their sections here, each with a migration."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

# -- organizations, members and roles -----------------------------------------------------------


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


# -- dialog state ------------------------------------------------------------------------------


class DialogState(SQLModel, table=True):
    """aiogram FSM state and data, so a restart or a crash mid-dialog loses nothing."""

    __tablename__ = "dialog_states"

    key: str = Field(primary_key=True, sa_type=String(200))
    state: str | None = Field(default=None, sa_type=String(200))
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- announcements -----------------------------------------------------------------------------


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


# -- the outbox --------------------------------------------------------------------------------


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
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(32))  # "announcement", later "reminder", ...
    ref_id: int  # the announcement (reminder, ...) this message belongs to
    member_id: int | None = Field(default=None, foreign_key="members.id")
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


# -- events ------------------------------------------------------------------------------------


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
    __table_args__ = (Index("ix_events_org_status_start", "organization_id", "status", "starts_at"),)

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


# -- surveys -----------------------------------------------------------------------------------


class SurveyStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # members may answer from `opens_at` until `closes_at`
    CLOSED = "closed"


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"
    NUMBER = "number"
    TEXT = "text"
    YES_NO = "yes_no"


class ResponseStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class Survey(SQLModel, table=True):
    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_remind", "status", "remind_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organizations.id", index=True)
    title: str = Field(sa_type=String(300))
    language: str = Field(default="en", sa_type=String(8))  # the language title and questions are in
    translations: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Anonymous: no row links a member to their answers once submitted (see bot.services.surveys).
    anonymous: bool = False
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: SurveyStatus = Field(default=SurveyStatus.DRAFT, sa_type=String(16))
    opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminder_before_minutes: int | None = 1440  # None: no reminder
    remind_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # closes_at - reminder
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # set once, when claimed
    native_poll: bool = False  # a one-question quick poll sent as a Telegram poll
    created_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyQuestion(SQLModel, table=True):
    __tablename__ = "survey_questions"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="surveys.id")
    position: int  # 0, 1, 2, … in the order members see them
    kind: QuestionKind = Field(sa_type=String(16))
    text: str = Field(sa_type=String(300))
    # {lang: {"text": ..., "options": [...]}} (options in the same order as `options`)
    translations: dict[str, dict[str, Any]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    options: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_value: float | None = None  # rating: 1 or 0; number: optional lower bound
    max_value: float | None = None  # rating: 5 or 10; number: optional upper bound
    max_length: int | None = None  # text
    optional: bool = False


class SurveyResponse(SQLModel, table=True):
    """One respondent's answers. Attributed surveys: `member_id` set, `respondent_key` "m<id>".
    Anonymous surveys: `member_id` NULL, `respondent_key` a random token, no start time, and a
    submission time rounded to the day."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "respondent_key"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="surveys.id")
    member_id: int | None = Field(default=None, foreign_key="members.id", index=True)
    respondent_key: str = Field(sa_type=String(64))
    status: ResponseStatus = Field(default=ResponseStatus.IN_PROGRESS, sa_type=String(16))
    position: int = 0  # the question being answered; = number of questions when all are done
    # Bumped as the first statement of every change: the row lock that serializes double taps.
    seq: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SurveyAnswer(SQLModel, table=True):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    response_id: int = Field(foreign_key="survey_responses.id")
    question_id: int = Field(foreign_key="survey_questions.id", index=True)
    # single: option index; multiple: sorted option indexes; rating/number: number; text: str;
    # yes_no: bool. A skipped optional question has no row.
    value: Any = Field(default=None, sa_column=Column(JSON, nullable=False))


class SurveyParticipation(SQLModel, table=True):
    """Whether a member started or finished a survey, without their answers. For anonymous surveys
    `progress_token` (the response's `respondent_key`) lets them resume; it is erased at submission
    and at closing. No id and no timestamps, so nothing orders or times it against the responses."""

    __tablename__ = "survey_participations"

    survey_id: int = Field(foreign_key="surveys.id", primary_key=True)
    member_id: int = Field(foreign_key="members.id", primary_key=True, index=True)
    submitted: bool = False
    progress_token: str | None = Field(default=None, sa_type=String(64))


class PollDelivery(SQLModel, table=True):
    """One copy of a native poll sent to one chat. Anonymous polls bring no per-member answers, only
    each copy's counts (`poll` updates): the merged result sums the copies."""

    __tablename__ = "poll_deliveries"

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="surveys.id", index=True)
    question_id: int = Field(foreign_key="survey_questions.id")
    telegram_poll_id: str = Field(sa_type=String(64), unique=True, index=True)
    chat_id: int = Field(sa_type=BigInteger)
    option_counts: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    voter_count: int = 0


class PollVote(SQLModel, table=True):
    """A member's current vote in a non-anonymous native poll (one per survey, whichever copy)."""

    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("survey_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="surveys.id")
    delivery_id: int = Field(foreign_key="poll_deliveries.id")
    member_id: int = Field(foreign_key="members.id", index=True)
    option_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- trainings ---------------------------------------------------------------------------------


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

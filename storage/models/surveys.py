"""Surveys and quick polls: questions, responses, answers, participation, native poll copies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow

__all__ = [
    "PollDelivery",
    "PollVote",
    "QuestionKind",
    "ResponseStatus",
    "Survey",
    "SurveyAnswer",
    "SurveyParticipation",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveyStatus",
]


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
    # None: no reminder. No Python default here: the ORM omits a None for a column that has a default,
    # so a default of 1440 turned an explicit "No reminder" into 24 hours (create_survey sets it).
    reminder_before_minutes: int | None = Field(default=None)
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

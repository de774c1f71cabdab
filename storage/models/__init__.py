"""SQLModel tables, one module per capability; everything is re-exported here, so
`from storage.models import Event` works wherever a table is needed. A new capability adds its
module, imports it below, and writes a migration (`storage/migrations/versions/`)."""

from __future__ import annotations

from storage.models.announcements import (
    Announcement,
    AnnouncementStatus,
    MediaKind,
)
from storage.models.dialogs import (
    DialogState,
)
from storage.models.events import (
    Event,
    EventNotice,
    EventSeries,
    EventStatus,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpStatus,
    SeriesRule,
)
from storage.models.members import (
    AuditEntry,
    Member,
    Membership,
    MemberStatus,
    Organization,
    Role,
)
from storage.models.outbox import (
    DeliveryStatus,
    OutboxMessage,
)
from storage.models.production import (
    CalendarFeed,
    InboxStatus,
    InboxUpdate,
)
from storage.models.surveys import (
    PollDelivery,
    PollVote,
    QuestionKind,
    ResponseStatus,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from storage.models.trainings import (
    SignupStatus,
    Training,
    TrainingNotice,
    TrainingSignup,
    TrainingStatus,
)

__all__ = [
    "Announcement",
    "AnnouncementStatus",
    "AuditEntry",
    "CalendarFeed",
    "DeliveryStatus",
    "DialogState",
    "Event",
    "EventNotice",
    "EventSeries",
    "EventStatus",
    "InboxStatus",
    "InboxUpdate",
    "MediaKind",
    "Member",
    "MemberStatus",
    "Membership",
    "Organization",
    "OutboxMessage",
    "PollDelivery",
    "PollVote",
    "QuestionKind",
    "Reminder",
    "ReminderStatus",
    "ResponseStatus",
    "Role",
    "Rsvp",
    "RsvpStatus",
    "SeriesRule",
    "SignupStatus",
    "Survey",
    "SurveyAnswer",
    "SurveyParticipation",
    "SurveyQuestion",
    "SurveyResponse",
    "SurveyStatus",
    "Training",
    "TrainingNotice",
    "TrainingSignup",
    "TrainingStatus",
]

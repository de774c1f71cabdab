"""Announcements: drafts and their translations (`drafts`), and sending — audiences, each member's
version, scheduling and the hand-over to the outbox (`sending`) —, the organizer's one status
message per broadcast (`status`) and what holds its messages back (`waiting`). The public names
are re-exported so `from bot.services import announcements as service;
service.enqueue_announcement(...)` works for the delivery code; new code imports from the submodules."""

from __future__ import annotations

from bot.services.announcements.drafts import (
    EDITABLE,
    create_draft,
    delete_draft,
    scheduled_or_sending,
    set_audience,
    set_category,
    set_local_time,
    set_text,
    set_translation,
    set_urgent,
)
from bot.services.announcements.sending import (
    KIND,
    AnnouncementError,
    cancel,
    count_audience,
    delivery_counts,
    due_scheduled,
    enqueue_announcement,
    schedule,
    text_for,
    version_for,
)
from bot.services.announcements.status import (
    CREATING,
    STATUS_GRACE,
    claim_status_message,
    store_status_message,
)
from bot.services.announcements.waiting import Waiting, waiting

__all__ = [
    "CREATING",
    "EDITABLE",
    "KIND",
    "STATUS_GRACE",
    "AnnouncementError",
    "Waiting",
    "cancel",
    "claim_status_message",
    "count_audience",
    "create_draft",
    "delete_draft",
    "delivery_counts",
    "due_scheduled",
    "enqueue_announcement",
    "schedule",
    "scheduled_or_sending",
    "set_audience",
    "set_category",
    "set_local_time",
    "set_text",
    "set_translation",
    "set_urgent",
    "store_status_message",
    "text_for",
    "version_for",
    "waiting",
]

"""Events: validation, publishing, RSVPs with capacity and a waitlist, changes and cancellations,
series, reminders, calendar files and check-in. Nothing here sends and nothing imports aiogram:
every notification is an outbox row written in the caller's transaction.

The modules, by what they hold:
- `rules`: limits, `EventError`, validation of every field, an event's text and times (no I/O);
- `lifecycle`: create a draft, publish, edit, cancel;
- `series`: repeating events (weekly, every two weeks, monthly on a weekday), and publishing or
  discarding a draft together with its series;
- `seats` (the event lock, seat counting), `rsvp` (one-tap answers), `waitlist` (freed seats, offers);
- `notices` (what members are told, as outbox rows), `reminders` (reminder rows, claimed and handed
  to the outbox);
- `queries` (lists, counts, attendees, CSV), `checkin` (codes and attendance), `calendar` (.ics).

The public names are re-exported here, so `from bot.services import events as service;
service.rsvp(...)` works for other capabilities and the delivery code; new code may import from
the submodule.
"""

from __future__ import annotations

from bot.services.events.checkin import (
    CHECKIN_AFTER,
    CHECKIN_BEFORE,
    check_in,
    checkin_code,
    mark_attendance,
    new_checkin_code,
)
from bot.services.events.lifecycle import (
    EventUpdate,
    cancel_event,
    create_event,
    delete_draft,
    publish,
    update_event,
)
from bot.services.events.notices import MUTE_TOPIC, NOTICE_KIND, count_audience
from bot.services.events.queries import (
    Attendee,
    EventPage,
    ListedEvent,
    UpcomingPage,
    attendees,
    checkin_window_open,
    counts,
    event_with_organization,
    export_csv,
    get_event,
    member_answers,
    organizer_events,
    shown_event,
    upcoming_events,
)
from bot.services.events.rsvp import (
    RsvpResult,
    confirm_offer,
    my_answer,
    place_in_line,
    rsvp,
    tap,
    waitlist_position,
    withdraw_member,
)
from bot.services.events.rules import (
    AFFECTED,
    CAPACITY_MAX,
    CHOICES,
    CLAIM_WINDOW_MAX,
    DEFAULT_DURATION,
    DESCRIPTION_MAX,
    EDITABLE,
    HOLDS_SEAT,
    NOTIFY_FIELDS,
    OFFSET_MAX,
    OFFSETS_MAX,
    PLACE_MAX,
    TITLE_MAX,
    URL_MAX,
    EventError,
    check_update,
    effective_end,
    event_text,
    telegram_length,
    validate_audience,
    validate_capacity,
    validate_claim_window,
    validate_description,
    validate_event,
    validate_offsets,
    validate_place,
    validate_times,
    validate_timezone,
    validate_title,
    validate_translations,
    validate_url,
    version_for,
)
from bot.services.events.waitlist import expire_offers

__all__ = [
    "AFFECTED",
    "CAPACITY_MAX",
    "CHECKIN_AFTER",
    "CHECKIN_BEFORE",
    "CHOICES",
    "CLAIM_WINDOW_MAX",
    "DEFAULT_DURATION",
    "DESCRIPTION_MAX",
    "EDITABLE",
    "HOLDS_SEAT",
    "MUTE_TOPIC",
    "NOTICE_KIND",
    "NOTIFY_FIELDS",
    "OFFSETS_MAX",
    "OFFSET_MAX",
    "PLACE_MAX",
    "TITLE_MAX",
    "URL_MAX",
    "Attendee",
    "EventError",
    "EventPage",
    "EventUpdate",
    "ListedEvent",
    "RsvpResult",
    "UpcomingPage",
    "attendees",
    "cancel_event",
    "check_in",
    "check_update",
    "checkin_code",
    "checkin_window_open",
    "confirm_offer",
    "count_audience",
    "counts",
    "create_event",
    "delete_draft",
    "effective_end",
    "event_text",
    "event_with_organization",
    "expire_offers",
    "export_csv",
    "get_event",
    "mark_attendance",
    "member_answers",
    "my_answer",
    "new_checkin_code",
    "organizer_events",
    "place_in_line",
    "publish",
    "rsvp",
    "shown_event",
    "tap",
    "telegram_length",
    "upcoming_events",
    "update_event",
    "validate_audience",
    "validate_capacity",
    "validate_claim_window",
    "validate_description",
    "validate_event",
    "validate_offsets",
    "validate_place",
    "validate_times",
    "validate_timezone",
    "validate_title",
    "validate_translations",
    "validate_url",
    "version_for",
    "waitlist_position",
    "withdraw_member",
]

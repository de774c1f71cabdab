"""What an event may hold: the limits, the validation of every field (raising `EventError` with a
stable reason the handlers translate) and the pure helpers on an event's text and times. Nothing
here touches the database: a value is checked before anything is written.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.services.audience import AUDIENCE_KEYS
from bot.services.refusal import Refusal
from bot.services.text import telegram_length
from bot.services.versions import title_and_description
from bot.services.versions import version_for as version_for  # re-exported: events.version_for
from storage.models import Event, EventStatus, RsvpStatus

TITLE_MAX = 200
DESCRIPTION_MAX = 3000  # with title, place and link the card stays under Telegram's 4096
PLACE_MAX = 300
URL_MAX = 500
CAPACITY_MAX = 100_000
CLAIM_WINDOW_MAX = 168  # hours
OFFSET_MAX = 28 * 24 * 60  # minutes: reminders up to four weeks ahead
OFFSETS_MAX = 5
DEFAULT_DURATION = timedelta(hours=2)  # when an event has no end
CHOICES = (RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.NOT_GOING)
HOLDS_SEAT = (RsvpStatus.GOING, RsvpStatus.OFFERED)
# Who hears about a change or a cancellation: everyone still interested.
AFFECTED = (RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.WAITLISTED, RsvpStatus.OFFERED)
NOTIFY_FIELDS = ("starts_at", "ends_at", "place", "online_url")  # changes members are told about
EDITABLE = (
    "title",
    "description",
    "language",
    "translations",
    "starts_at",
    "ends_at",
    "timezone",
    "place",
    "online_url",
    "capacity",
    "rsvp_deadline",
    "claim_window_hours",
    "reminder_offsets",
    "audience",
)


class EventError(Refusal):
    """A refused event operation; `reason` is a stable code the handlers translate.

    Validation: "title_empty", "title_too_long", "description_too_long", "place_too_long",
    "bad_url", "capacity_range", "claim_window_range", "offsets_range", "bad_timezone",
    "bad_audience", "bad_language", "past_start", "end_before_start", "deadline_after_start",
    "deadline_in_past". State: "not_found", "not_editable", "closed" (a draft), "cancelled",
    "event_past", "deadline_passed", "offer_expired", "bad_code". Series (`recurrence`):
    "bad_rule", "series_empty", "count_range", "duration_range".
    `limit` is the maximum for the "…_too_long" and "…_range" reasons.
    """


def validate_title(text: str) -> str:
    return EventError.checked_line(text, TITLE_MAX, "title_empty", "title_too_long")


def validate_description(text: str | None) -> str:
    description = unicodedata.normalize("NFC", text or "").strip()
    if telegram_length(description) > DESCRIPTION_MAX:
        raise EventError("description_too_long", DESCRIPTION_MAX)
    return description


def validate_place(text: str | None) -> str | None:
    """An address, or None when there is no text."""
    if text is None or not text.strip():
        return None
    return EventError.checked_line(text, PLACE_MAX, "place_too_long", "place_too_long")


def validate_url(text: str | None) -> str | None:
    """An http(s) link with a host, or None."""
    if text is None or not text.strip():
        return None
    url = text.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        raise EventError("bad_url") from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or any(char.isspace() for char in url)
        or len(url) > URL_MAX
    ):
        raise EventError("bad_url")
    return url


def _bounded(value: int | str | None, low: int, high: int, reason: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise EventError(reason, high)
    try:
        number = int(value.strip()) if isinstance(value, str) else int(value)
    except ValueError:
        raise EventError(reason, high) from None
    if not low <= number <= high:
        raise EventError(reason, high)
    return number


def validate_capacity(value: int | str | None) -> int | None:
    """1–100000 seats, or None for no limit."""
    return _bounded(value, 1, CAPACITY_MAX, "capacity_range")


def validate_claim_window(value: int | str | None) -> int | None:
    """1–168 hours to confirm an offered seat, or None to promote at once."""
    return _bounded(value, 1, CLAIM_WINDOW_MAX, "claim_window_range")


def validate_offsets(offsets: Sequence[int]) -> list[int]:
    """Minutes before the start, each 1 min – 4 weeks, at most five; sorted, longest first."""
    cleaned = sorted(
        {_bounded(value, 1, OFFSET_MAX, "offsets_range") or 0 for value in offsets}, reverse=True
    )
    if len(cleaned) > OFFSETS_MAX:
        raise EventError("offsets_range", OFFSETS_MAX)
    return cleaned


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise EventError("bad_timezone") from None
    return name


def validate_audience(audience: dict[str, Any] | None) -> dict[str, Any]:
    audience = dict(audience or {})
    if set(audience) - set(AUDIENCE_KEYS):
        raise EventError("bad_audience")
    return {key: value for key, value in audience.items() if value}


def validate_translations(translations: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for language, version in (translations or {}).items():
        if not language or len(language) > 8:
            raise EventError("bad_language")
        entry = {"title": validate_title(version.get("title", ""))}
        if description := validate_description(version.get("description")):
            entry["description"] = description
        cleaned[language] = entry
    return cleaned


def validate_times(
    starts_at: datetime,
    ends_at: datetime | None,
    rsvp_deadline: datetime | None,
    now: datetime,
    *,
    check_start: bool = True,
    check_deadline: bool = True,
) -> None:
    """Start in the future, end after start, deadline before start (and not already passed)."""
    for moment in (starts_at, ends_at, rsvp_deadline, now):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("naive datetime")
    if check_start and starts_at <= now:
        raise EventError("past_start")
    if ends_at is not None and ends_at <= starts_at:
        raise EventError("end_before_start")
    if rsvp_deadline is not None:
        if rsvp_deadline > starts_at:
            raise EventError("deadline_after_start")
        if check_deadline and rsvp_deadline <= now:
            raise EventError("deadline_in_past")


def _validated(
    values: dict[str, Any], now: datetime, check_start: bool, check_deadline: bool
) -> dict[str, Any]:
    """Every editable field checked and normalized; raises before anything is written."""
    cleaned = dict(values)
    cleaned["title"] = validate_title(values["title"])
    cleaned["description"] = validate_description(values.get("description"))
    cleaned["language"] = values.get("language") or "en"
    if len(cleaned["language"]) > 8:
        raise EventError("bad_language")
    cleaned["translations"] = validate_translations(values.get("translations"))
    cleaned["timezone"] = validate_timezone(values.get("timezone") or "UTC")
    cleaned["place"] = validate_place(values.get("place"))
    cleaned["online_url"] = validate_url(values.get("online_url"))
    cleaned["capacity"] = validate_capacity(values.get("capacity"))
    cleaned["claim_window_hours"] = validate_claim_window(values.get("claim_window_hours"))
    offsets = values.get("reminder_offsets")
    cleaned["reminder_offsets"] = validate_offsets([1440, 60] if offsets is None else offsets)
    cleaned["audience"] = validate_audience(values.get("audience"))
    validate_times(
        values["starts_at"],
        values.get("ends_at"),
        values.get("rsvp_deadline"),
        now,
        check_start=check_start,
        check_deadline=check_deadline,
    )
    return cleaned


def validate_event(now: datetime, **fields: Any) -> dict[str, Any]:
    """The fields of a new event (`create_event`'s keywords, title and starts_at required)
    validated and normalized; writes nothing."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not event fields: {sorted(unknown)}")
    values = {name: None for name in EDITABLE} | fields
    return _validated(values, now, check_start=True, check_deadline=True)


def check_update(event: Event, now: datetime, **changes: Any) -> dict[str, Any]:
    """Every editable field of `event` with `changes` applied, validated and normalized; writes
    nothing. The start and deadline must be in the future only if they change."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if event.status == EventStatus.CANCELLED:
        raise EventError("not_editable")
    merged = {name: getattr(event, name) for name in EDITABLE} | changes
    if changes.get("reminder_offsets") is not None:
        merged["reminder_offsets"] = list(changes["reminder_offsets"])
    return _validated(
        merged,
        now,
        check_start="starts_at" in changes and changes["starts_at"] != event.starts_at,
        check_deadline="rsvp_deadline" in changes and changes["rsvp_deadline"] != event.rsvp_deadline,
    )


# (title, description) of an event in a language version (`version_for` picks the member's).
event_text = title_and_description


def effective_end(event: Event) -> datetime:
    return event.ends_at or event.starts_at + DEFAULT_DURATION

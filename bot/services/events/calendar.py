"""Calendar files (RFC 5545) for "Add to calendar": one VEVENT per file, times in UTC.

Times are written in UTC (`DTSTART:20270328T170000Z`), which Google Calendar, Outlook and Apple
Calendar all place correctly in the reader's own zone; `X-WR-TIMEZONE` names the zone the
organizer used, for clients that show it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.services.events.rules import effective_end, event_text
from storage.models import Event, EventStatus
from storage.types import utcnow

if TYPE_CHECKING:  # imported where a file is written: a few MB the process needs only then
    from icalendar import Calendar
    from icalendar import Event as CalendarEvent

PRODID = "-//Diaspora Bridge//Events//EN"


def event_uid(event: Event) -> str:
    """Stable across edits, so a re-imported file updates the entry instead of adding one."""
    return f"event-{event.id}@diaspora-bridge"


def event_ics(event: Event, language: str, *, url: str | None = None) -> bytes:
    """The event as an .ics file, title and description in `language` (a version name as given
    by `events.rules.version_for`). `url` (e.g. the bot's deep link) is used when there is no online
    link."""
    calendar = new_calendar(PRODID)
    calendar.add("x-wr-timezone", event.timezone)
    calendar.add_component(calendar_entry(event, language, utcnow().replace(microsecond=0), url=url))
    return calendar.to_ical()


def new_calendar(prodid: str) -> Calendar:
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    return calendar


def calendar_entry(event: Event, language: str, stamp: datetime, *, url: str | None = None) -> CalendarEvent:
    """One VEVENT: the same for the "Add to calendar" file and the member's feed (same UID, so an
    event imported both ways is one entry)."""
    title, description = event_text(event, language)
    from icalendar import Event as CalendarEvent

    entry = CalendarEvent()
    entry.add("uid", event_uid(event))
    entry.add("dtstamp", stamp)
    entry.add("last-modified", event.updated_at.astimezone(UTC).replace(microsecond=0))
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", effective_end(event).astimezone(UTC))
    entry.add("summary", title)
    if description:
        entry.add("description", description)
    location = event.place or event.online_url
    if location:
        entry.add("location", location)
    if event.online_url or url:
        entry.add("url", event.online_url or url)
    # Each edit of the event makes a newer version for clients that compare SEQUENCE.
    entry.add("sequence", int(event.updated_at.timestamp() - event.created_at.timestamp()) // 60)
    entry.add("status", "CANCELLED" if event.status == EventStatus.CANCELLED else "CONFIRMED")
    return entry


def ics_filename(event: Event) -> str:
    return f"event-{event.id}.ics"

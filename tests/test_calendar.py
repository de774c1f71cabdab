"""Calendar files parse back with icalendar, with the right UTC times in every zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.services.events.calendar import event_ics, event_uid
from storage.models import Event, EventStatus

BERLIN = ZoneInfo("Europe/Berlin")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def berlin_evening(day: int, **fields: object) -> Event:
    """An event at 19:00 Berlin time on `day` March 2027 (Berlin goes to summer time on the 28th)."""
    start = datetime(2027, 3, day, 19, 0, tzinfo=BERLIN).astimezone(UTC)
    values: dict[str, object] = {
        "id": 40 + day,
        "organization_id": 1,
        "title": "Stammtisch",
        "description": "Treffen der Community; bring Freunde mit, Zeile zwei\nund drei",
        "language": "de",
        "translations": {"pt": {"title": "Encontro", "description": "Reunião da comunidade"}},
        "starts_at": start,
        "timezone": "Europe/Berlin",
        "place": "Café Linde, Berlin",
        "online_url": "https://meet.example.org/stammtisch",
        "status": EventStatus.PUBLISHED,
        "created_at": datetime(2027, 3, 1, tzinfo=UTC),
        "updated_at": datetime(2027, 3, 2, tzinfo=UTC),
    }
    values.update(fields)
    return Event(**values)


def parse(data: bytes) -> tuple[Calendar, object]:
    calendar = Calendar.from_ical(data)
    (entry,) = calendar.walk("VEVENT")
    return calendar, entry


def test_ics_round_trip_across_berlin_dst_seen_from_sao_paulo() -> None:
    before = berlin_evening(27, ends_at=datetime(2027, 3, 27, 21, 30, tzinfo=BERLIN).astimezone(UTC))
    after = berlin_evening(28)
    for event, utc_hour, sao_paulo_hour in ((before, 18, 15), (after, 17, 14)):
        data = event_ics(event, "pt")
        assert data.startswith(b"BEGIN:VCALENDAR")
        calendar, entry = parse(data)
        assert str(calendar["VERSION"]) == "2.0"
        assert str(calendar["METHOD"]) == "PUBLISH"
        assert "Diaspora Bridge" in str(calendar["PRODID"])
        assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
        assert str(entry["UID"]) == event_uid(event) == f"event-{event.id}@diaspora-bridge"
        start = entry.decoded("DTSTART")
        assert start == event.starts_at and start.utcoffset() == timedelta(0)
        assert f"DTSTART:{event.starts_at:%Y%m%dT%H%M%S}Z\r\n".encode() in data  # written in UTC
        assert start.hour == utc_hour
        assert start.astimezone(BERLIN).hour == 19  # same wall-clock time on both sides of the change
        assert start.astimezone(SAO_PAULO).hour == sao_paulo_hour  # Brazil has no DST now
        assert str(entry["SUMMARY"]) == "Encontro"
        assert str(entry["DESCRIPTION"]) == "Reunião da comunidade"
        assert str(entry["LOCATION"]) == "Café Linde, Berlin"
        assert str(entry["URL"]) == "https://meet.example.org/stammtisch"
        assert entry.decoded("DTSTAMP").tzinfo is not None
    _, entry = parse(event_ics(before, "de"))
    assert entry.decoded("DTEND") == datetime(2027, 3, 27, 20, 30, tzinfo=UTC)
    assert str(entry["DESCRIPTION"]) == before.description  # newlines and ; survive escaping


def test_default_end_original_language_and_cancelled() -> None:
    event = berlin_evening(28, online_url=None, place=None, status=EventStatus.CANCELLED)
    _, entry = parse(event_ics(event, "fr", url="https://t.me/bridge_bot?start=event_68"))
    assert entry.decoded("DTEND") - entry.decoded("DTSTART") == timedelta(hours=2)
    assert str(entry["SUMMARY"]) == "Stammtisch"  # no French version: the original
    assert "LOCATION" not in entry
    assert str(entry["URL"]) == "https://t.me/bridge_bot?start=event_68"
    assert str(entry["STATUS"]) == "CANCELLED"

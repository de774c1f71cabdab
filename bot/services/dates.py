"""Dates and times typed by organizers, read in their own time zone.

Accepted: `2027-03-14 18:30`, `14.03.2027 18:30`, `14/03/2027 6:30pm`, `14-03-2027 18h30`, and a
bare time (`18:30`: today, or tomorrow if that time has passed). Day comes before month in the
slash and dot forms, as in most of the world.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.services.schedule_math import parse_clock

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T,]+(.+)")
_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})[ ,]+(.+)")


class DateError(ValueError):
    """`reason`: "format" (not understood) or "past"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LocalMoment:
    utc: datetime
    zone: str


def parse_local_datetime(
    text: str, zone_name: str, now: datetime, *, allow_past: bool = False
) -> LocalMoment:
    zone = ZoneInfo(zone_name)
    cleaned = " ".join(text.strip().split())
    day: date | None = None
    clock_text = cleaned
    if match := _ISO.fullmatch(cleaned):
        year, month, day_number, clock_text = match.groups()
        day = _date(int(year), int(month), int(day_number))
    elif match := _DMY.fullmatch(cleaned):
        day_number, month, year, clock_text = match.groups()
        day = _date(int(year), int(month), int(day_number))
    minutes = parse_clock(clock_text)
    if minutes is None:
        raise DateError("format")
    local_now = now.astimezone(zone)
    if day is None:
        day = local_now.date()
        if datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone) <= local_now:
            day += timedelta(days=1)
    moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone).astimezone(UTC)
    if moment <= now and not allow_past:
        raise DateError("past")
    return LocalMoment(moment, zone_name)


def _date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError("format") from None

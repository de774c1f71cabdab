"""Dates and times typed by organizers, read in their own time zone.

Accepted: `2027-03-14 18:30`, `14.03.2027 18:30`, `14/03/2027 6:30pm`, `14-03-2027 18h30`, a
bare time (`18:30`: today, or tomorrow if that time has passed), and the relative days CLDR names in
every shipped language followed by a time ("tomorrow 6pm", "demain 18h30", "завтра в 18:30",
"kesho saa 18:00"). Day comes before month in the slash and dot forms, as in most of the world.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale

from bot.config import SHIPPED_LANGUAGES
from bot.services.refusal import Refusal
from bot.services.schedule_math import parse_clock
from bot.services.text import fold

# Little words people put between the day and the time ("demain à 18h", "завтра в 18:30").
_CONNECTORS = {"at", "à", "a", "las", "la", "às", "as", "в", "во", "о", "об", "saa", "الساعة", ","}


@cache
def _relative_days() -> list[tuple[str, int]]:
    """("demain", 1), ("apres-demain", 2), ("kesho kutwa", 2)... longest first, from Babel's CLDR data."""
    words: dict[str, int] = {}
    for language in SHIPPED_LANGUAGES:
        relative = Locale.parse(language)._data["date_fields"]["day"]["relative"]
        for offset in (0, 1, 2):
            if offset in relative:
                words[fold(relative[offset])] = offset
    return sorted(words.items(), key=lambda item: -len(item[0]))


def _split_relative(text: str) -> tuple[int, str] | None:
    folded = fold(text)
    for word, offset in _relative_days():
        if folded.startswith(word) and (len(folded) == len(word) or not folded[len(word)].isalnum()):
            rest = [part for part in folded[len(word) :].split() if part not in _CONNECTORS]
            return offset, " ".join(rest)
    return None


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T,]+(.+)")
_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})[ ,]+(.+)")


class DateError(Refusal, ValueError):
    """`reason`: "format" (not understood) or "past"."""


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
    if relative := _split_relative(cleaned):
        offset, clock_text = relative
        day = now.astimezone(zone).date() + timedelta(days=offset)
    elif match := _ISO.fullmatch(cleaned):
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

"""Dates and times typed by organizers, read in their own language and time zone.

A time is always needed; the day before it is read by dateparser (BSD), in the organizer's
language and English: `2027-03-14 18:30`, `14.03.2027 18:30`, `19/12 19h`, `next Friday 7pm`,
`sábado 10:00`, `le 19 décembre à 19h`. The relative days CLDR names in every catalog language
("demain", "завтра в 18:30", "kesho saa 18:00", the Hindi and Urdu "kal") come from Babel, and a
bare time (`18:30`) is today, or tomorrow if that time has passed. What the project checks on top:

- a date without a year is its next occurrence ("19/12" typed on 20 December is next year's);
- a numeric day and month that can be read both ways in the organizer's language ("03/04" in
  English) is refused as "ambiguous" with both readings, never guessed;
- a moment already past is refused as "past" with the moment read, so the question can name it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale

from bot.services.refusal import Refusal
from bot.services.schedule_math import parse_clock
from bot.services.text import fold

# The catalog languages as Babel locales; dateparser names them by their language alone.
LANGUAGES = (
    *("en", "fr", "es", "pt", "ar", "ru", "uk", "sw"),
    *("de", "it", "tr", "fa", "ur", "hi", "bn", "zh_Hans"),
)

# Little words people put around the day and the time ("demain à 18h", "в субботу в 18:30",
# "у неділю о 10:00", "morgen um 18:00", "yarın saat 18:00", "कल 18:00 बजे"), compared after `fold`.
_CONNECTORS = {
    fold(word)
    for word in (
        *("at", "à", "a", "las", "la", "às", "as", "в", "во", "у", "о", "об", "saa", "الساعة", ","),
        *("um", "alle", "ore", "saat", "ساعت", "बजे", "بجے", "টায়", "টা", "点"),
    )
}

# Words CLDR gives for both yesterday and tomorrow (Hindi and Urdu "kal", "parson"): a date typed
# for an event or a closing time is in the future, so they mean tomorrow and the day after.
_FUTURE_DAYS = {"कल": 1, "کل": 1, "परसों": 2, "پرسوں": 2}

# A day and month in figures, with or without a year ("03/04", "19.12.2027").
_DAY_MONTH = re.compile(r"(\d{1,2})[./-](\d{1,2})(?:[./-]\d{2}(?:\d{2})?)?")


class DateError(Refusal, ValueError):
    """`reason`: "format" (not understood), "past" (`moments`: the moment read) or "ambiguous"
    (`moments`: both readings); `zone`: the organizer's zone the moments are shown in."""

    def __init__(self, reason: str, moments: tuple[datetime, ...] = (), zone: str = "UTC") -> None:
        super().__init__(reason)
        self.moments = moments
        self.zone = zone


@dataclass(frozen=True)
class LocalMoment:
    utc: datetime
    zone: str


def parse_local_datetime(
    text: str, zone_name: str, now: datetime, *, allow_past: bool = False, language: str | None = None
) -> LocalMoment:
    """`text` in `language` (None: any catalog language) as a moment in `zone_name`."""
    zone = ZoneInfo(zone_name)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    cleaned = " ".join(_ascii_digits(text).split())
    clock = _split_clock(cleaned)
    if clock is None:
        # No time at the end ("7pm next Friday"): dateparser reads it all, and must find a time.
        found = _dateparser(cleaned, language, local_now, "future", None, with_time=True)
        if found is None:
            raise DateError("format")
        moment = found.replace(tzinfo=zone).astimezone(UTC)
    else:
        day_text, minutes = clock
        moment = _moment(day_text, minutes, language, local_now, zone)
    if moment <= now and not allow_past:
        raise DateError("past", (moment,), zone_name)
    return LocalMoment(moment, zone_name)


def _moment(
    day_text: str, minutes: int, language: str | None, local_now: datetime, zone: ZoneInfo
) -> datetime:
    """The day read from `day_text` (empty: today or tomorrow) at `minutes`, as UTC; a day that
    has come round again this year (or this week) with its time passed is its next occurrence."""

    def at(day: date) -> datetime:
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone).astimezone(UTC)

    now = local_now.replace(tzinfo=zone).astimezone(UTC)
    if not day_text:
        today = local_now.date()
        return at(today) if at(today) > now else at(today + timedelta(days=1))
    if (offset := _relative_day(day_text)) is not None:
        return at(local_now.date() + timedelta(days=offset))
    order = _day_month_order(day_text, language)
    if isinstance(order, tuple):  # both readings possible: the organizer says which
        readings = [_dateparser(day_text, language, local_now, "future", each) for each in order]
        moments = tuple(at(found.date()) for found in readings if found is not None)
        raise DateError("ambiguous" if len(moments) == 2 else "format", moments, zone.key)
    found = _dateparser(day_text, language, local_now, "current_period", order)
    if found is None:
        raise DateError("format")
    moment = at(found.date())
    if moment <= now and (later := _dateparser(day_text, language, local_now, "future", order)) is not None:
        moment = max(moment, at(later.date()))
    return moment


def _ascii_digits(text: str) -> str:
    """Persian, Arabic, Bengali, Devanagari… digits as 0-9 (dateparser and the checks read those)."""
    return "".join(str(unicodedata.digit(char)) if char.isdigit() else char for char in text)


def _split_clock(text: str) -> tuple[str, int] | None:
    """("the day part", minutes) when the text ends with a time ("…19h", "…6:30 pm"), the little
    words before the time dropped; None if it does not end with one."""
    words = text.split()
    for size in (2, 1):
        if len(words) >= size and (minutes := parse_clock("".join(words[-size:]))) is not None:
            head = words[:-size]
            while head and fold(head[-1]) in _CONNECTORS:
                head.pop()
            while head and fold(head[0]) in _CONNECTORS:
                head.pop(0)
            return " ".join(head).rstrip(","), minutes
    return None


@cache
def _relative_days() -> dict[str, int]:
    """{"demain": 1, "apres-demain": 2, "kesho kutwa": 2, …} from Babel's CLDR data."""
    words: dict[str, int] = {}
    for language in LANGUAGES:
        relative = Locale.parse(language)._data["date_fields"]["day"]["relative"]
        for offset in (0, 1, 2):
            if offset in relative:
                words[fold(relative[offset])] = offset
    words.update({fold(word): offset for word, offset in _FUTURE_DAYS.items()})
    return words


def _relative_day(text: str) -> int | None:
    return _relative_days().get(fold(text))


def _month_first(language: str | None) -> bool:
    """Whether the language's own short date puts the month before the day (English: 3/14/27)."""
    if language is None:
        return False
    pattern = Locale.parse(language).date_formats["short"].pattern
    return pattern.index("M") < pattern.index("d")


def _day_month_order(text: str, language: str | None) -> str | tuple[str, str] | None:
    """How to read a day and month in figures: "DMY" (most of the world), "MDY" (3/14), both when
    the language writes the month first but the numbers allow either; None: not in figures.
    Numbers no calendar has (32/01, 13/13) are refused here: dateparser would read a year in them."""
    match = _DAY_MONTH.fullmatch(text)
    if match is None:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    if not (0 < first <= 31 and 0 < second <= 31 and min(first, second) <= 12):
        raise DateError("format")
    if first > 12:
        return "DMY"
    if second > 12:
        return "MDY"
    if _month_first(language) and first != second:
        return ("DMY", "MDY")
    return "DMY"


def _dateparser(
    text: str,
    language: str | None,
    base: datetime,
    prefer: str,
    order: str | None,
    *,
    with_time: bool = False,
) -> datetime | None:
    """dateparser's reading of `text` (a day, or with `with_time` a day and a time), local and naive."""
    settings: dict[str, Any] = {
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": base,
        "RETURN_TIME_AS_PERIOD": True,
        "DATE_ORDER": order or "DMY",
    }
    from dateparser.date import DateDataParser  # here: its language data load when a date is typed

    found = DateDataParser(languages=_parser_languages(language), settings=settings).get_date_data(text)
    if found.date_obj is None or found.period != ("time" if with_time else "day"):
        return None
    return found.date_obj.replace(tzinfo=None)


@cache
def _parser_languages(language: str | None) -> list[str]:
    """The organizer's language first, then English (ISO dates, "next Friday"); None: all."""
    if language is None:
        return [code.split("_")[0] for code in LANGUAGES]
    own = language.split("_")[0]
    return [own] if own == "en" else [own, "en"]


# Between the two days of a typed range: a dash with spaces around it ("1.3.2027 - 31.3.2027"; a bare
# hyphen belongs to ISO dates), an en or em dash, or "..".
_RANGE_SEPARATOR = re.compile(r"\s+-\s+|\s*[–—]\s*|\s*\.\.\s*")
RANGE_DAYS_MAX = 3 * 366  # a longer range is refused ("long"): its weekly series would not be read


def parse_local_day(text: str, today: date, *, language: str | None = None) -> date:
    """A day typed without a time (`2027-03-14`, `14.03.2027`, `14 mars 2027`, `today`), read as
    `parse_local_datetime` reads the day part; a day without a year is its latest occurrence up to
    `today` (statistics look back). `DateError` "format" or "ambiguous" (`moments`: both readings,
    at midnight UTC)."""
    cleaned = " ".join(_ascii_digits(text).split()).strip(" ,")
    cleaned = re.sub(r"^(\d{1,2})\.(\d{1,2})$", r"\1/\2", cleaned)  # "01.03" is no time of day here
    if not cleaned:
        raise DateError("format")
    if (offset := _relative_day(cleaned)) is not None:
        return today + timedelta(days=offset)
    base = datetime.combine(today, time(12, 0))
    order = _day_month_order(cleaned, language)
    if isinstance(order, tuple):
        readings = [_dateparser(cleaned, language, base, "past", each) for each in order]
        moments = tuple(datetime.combine(found.date(), time(), UTC) for found in readings if found)
        raise DateError("ambiguous" if len(moments) == 2 else "format", moments)
    found = _dateparser(cleaned, language, base, "past", order)
    if found is None:
        raise DateError("format")
    return found.date()


def parse_day_range(text: str, today: date, *, language: str | None = None) -> tuple[date, date]:
    """Two days typed as a range ("2027-01-01 – 2027-03-31", "1.1.2027 - 31.3.2027"), first and last
    included. `DateError` as `parse_local_day`, or "order" (the end before the start), "long" (more
    than `RANGE_DAYS_MAX` days)."""
    parts = _RANGE_SEPARATOR.split(_ascii_digits(text).strip(), maxsplit=1)
    if len(parts) != 2:
        raise DateError("format")
    first, last = (parse_local_day(part, today, language=language) for part in parts)
    if last < first:
        raise DateError("order")
    if (last - first).days >= RANGE_DAYS_MAX:
        raise DateError("long")
    return first, last

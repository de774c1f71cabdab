"""Countries and time zones, offline: names from Babel (CLDR), zones from the tz database tables."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Final
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import get_timezone_location

from bot.config import SHIPPED_LANGUAGES
from bot.services.text import fold


def _tz_table(name: str) -> list[list[str]]:
    text = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes of the countries and territories the tz database knows."""
    return frozenset(row[0] for row in _tz_table("iso3166.tab"))


@cache
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    zones: dict[str, list[str]] = {}
    for row in _tz_table("zone.tab"):
        zones.setdefault(row[0], []).append(row[2])
    return {code: tuple(names) for code, names in zones.items()}


@cache
def _main_areas() -> frozenset[str]:
    """Zones the tz database describes as a country's main area ("most of Germany", "Eastern (most
    areas)", "Spain (mainland)", "MSK+00 - Moscow area")."""
    words = ("most", "mainland", "moscow area")
    return frozenset(
        row[2] for row in _tz_table("zone.tab") if len(row) > 3 and any(w in row[3].lower() for w in words)
    )


# Where the tz database's comments do not name a country's main zone well (it lists Canada from east
# to west, Brazil's Belém before São Paulo): the zones most people live in, each country's main one
# first. They win their UTC offset's place in the list too.
PREFERRED_ZONES: Final = (
    "America/New_York",
    "America/Toronto",
    "America/Vancouver",
    "America/Winnipeg",
    "America/Sao_Paulo",
    "America/Manaus",
    "America/Mexico_City",
    "America/Argentina/Buenos_Aires",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
)


def zone_choices(code: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The zones to offer for a country: (the main zone first, then one zone for each other UTC
    offset, west to east; the rest, offered only under "Other"). Büsingen keeps Berlin's time, so
    a German is offered Berlin, with Büsingen under Other."""
    now = datetime.now(UTC)
    listed = _zones_by_country().get(code.upper(), ())
    groups: dict[timedelta, list[str]] = {}
    for zone in listed:  # in the tz database's order: the most populous first, where it can
        groups.setdefault(now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(), []).append(zone)
    main_areas = _main_areas()
    picked = {
        offset: next(
            (z for z in zones if z in PREFERRED_ZONES), next((z for z in zones if z in main_areas), zones[0])
        )
        for offset, zones in groups.items()
    }
    main = next((zone for zone in PREFERRED_ZONES if zone in listed), None)
    main = main or next((zone for zone in listed if zone in main_areas), None)
    if main is None:
        main = picked[max(groups, key=lambda offset: len(groups[offset]))]
    shown = [main, *(picked[offset] for offset in sorted(groups) if picked[offset] != main)]
    return tuple(shown), tuple(zone for zone in country_zones(code) if zone not in shown)


def country_zones(code: str) -> tuple[str, ...]:
    """The country's zones, sorted west to east (by current UTC offset), then by name."""
    now = datetime.now(UTC)
    zones = _zones_by_country().get(code.upper(), ())
    return tuple(sorted(zones, key=lambda zone: (now.astimezone(ZoneInfo(zone)).utcoffset(), zone)))


def is_valid_zone(zone: str) -> bool:
    return zone in _valid_zones()


@cache
def _valid_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def country_name(code: str | None, locale: str) -> str:
    if not code:
        return ""
    return Locale.parse(locale).territories.get(code.upper(), code.upper())


def zone_label(zone: str, locale: str) -> str:
    """A zone as people say it: its main city in their language and the current UTC offset."""
    tz = ZoneInfo(zone)
    city = get_timezone_location(tz, locale=locale, return_city=True) if zone != "UTC" else "UTC"
    offset = datetime.now(UTC).astimezone(tz).strftime("%z")
    sign, hours, minutes = offset[0], int(offset[1:3]), offset[3:5]
    shown = f"UTC{sign}{hours}" + (f":{minutes}" if minutes != "00" else "")
    return f"{city} ({shown})" if zone != "UTC" else "UTC"


@cache
def _search_index() -> dict[str, set[str]]:
    """Folded country names in every shipped language (and the codes) → country codes."""
    index: dict[str, set[str]] = {}
    for language in SHIPPED_LANGUAGES:
        territories = Locale.parse(language).territories
        for code in country_codes():
            if code in territories:
                index.setdefault(fold(territories[code]), set()).add(code)
    for code in country_codes():
        index.setdefault(code.casefold(), set()).add(code)
    return index


def find_countries(query: str, limit: int = 6) -> list[str]:
    """Countries whose name in any shipped language matches what a member typed.

    An exact name comes first, with the names that start with it; without an exact name, also names
    containing the text, then close spellings ("Senegall", "Marocco").
    """
    folded = fold(query)
    if not folded:
        return []
    index = _search_index()
    ranked: list[str] = []

    def add(codes: set[str]) -> None:
        for code in sorted(codes):
            if code not in ranked:
                ranked.append(code)

    exact = folded in index
    if exact:
        add(index[folded])
    if len(folded) >= 2:
        for name, codes in sorted(index.items()):
            if len(name) > 2 and name.startswith(folded):
                add(codes)
        if exact:  # "Congo" also offers both Congos, but "Canada" offers nothing else
            return ranked[:limit]
        if len(folded) >= 3:
            for name, codes in sorted(index.items()):
                if len(name) > 2 and folded in name:
                    add(codes)
    for name in difflib.get_close_matches(folded, list(index), n=limit, cutoff=0.75):
        add(index[name])
    return ranked[:limit]

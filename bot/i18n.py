"""The multilingual message layer: catalogs, locale choice and locale-aware formatting.

Every user-visible string goes through gettext (`_`, `__` lazy, `ngettext` plurals) with catalogs in
`locales/`; dates, numbers and country names come from Babel (CLDR) in the member's locale and zone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from gettext import GNUTranslations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_location
from babel.lists import format_list as babel_format_list

from bot import bidi
from bot.config import PROJECT_ROOT, SHIPPED_LANGUAGES, normalize_language

__all__ = [
    "LOCALES_DIR",
    "SHIPPED_LANGUAGES",
    "_",
    "__",
    "compile_catalogs",
    "create_i18n",
    "format_list",
    "format_when",
    "is_rtl",
    "language_name",
    "languages_first",
    "ngettext",
    "normalize_language",
    "resolve_locale",
    "zone_city",
]

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"
log = logging.getLogger(__name__)


def compile_catalogs(path: Path = LOCALES_DIR) -> int:
    """Compile every `.po` whose `.mo` is missing or older. Returns how many were compiled.

    aiogram's `I18n` refuses a catalog without its `.mo`; compiling at start keeps a fresh clone
    runnable without a manual `pybabel compile`.
    """
    compiled = 0
    for po_path in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        from babel.messages.mofile import write_mo  # Babel's catalog tools: only when compiling
        from babel.messages.pofile import read_po

        locale = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        tmp_path = mo_path.with_suffix(".mo.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp_path.replace(mo_path)
        compiled += 1
    return compiled


class BidiI18n(I18n):
    """aiogram's I18n whose right-to-left translations come with their placeholders and commands
    in Unicode isolates (`bot.bidi.localize`): every string, lazy or not, passes through here."""

    def gettext(self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None) -> str:
        text = super().gettext(singular, plural, n, locale)
        # A text with nothing to isolate never asks for its direction: the command menus of every
        # language at start-up would otherwise load all sixteen locales' CLDR data (~20 MB).
        if bidi.may_localize(text) and is_rtl(locale or self.current_locale):
            return bidi.localize(text)
        return text

    def find_locales(self) -> dict[str, GNUTranslations]:
        """aiogram's catalogs, each text held once: a source text is the key of all sixteen (and
        an English translation often the source itself), some 3 MB for the life of the process.
        Read once per process (the tests build many Apps; some 50 ms each) and shared: read again
        only when a compiled file changed. The catalogs must not be changed."""
        stamp = _stamp(self.path, self.domain)
        if stamp not in _CATALOGS:
            _CATALOGS.clear()  # a file changed: the catalogs read before are of no use any more
            locales = super().find_locales()
            shared: dict[str, str] = {}
            for translations in locales.values():
                catalog = translations._catalog  # type: ignore[attr-defined]
                translations._catalog = {  # type: ignore[attr-defined]
                    _shared(key, shared): _shared(text, shared) for key, text in catalog.items()
                }
            _CATALOGS[stamp] = locales
        return dict(_CATALOGS[stamp])


_CATALOGS: dict[tuple[Any, ...], dict[str, GNUTranslations]] = {}


def _stamp(path: Path, domain: str) -> tuple[Any, ...]:
    """The compiled catalogs under `path` as they are now: each file's size and time."""
    files = sorted(path.glob(f"*/LC_MESSAGES/{domain}.mo"))
    return (path.resolve(), *((str(mo), mo.stat().st_size, mo.stat().st_mtime_ns) for mo in files))


def _shared(item: Any, shared: dict[str, str]) -> Any:
    """`item` (a text, or a plural's `(text, n)` key) with its text the one already seen."""
    if isinstance(item, str):
        return shared.setdefault(item, item)
    if isinstance(item, tuple) and item and isinstance(item[0], str):
        return (shared.setdefault(item[0], item[0]), *item[1:])
    return item


# aiogram keeps "the current I18n" in one context variable per class (`ContextInstanceMixin`) and its
# `gettext` helpers read `I18n`'s: the subclass shares that variable instead of getting its own.
BidiI18n._ContextInstanceMixin__context_instance = I18n._ContextInstanceMixin__context_instance  # type: ignore[attr-defined]


def create_i18n(default_language: str, path: Path = LOCALES_DIR) -> I18n:
    compile_catalogs(path)
    return BidiI18n(path=path, default_locale=default_language, domain=DOMAIN)


def languages_first(*first: str) -> list[str]:
    """Every shipped language, `first` ones (an organization's, a training's) in front: with sixteen
    languages, the likely choices are at hand."""
    front = list(dict.fromkeys(code for code in first if code in SHIPPED_LANGUAGES))
    return front + [code for code in SHIPPED_LANGUAGES if code not in front]


def resolve_locale(saved: str | None, telegram_code: str | None, default: str) -> str:
    """Member's saved language, else Telegram's `language_code`, else the deployment default."""
    return normalize_language(saved) or normalize_language(telegram_code) or default


@cache
def language_name(code: str) -> str:
    """A language's own name, as its speakers write it ("Français", "العربية", "Kiswahili")."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def language_names(codes: Iterable[str]) -> str:
    """Languages by their own names, one after the other: "English, Français, العربية"."""
    return ", ".join(language_name(code) for code in codes)


@cache
def is_rtl(code: str) -> bool:
    try:
        return Locale.parse(code).text_direction == "rtl"
    except (ValueError, LookupError):  # not a locale at all: no catalog, no direction
        return False


def zone_city(timezone: str, locale: str | None = None) -> str:
    """A zone as its people name it, in the member's language (default: the current locale):
    "Berlin", "برلين", "柏林" (CLDR's exemplar city), never its id "Europe/Berlin"."""
    if timezone == "UTC":
        return "UTC"
    locale = locale or I18n.get_current().current_locale
    return str(get_timezone_location(ZoneInfo(timezone), locale=locale, return_city=True))


def format_when(moment: datetime, locale: str, timezone: str, fmt: str = "card") -> str:
    """A UTC timestamp shown in the member's zone and locale: "card" (the default) "14 mars 2027,
    18:30 (Paris)", no seconds and the zone's city named; "words" with the weekday and the month in
    full ("dimanche 14 mars 2027, 18:30 (Berlin)"); else a Babel format."""
    if fmt in ("words", "card"):
        local = moment.astimezone(ZoneInfo(timezone))
        pattern = str(Locale.parse(locale).datetime_formats["medium"])  # "{1}, {0}", "{1} {0}"
        day = format_date(local, "full" if fmt == "words" else "medium", locale=locale)
        when = pattern.format(format_time(local, "short", locale=locale), day)
        return f"{when} ({zone_city(timezone, locale)})"
    return format_datetime(moment, format=fmt, tzinfo=ZoneInfo(timezone), locale=locale)


# Arabic's CLDR lists join every item with "و" (and): a plain enumeration ("city, country") takes
# the Arabic comma instead of the Latin one CLDR's root falls back to.
_SEPARATORS = {"ar": "، "}


def format_list(items: Sequence[str], locale: str, style: str = "and") -> str:
    """Items joined in the locale's own words and punctuation: "and" lists ("Culture, Sport and
    Health", "文化、体育和健康", CLDR's standard list) or "parts" of one thing ("Berlin, Germany",
    "برلين، ألمانيا", "柏林、德国": the list's own separator, with no "and")."""
    items = [item for item in items if item]
    if style == "and" or len(items) < 2:
        return babel_format_list(items, style="standard", locale=locale) if items else ""
    return _separator(locale).join(items)


@cache
def _separator(locale: str) -> str:
    if locale in _SEPARATORS:
        return _SEPARATORS[locale]
    middle = Locale.parse(locale).list_patterns["standard"]["middle"]
    return middle.replace("{0}", "").replace("{1}", "")

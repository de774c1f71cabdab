"""The multilingual message layer: catalogs, locale choice and locale-aware formatting.

Every user-visible string goes through gettext (`_`, `__` lazy, `ngettext` plurals) with catalogs in
`locales/`; dates, numbers and country names come from Babel (CLDR) in the member's locale and zone.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import PROJECT_ROOT, SHIPPED_LANGUAGES

__all__ = [
    "LOCALES_DIR",
    "SHIPPED_LANGUAGES",
    "_",
    "__",
    "compile_catalogs",
    "create_i18n",
    "format_when",
    "is_rtl",
    "language_name",
    "ngettext",
    "normalize_language",
    "resolve_locale",
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
        locale = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        tmp_path = mo_path.with_suffix(".mo.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp_path.replace(mo_path)
        compiled += 1
    return compiled


def create_i18n(default_language: str, path: Path = LOCALES_DIR) -> I18n:
    compile_catalogs(path)
    return I18n(path=path, default_locale=default_language, domain=DOMAIN)


def normalize_language(code: str | None) -> str | None:
    """Map a Telegram `language_code` ("pt-br", "uk", "ar-EG") to a shipped language, if any."""
    if not code:
        return None
    base = code.replace("_", "-").split("-", 1)[0].strip().lower()
    return base if base in SHIPPED_LANGUAGES else None


def resolve_locale(saved: str | None, telegram_code: str | None, default: str) -> str:
    """Member's saved language, else Telegram's `language_code`, else the deployment default."""
    return normalize_language(saved) or normalize_language(telegram_code) or default


@cache
def language_name(code: str) -> str:
    """A language's own name, as its speakers write it ("Français", "العربية", "Kiswahili")."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


@cache
def is_rtl(code: str) -> bool:
    return Locale.parse(code).text_direction == "rtl"


def format_when(moment: datetime, locale: str, timezone: str, fmt: str = "card") -> str:
    """A UTC timestamp shown in the member's zone and locale: "card" (the default) "14 mars 2027,
    18:30 (Europe/Paris)", no seconds and the zone named; "words" with the weekday and the month
    in full; else a Babel format."""
    if fmt in ("words", "card"):
        local = moment.astimezone(ZoneInfo(timezone))
        day = format_date(local, "full" if fmt == "words" else "medium", locale=locale)
        return f"{day}, {format_time(local, 'short', locale=locale)} ({timezone})"
    return format_datetime(moment, format=fmt, tzinfo=ZoneInfo(timezone), locale=locale)

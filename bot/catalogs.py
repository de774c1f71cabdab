"""Catalog maintenance: `python -m bot.catalogs check` lists what any shipped catalog misses.

Used by the test suite (a missing translation, a placeholder, HTML tag or /command that differs from
the source, a missing plural form or plural rules other than CLDR's fail it) and by `make messages`
to refresh the English catalog. That each translation is in its own language is checked by the
suite with a language detector (tests/test_translations.py).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import DOMAIN, LOCALES_DIR

_PLACEHOLDER = re.compile(r"\{\w*\}|%\(\w+\)[sd]")
_TAG = re.compile(r"</?[a-z-]+>")
_COMMAND = re.compile(r"(?<![\w/])/[a-z][a-z0-9_]*")  # /mydata: Telegram only knows it untranslated


def load(language: str, path: Path = LOCALES_DIR) -> Catalog:
    with (path / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as po_file:
        return read_po(po_file, locale=language)


def load_template(path: Path = LOCALES_DIR) -> Catalog:
    with (path / f"{DOMAIN}.pot").open("rb") as pot_file:
        return read_po(pot_file)


def problems(language: str, path: Path = LOCALES_DIR) -> list[str]:
    """Everything wrong with one catalog, as readable lines (empty when it is complete)."""
    catalog, template = load(language, path), load_template(path)
    found: list[str] = []
    cldr = get_plural(language)
    if (catalog.num_plurals, catalog.plural_expr) != (cldr.num_plurals, cldr.plural_expr):
        found.append(f"{language}: Plural-Forms is {catalog.plural_forms!r}, CLDR says {cldr.plural_forms!r}")
    for message in template:
        if message.id and catalog.get(message.id) is None:
            found.append(f"{language}: missing {_short(message.id)}")
    for message in catalog:
        if not message.id:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        label = _short(message.id)
        if message.fuzzy:
            found.append(f"{language}: fuzzy {label}")
        if message.pluralizable and len(strings) != catalog.num_plurals:
            found.append(
                f"{language}: {len(strings)} plural forms instead of {catalog.num_plurals} for {label}"
            )
        expected_placeholders = set(_PLACEHOLDER.findall(" ".join(sources)))
        expected_tags = sorted(_TAG.findall(sources[-1]))
        expected_commands = sorted(_COMMAND.findall(sources[-1]))
        for string in strings:
            if not string or not string.strip():
                found.append(f"{language}: untranslated {label}")
                continue
            if set(_PLACEHOLDER.findall(string)) != expected_placeholders:
                found.append(f"{language}: placeholders differ in {label}: {string!r}")
            if sorted(_TAG.findall(string)) != expected_tags:
                found.append(f"{language}: HTML tags differ in {label}: {string!r}")
            if sorted(_COMMAND.findall(string)) != expected_commands:
                found.append(f"{language}: commands differ in {label}: {string!r}")
        if message.id and template.get(message.id) is None and not message.obsolete:
            found.append(f"{language}: not in the template (run `make messages`): {label}")
    return found


def fill_source(language: str = "en", path: Path = LOCALES_DIR) -> None:
    """The source language's catalog says exactly what the code says."""
    catalog = load(language, path)
    for message in catalog:
        if message.id:
            message.string = message.id if not message.pluralizable else tuple(message.id)
    with (path / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("wb") as po_file:
        write_po(po_file, catalog, no_location=True, sort_output=True)


def _short(message_id: str | tuple[str, ...]) -> str:
    text = message_id[0] if isinstance(message_id, tuple) else message_id
    return repr(text[:60])


def main(argv: list[str]) -> int:
    if argv[:1] == ["fill-source"]:
        fill_source()
        return 0
    lines = [line for language in SHIPPED_LANGUAGES for line in problems(language)]
    print("\n".join(lines) or "all catalogs complete")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

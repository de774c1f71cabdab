"""Which language version of a translated text a member gets, for every capability that writes in
one language and translates into others (announcements, events, trainings, surveys): the member's
own language if there is a version in it, else the organization's default, else the original."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class Translated(Protocol):
    """A text written in `language` with `translations` keyed by language code."""

    @property
    def language(self) -> str: ...

    @property
    def translations(self) -> Mapping[str, Any]: ...


class Titled(Translated, Protocol):
    """A translated title (a list shows only that)."""

    @property
    def title(self) -> str: ...


class TitledText(Titled, Protocol):
    """A title and a description, translated as {lang: {"title": ..., "description": ...}}
    (events and trainings)."""

    @property
    def description(self) -> str: ...


def pick_version(original: str, translated: Iterable[str], member_language: str | None, default: str) -> str:
    """The language version a member gets: theirs if written, else the organization's default,
    else the original."""
    available = {original, *translated}
    for candidate in (member_language, default):
        if candidate in available:
            return candidate
    return original


def version_for(item: Translated, member_language: str | None, default_language: str) -> str:
    """The version of `item` a member gets (see `pick_version`)."""
    return pick_version(item.language, item.translations, member_language, default_language)


def title_in(item: Titled, version: str) -> str:
    """The title in `version`; a translation without one falls back to the original."""
    if version == item.language or version not in item.translations:
        return item.title
    return item.translations[version].get("title") or item.title


def title_and_description(item: TitledText, version: str) -> tuple[str, str]:
    """(title, description) in `version`; a translation without description falls back."""
    if version == item.language or version not in item.translations:
        return item.title, item.description
    return title_in(item, version), item.translations[version].get("description") or item.description

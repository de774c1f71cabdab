"""The library's rules, free of any lookup: categories, limits, what a link, a file, a title or a
tag may be, and which resources match which member interests (for the weekly digest)."""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import urlsplit

from bot.services.refusal import Refusal
from bot.services.text import TextRejected, clean_line, telegram_length
from storage.models import Role

# Who publishes resources and decides on suggestions in an organization (super-admins everywhere;
# they alone publish for the whole confederation).
LIBRARY_STAFF: Final = frozenset({Role.COORDINATOR, Role.ORGANIZER, Role.ADMIN})
CATEGORIES: Final = (
    "funding_grants",
    "legal_documents",
    "jobs_business",
    "training_material",
    "policy_advocacy",
    "health",
    "culture_language",
    "running_association",
)
TITLE_MAX: Final = 120
SUMMARY_MAX: Final = 500
BODY_MAX: Final = 3500
STORY_MAX: Final = 1000  # a best practice's problem, what was done, result
CONTACT_MAX: Final = 200
NOTE_MAX: Final = 500  # a member's note with a suggestion, a rejection's reason
URL_MAX: Final = 2048
TAG_MAX: Final = 30
TAGS_MAX: Final = 10
FILE_MAX_BYTES: Final = 50 * 1024 * 1024  # what a bot may send as a document
FILE_KINDS: Final = ("document", "photo")

# Member interests (profile keys) → the categories a digest offers for them; tags equal to an
# interest key (or a category) match as well, so "women" and "youth" reach their networks.
INTEREST_CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "events": ("running_association",),
    "trainings": ("training_material",),
    "business": ("jobs_business", "funding_grants"),
    "culture": ("culture_language",),
    "volunteering": ("running_association", "policy_advocacy"),
    "women": (),
    "youth": (),
    "health": ("health",),
    "legal": ("legal_documents", "policy_advocacy"),
}


class LibraryError(Refusal):
    """A resource the library will not take; `reason` is a stable code the handlers translate:
    empty, too_long (limit), bad_link, not_http, bad_file, file_too_big, bad_category,
    bad_tag, not_draft, not_suggested, not_visible."""


def checked_text(text: str | None, limit: int, *, multiline: bool = True) -> str:
    """A typed text within `limit` (Telegram's units), NFC and stripped: one line (spaces
    collapsed) unless `multiline`. Invisible characters alone are empty."""
    if not multiline:
        return LibraryError.checked_line(text, limit, "empty", "too_long")
    value = unicodedata.normalize("NFC", text or "").strip()
    try:
        clean_line(value, len(value) + 1)
    except TextRejected:
        raise LibraryError("empty") from None
    if telegram_length(value) > limit:
        raise LibraryError("too_long", limit)
    return value


def looks_like_link(text: str) -> bool:
    """One word with a scheme (`x://`, `javascript:`, `mailto:`) or starting with www.: a link,
    not a text body."""
    value = text.strip()
    if not value or any(ch.isspace() for ch in value):
        return False
    scheme = re.match(r"^[a-z][a-z0-9+.-]*:", value, re.I)
    return "://" in value or value.lower().startswith("www.") or scheme is not None


def checked_url(text: str) -> str:
    """An http(s) link with a host; anything else is refused (javascript:, ftp:, tg:, file:)."""
    value = text.strip()
    if value.lower().startswith("www."):
        value = "https://" + value
    if len(value) > URL_MAX or any(ch.isspace() for ch in value):
        raise LibraryError("bad_link")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise LibraryError("bad_link") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise LibraryError("not_http")
    if not parts.hostname or "." not in parts.hostname.strip("."):
        raise LibraryError("bad_link")
    return value


def checked_file(kind: str | None, size: int | None) -> str:
    """A document or a photo within what a bot may send; videos, stickers, voice... are refused."""
    if kind not in FILE_KINDS:
        raise LibraryError("bad_file")
    if size is not None and size > FILE_MAX_BYTES:
        raise LibraryError("file_too_big", FILE_MAX_BYTES // (1024 * 1024))
    return kind


def checked_category(category: str) -> str:
    if category not in CATEGORIES:
        raise LibraryError("bad_category")
    return category


def parse_tags(text: str) -> list[str]:
    """Tags typed separated by commas (or the Arabic comma, or new lines): lower case, each a short
    line, no repeats, at most `TAGS_MAX`."""
    tags: list[str] = []
    for part in re.split(r"[,،、\n;#]+", text):
        if not part.strip():
            continue
        try:
            tag = clean_line(part, TAG_MAX).casefold()
        except TextRejected:
            raise LibraryError("bad_tag", TAG_MAX) from None
        if tag not in tags:
            tags.append(tag)
    if not tags:
        raise LibraryError("empty")
    if len(tags) > TAGS_MAX:
        raise LibraryError("bad_tag", TAG_MAX)
    return tags


def interest_keys(category: str | None, tags: list[str]) -> set[str]:
    """The member interests a resource matches (its category's, and tags named like an interest)."""
    keys = {key for key, categories in INTEREST_CATEGORIES.items() if category in categories}
    return keys | {tag for tag in tags if tag in INTEREST_CATEGORIES}

"""Cleaning of free text typed by members and organizers."""

from __future__ import annotations

import re
import unicodedata
from html import unescape

# Format characters (zero-width spaces and joiners, bidi marks, BOM) and controls render as
# nothing: a name made only of them looks empty. Newlines and tabs are handled separately.
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Cs", "Co", "Cn"}
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")


class TextRejected(ValueError):
    """Input the bot cannot keep; `reason` is "empty" or "too_long"."""

    def __init__(self, reason: str, limit: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


def clean_line(text: str | None, max_length: int) -> str:
    """One line of text (a name, a city): invisible characters dropped, spaces collapsed.

    A text of only invisible characters (zero-width spaces, bidi marks) counts as empty.
    Raises `TextRejected`.
    """
    if text is None:
        raise TextRejected("empty")
    normalized = unicodedata.normalize("NFC", text)
    visible = "".join(ch for ch in normalized if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    visible = _SPACES.sub(" ", visible).strip()
    if not visible:
        raise TextRejected("empty")
    if len(visible) > max_length:
        raise TextRejected("too_long", max_length)
    return visible


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(html: str) -> str:
    """An HTML message's text as Telegram shows it (tags dropped, entities unescaped)."""
    return unescape(_TAG.sub("", html))


def visible_length(html: str) -> int:
    """Length of an HTML message as Telegram counts it: after entity parsing, in UTF-16 units."""
    return telegram_length(visible_text(html))


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, ending with "…" when cut."""
    if telegram_length(text) <= limit:
        return text
    cut = text.encode("utf-16-le")[: max(0, limit - 1) * 2].decode("utf-16-le", errors="ignore")
    return cut.rstrip() + "…"


def limited_line(text: str | None, limit: int) -> str:
    """`clean_line` with the limit counted as Telegram counts it (see `telegram_length`)."""
    line = clean_line(text, limit)
    if telegram_length(line) > limit:
        raise TextRejected("too_long", limit)
    return line


def fold(text: str) -> str:
    """Text for matching what people type: case, accents, Arabic short vowels (tanween) and curly
    apostrophes ignored ("Sénégal" ~ "senegal", "غدًا" ~ "غدا", "aujourd’hui" ~ "aujourd'hui")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    return "".join(
        char for char in decomposed if not unicodedata.combining(char) and char not in "\u064b\u064c\u064d"
    ).strip()

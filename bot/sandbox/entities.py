"""Telegram message entities in the emulator: text normalisation and automatic entity detection
(the HTML parser itself is `bot.telegram_html`, which the bot uses too)."""

from __future__ import annotations

import re

from bot.telegram_html import Entity, EntityParseError, sort_entities

SPLITTABLE = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
HIDDEN_DATA = frozenset({"text_link", "text_mention", "custom_emoji", "date_time"})


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram counts)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of every character index of ``text`` (plus one past the end)."""
    result, pos = [], 0
    for ch in text:
        result.append(pos)
        pos += 2 if ord(ch) > 0xFFFF else 1
    result.append(pos)
    return result


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` covered by an entity."""
    raw = text.encode("utf-16-le", "surrogatepass")
    return raw[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")


# --- normalisation (TDLib fix_formatted_text) -------------------------------------------------------------

_REMOVED = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")


def _clean(text: str, entities: list[Entity]) -> str:
    """Drop characters Telegram removes and turn control characters into spaces, moving entities along."""
    out: list[str] = []
    mapping: list[int] = []  # old UTF-16 offset -> new UTF-16 offset
    pos = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        mapping.extend([pos] * width)
        if ch in _REMOVED:
            continue
        out.append(" " if ord(ch) < 32 and ch != "\n" else ch)
        pos += width
    mapping.append(pos)
    for entity in entities:
        start, end = int(entity["offset"]), int(entity["offset"]) + int(entity["length"])
        entity["offset"], entity["length"] = mapping[start], mapping[end] - mapping[start]
    return "".join(out)


def _trim_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Drop leading whitespace from entities and entities that cover whitespace only."""
    units = text.encode("utf-16-le", "surrogatepass")
    blank = {ord(" "), ord("\n")}

    def is_blank(k: int) -> bool:
        return units[2 * k + 1] == 0 and units[2 * k] in blank

    kept = []
    for entity in entities:
        start, end = int(entity["offset"]), int(entity["offset"]) + int(entity["length"])
        if entity["type"] not in HIDDEN_DATA:
            while start < end and is_blank(start):
                start += 1
            if all(is_blank(k) for k in range(start, end)):
                continue
        if end > start:
            entity["offset"], entity["length"] = start, end - start
            kept.append(entity)
    return kept


def normalize(
    text: str, entities: list[Entity], *, allow_empty: bool, detect: bool = True
) -> tuple[str, list[Entity]]:
    """Clean, trim and complete a formatted text like Telegram does before storing it.

    Raises EntityParseError("Message must be non-empty") when nothing but whitespace is left.
    """
    entities = [dict(e) for e in entities if int(e["length"]) > 0]
    text = _clean(text, entities)
    entities = _trim_entities(text, entities)
    stripped = text.rstrip(" \n")
    if not stripped.strip(" \n"):
        if allow_empty:
            return "", []
        raise EntityParseError("Message must be non-empty")
    end = utf16_len(stripped)
    kept = []
    for entity in entities:
        if int(entity["offset"]) >= end:
            continue
        entity["length"] = min(int(entity["length"]), end - int(entity["offset"]))
        kept.append(entity)
    first = min((int(e["offset"]) for e in kept), default=end)
    lead = len(stripped) - len(stripped.lstrip(" \n"))
    lead = min(lead, first)
    text = stripped[lead:]
    for entity in kept:
        entity["offset"] = int(entity["offset"]) - lead
    if detect:
        kept = merge_detected(kept, find_entities(text))
    sort_entities(kept)
    return text, kept


# --- automatic entities -----------------------------------------------------------------------------------

_TLDS = (
    "com|org|net|io|me|ru|fr|de|uk|info|app|dev|ly|gl|co|eu|us|ca|tv|ai|be|ch|nl|es|it|pl|ua|kz|in|jp|"
    "edu|gov|biz|xyz|online|site|tech|ma|dz|tn|sn|ng|ke|za|eg|tr|ir|sa|ae|qa|lb|sy|iq|am|ge|az|uz"
)
_DETECTORS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"(?<![\w.+@-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w@])")),
    (
        "url",
        re.compile(
            r"(?<![\w@./:-])(?:(?:https?|ftp|tg)://[^\s<>\"]+|www\.[^\s<>\"]+|"
            rf"(?:[A-Za-z0-9-]+\.)+(?:{_TLDS})(?::\d{{1,5}})?(?:[/?#][^\s<>\"]*)?)(?![\w@-])",
            re.IGNORECASE,
        ),
    ),
    ("bot_command", re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#&])#\w*[^\W\d]\w*")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}(?![\w$])")),
]


def find_entities(text: str) -> list[Entity]:
    """Detect URLs, e-mails, bot commands, mentions, hashtags and cashtags like Telegram apps do."""
    offsets = utf16_offsets(text)
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DETECTORS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if kind == "url":
                while end > start and text[end - 1] in ".,;:!?'\")]}":
                    if text[end - 1] == ")" and text[start:end].count("(") >= text[start:end].count(")"):
                        break
                    end -= 1
            if any(start < b and a < end for a, b in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": offsets[start], "length": offsets[end] - offsets[start]})
    sort_entities(found)
    return found


def merge_detected(entities: list[Entity], detected: list[Entity]) -> list[Entity]:
    """Add detected entities that do not cross existing non-splittable ones."""
    blockers = [e for e in entities if e["type"] not in SPLITTABLE]
    result = list(entities)
    for new in detected:
        start, end = int(new["offset"]), int(new["offset"]) + int(new["length"])
        clash = False
        for old in blockers:
            o_start, o_end = int(old["offset"]), int(old["offset"]) + int(old["length"])
            inside_quote = "blockquote" in str(old["type"]) and o_start <= start and end <= o_end
            if start < o_end and o_start < end and not inside_quote:
                clash = True
                break
        if not clash:
            result.append(new)
    return result

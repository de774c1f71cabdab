"""Telegram's HTML (`parse_mode=HTML`): the parser, so that the bot can tell what Telegram will make
of a text before sending it (its length once parsed, whether Telegram accepts it) and the emulator
answers like Telegram.

A port of TDLib's ``parse_html`` (td/telegram/MessageEntity.cpp): same tags, same attribute rules,
same error texts and byte offsets, entity offsets in UTF-16 code units.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Entity = dict[str, object]
UserResolver = Callable[[int], dict | None]

_TAGS = frozenset(
    [
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
        "tg-time",
    ]
)
_SIMPLE = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_NAMED = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}
_SPACE = frozenset(b" \t\r\n\v\0")
_AMP, _LT, _GT, _SLASH, _EQ = 0x26, 0x3C, 0x3E, 0x2F, 0x3D


class EntityParseError(ValueError):
    """Text could not be parsed; the message is TDLib's own text."""


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int
    begin: int  # byte position in the output
    unix: str = ""
    fmt: str = ""


def sort_entities(entities: list[Entity]) -> None:
    """Sort like TDLib: by offset, longer first, then by type priority."""
    entities.sort(key=lambda e: (e["offset"], -int(e["length"]), _PRIORITY.get(str(e["type"]), 50)))


def _decode_entity(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an HTML character reference at ``pos``; returns (code point or 0, end position)."""
    n, end, code = len(data), pos + 1, 0
    if end < n and data[end] == ord("#"):
        end += 1
        base, digits = 10, b"0123456789"
        if end < n and data[end] == ord("x"):
            base, digits = 16, b"0123456789abcdefABCDEF"
            end += 1
        while end < n and data[end] in digits:
            code = code * base + int(chr(data[end]), base)
            end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while end < n and (0x41 <= data[end] <= 0x5A or 0x61 <= data[end] <= 0x7A):
            end += 1
        code = _NAMED.get(data[pos + 1 : end], 0)
        if not code:
            return 0, pos
    if end < n and data[end] == ord(";"):
        end += 1
    return code, end


def link_user_id(url: str) -> int | None:
    """User id of a ``tg://user?id=<id>`` link."""
    match = re.fullmatch(r"tg:(?://)?user\?(?:[^#]*&)?id=(\d+)(?:&[^#]*)?", url, re.IGNORECASE)
    return int(match.group(1)) if match else None


_LINK = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?(?P<host>[^\s/?#:@]+)(?P<port>:\d{1,5})?(?P<rest>[/?#]\S*)?"
)


def checked_link(url: str) -> str:
    """Normalise a link like TDLib's ``get_checked_link``; an empty string if it is not acceptable."""
    match = _LINK.fullmatch(url)
    if not match:
        return ""
    scheme = (match["scheme"] or "http").lower()
    host = match["host"].lower()
    if scheme in ("tg", "ton"):
        return f"{scheme}://{host}{match['rest'] or ''}"
    if scheme not in ("http", "https") or not re.fullmatch(r"[\w.-]+", host) or host.strip(".") != host:
        return ""
    rest = match["rest"] or "/"
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{scheme}://{host}{match['port'] or ''}{rest}"


def parse_html(text: str, resolve_user: UserResolver | None = None) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML; returns the plain text and its entities or raises EntityParseError."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise EntityParseError("Strings must be encoded in UTF-8") from None
    n = len(data)

    def at(k: int) -> int:
        return data[k] if k < n else 0

    out = bytearray()
    entities: list[Entity] = []
    stack: list[_Open] = []
    utf16 = 0
    surrogates = False
    i = 0
    while i < n:
        c = data[i]
        if c == _AMP:
            code, end = _decode_entity(data, i)
            if code:
                utf16 += 2 if code > 0xFFFF else 1
                surrogates |= 0xD800 <= code <= 0xDFFF
                out += chr(code).encode("utf-8", "surrogatepass")
                i = end
                continue
        if c != _LT:
            if c & 0xC0 != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != _SLASH:
            while at(i) not in _SPACE and at(i) != _GT:
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].lower().decode("utf-8", "replace")
            if tag not in _TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            opened = _Open(tag, "", utf16, len(out))
            while at(i) != _GT:
                while i < n and data[i] in _SPACE:
                    i += 1
                if at(i) == _GT:
                    break
                if i >= n:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                name_begin = i
                while at(i) not in _SPACE and at(i) not in (_EQ, _GT):
                    i += 1
                name = data[name_begin:i].decode("utf-8", "replace")
                if not name:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while i < n and data[i] in _SPACE:
                    i += 1
                if at(i) != _EQ:
                    _set_attribute(opened, name, "")
                    continue
                i += 1
                while i < n and data[i] in _SPACE:
                    i += 1
                if i >= n:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if data[i] not in b"'\"":
                    token_begin = i
                    while i < n and ((chr(data[i]).isascii() and chr(data[i]).isalnum()) or data[i] in b".-"):
                        i += 1
                    value = data[token_begin:i].lower().decode()
                    if at(i) not in _SPACE and at(i) != _GT:
                        raise EntityParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote, value_bytes = data[i], bytearray()
                    i += 1
                    while i < n and data[i] != quote:
                        code, end = _decode_entity(data, i) if data[i] == _AMP else (0, i)
                        if code:
                            value_bytes += chr(code).encode("utf-8", "surrogatepass")
                            i = end
                        else:
                            value_bytes.append(data[i])
                            i += 1
                    if i < n:
                        i += 1  # the closing quote
                    value = value_bytes.decode("utf-8", "replace")
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                _set_attribute(opened, name, value)
            if tag == "span" and opened.argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            stack.append(opened)
            i += 1
            continue

        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _SPACE and at(i) != _GT:
            i += 1
        end_tag = data[begin + 2 : i].lower().decode("utf-8", "replace")
        while i < n and data[i] in _SPACE:
            i += 1
        if at(i) != _GT:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        opened = stack.pop()
        if end_tag and end_tag != opened.tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", found "</{end_tag}>"'
            )
        if utf16 > opened.offset:
            inner = out[opened.begin :].decode("utf-8", "replace")
            _close(opened, utf16 - opened.offset, inner, entities, resolve_user)
        i += 1

    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    try:
        result = out.decode("utf-8", "surrogatepass")
        if surrogates:
            result = result.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    sort_entities(entities)
    return result, entities


def _set_attribute(opened: _Open, name: str, value: str) -> None:
    tag = opened.tag
    if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
        opened.argument = value
    elif tag == "code" and name == "class" and value.startswith("language-"):
        opened.argument = value[9:]
    elif tag == "span" and name == "class" and value.startswith("tg-"):
        opened.argument = value[3:]
    elif tag == "blockquote" and name == "expandable":
        opened.argument = "1"
    elif tag == "tg-time" and name == "unix":
        opened.unix = value
    elif tag == "tg-time" and name == "format":
        opened.fmt = value


def _close(
    opened: _Open, length: int, inner: str, entities: list[Entity], resolve_user: UserResolver | None
) -> None:
    """Append the entity for a closed tag (TDLib merges <pre><code class> into one "pre")."""
    tag, offset = opened.tag, opened.offset
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag in _SIMPLE or tag == "span":
        entities.append({"type": _SIMPLE.get(tag, "spoiler"), "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0 or int(opened.argument) >= 2**63:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": opened.argument}
        )
    elif tag == "tg-time":
        if not opened.unix.isdigit() or not 0 < int(opened.unix) < 2**31:
            raise EntityParseError("Invalid Unix time specified")
        entity: Entity = {
            "type": "date_time",
            "offset": offset,
            "length": length,
            "unix_time": int(opened.unix),
        }
        if opened.fmt:
            entity["date_time_format"] = opened.fmt
        entities.append(entity)
    elif tag == "a":
        url = opened.argument or inner
        user_id = link_user_id(url)
        if user_id is not None:
            user = (
                resolve_user(user_id) if resolve_user else {"id": user_id, "is_bot": False, "first_name": ""}
            )
            if user is not None:
                entities.append({"type": "text_mention", "offset": offset, "length": length, "user": user})
        elif url := checked_link(url):
            entities.append({"type": "text_link", "offset": offset, "length": length, "url": url})
    elif tag == "pre":
        if same_span and last and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        if same_span and last and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
        else:
            entities.append({"type": "code", "offset": offset, "length": length, "language": opened.argument})
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.argument else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})
    for entity in entities:
        if entity.get("language") == "":
            del entity["language"]

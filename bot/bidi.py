"""Right-to-left text that mixes scripts keeps its order (Unicode Bidirectional Algorithm, UAX #9).

In an Arabic, Persian or Urdu sentence, a Latin name, an event title, a number or a command is laid
out by the surrounding direction unless it is isolated: "/mydata" shows as "mydata/" and "Café 2027"
can swap places with the words around it. Isolates (FSI … PDI: "first strong isolate", the inserted
text keeps its own direction and does not disturb its neighbours) fix that without changing what
anyone reads. Telegram's apps honour them; they count as one character each towards the limits.

`localize` is applied by the message layer (`bot.i18n.BidiI18n`) to every translated string of a
right-to-left language, so each `{placeholder}` is filled inside an isolate and each /command is
isolated left to right, in every handler and in the delivery code alike.
"""

from __future__ import annotations

import re

FSI = "\u2068"  # first strong isolate: the direction of the first strong character inside
LRI = "\u2066"  # left-to-right isolate (commands are always Latin)
PDI = "\u2069"  # pop directional isolate
CONTROLS = "\u2066\u2067\u2068\u2069\u200e\u200f\u202a\u202b\u202c\u202d\u202e"

_PLACEHOLDER = re.compile(r"\{\w*\}")
_COMMAND = re.compile(r"(?<![\w/])/[a-z][a-z0-9_]*\b")
_CONTROL = re.compile(f"[{CONTROLS}]")


def isolate(text: str) -> str:
    """`text` in a first-strong isolate (an empty text stays empty)."""
    return f"{FSI}{text}{PDI}" if text else text


def isolate_command(command: str) -> str:
    return f"{LRI}{command}{PDI}"


def may_localize(translated: str) -> bool:
    """False when `localize` returns `translated` unchanged (no placeholder, no command): its
    language's direction need not be looked up (`bot.i18n.is_rtl` loads the locale's CLDR data)."""
    return "{" in translated or "/" in translated


def localize(translated: str) -> str:
    """A right-to-left translation with its placeholders and commands isolated.

    Placeholders inside an HTML tag (an attribute) are left alone; so is a string that is only a
    placeholder (a value shown alone takes its own direction anyway)."""
    if _PLACEHOLDER.fullmatch(translated.strip()):
        return translated
    parts = re.split(r"(<[^>]*>)", translated)
    for index in range(0, len(parts), 2):  # the text between tags
        text = _PLACEHOLDER.sub(lambda found: isolate(found.group()), parts[index])
        parts[index] = _COMMAND.sub(lambda found: isolate_command(found.group()), text)
    return "".join(parts)


def strip_controls(text: str) -> str:
    """`text` without directional controls (for renderers that draw them as boxes, e.g. charts)."""
    return _CONTROL.sub("", text)

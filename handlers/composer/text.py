"""The one validation of typed texts for every staff dialog, and the guard against texts that
Telegram apps cut into several messages.

A text is refused as empty when nothing visible is left once whitespace and invisible characters
(zero-width spaces and joiners, bidi marks, the BOM: Unicode categories Cf, Cc, Co, Cs, Cn) are
removed, so "\\u200b\\u2060\\u200b" is "That looks empty" in every dialog. Lengths are measured the
way the Bot API measures them (UTF-16 code units, `telegram_length`): an emoji counts two, and a
text within the limit is always accepted by Telegram when the bot sends it on. What is kept is the
text as typed (stripped of surrounding whitespace; zero-width joiners inside emoji stay), or, for a
rule with `keep_formatting`, the organizer's formatting as Telegram HTML (`Message.html_text`:
aiogram escapes the text and rebuilds only Telegram's own entities, so it is safe to send as is).

**Texts cut by Telegram.** A Telegram app sends a text longer than one message can be (4,096 for a
text, 1,024 for a caption) as several messages, right after each other: Android and iOS cut at
exactly the limit, Telegram Desktop at the best word or line break in the second half of it. We
*tell* rather than join: every dialog item has a limit of at most one message (an announcement goes
out as one message per member: the outbox holds one row per member and announcement, and a photo's
caption is 1,024), so a joined text could not be delivered anyway. A part longer than half the
limit is remembered (its Telegram date, in the FSM data); a text that arrives within
`CUT_WINDOW_SECONDS` of it (by Telegram's own dates, so the bot's processing time does not count)
is a continuation: the organizer is told once that nothing of the cut text was kept, the
capability undoes what the first part did (`Composer.text_was_cut`), and later parts are ignored.
Caveat: the parts must be handled one after the other; the dispatcher handles updates of one chat
concurrently unless `events_isolation` is set (see the kit's package docstring).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.i18n import _
from bot.services.events import telegram_length

TEXT_MAX: Final = 4096  # a message's text, in UTF-16 code units after entity parsing
CAPTION_MAX: Final = 1024  # a media caption (what a bot may send; Premium users may type more)
CUT_WINDOW_SECONDS: Final = 3  # Telegram dates are whole seconds; the parts follow within one
CUT_KEY: Final = "composer_cut"  # FSM data: the last long part {"name", "id", "at", "told"}
_INVISIBLE: Final = frozenset({"Cf", "Cc", "Co", "Cs", "Cn"})


class TextRefused(ValueError):
    """A typed text the dialog cannot take; `text` says why, in the organizer's language."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def empty_text() -> str:
    return _("That looks empty. Please type your answer.")


def too_long_text(limit: int, length: int) -> str:
    return _("That is too long: {limit} characters at most (yours has {length}).").format(
        limit=limit, length=length
    )


def command_text() -> str:
    return _("Please answer the question above, or send /cancel to stop.")


async def answered_a_command(message: Message) -> bool:
    """True after telling the sender that a typed command is no answer to the step waiting for one
    (`command_text`; the step keeps waiting). For steps that read the text themselves (hours, dates,
    links, seats); the kit's own `typed` refuses a command with its rule's hint."""
    if not (message.text or "").startswith("/"):
        return False
    await message.answer(command_text())
    return True


def cut_text(limit: int) -> str:
    return _(
        "✂️ Telegram cut your text into several messages: it is longer than one message can be "
        "({limit} characters). Nothing of it was kept. Please send a shorter text, in one message."
    ).format(limit=limit)


@dataclass(frozen=True)
class TextRule:
    """How one typed item is checked. `limit` is in Telegram's units; `too_long(limit, length)`,
    `command` and `empty` let a capability keep its own wording (existing msgids)."""

    limit: int
    keep_formatting: bool = False
    optional: bool = False
    too_long: Callable[[int, int], str] = too_long_text
    command: Callable[[], str] = command_text
    empty: Callable[[], str] = empty_text


def is_blank(text: str | None) -> bool:
    """Nothing visible: only whitespace and invisible characters."""
    normalized = unicodedata.normalize("NFC", text or "")
    return not any(not char.isspace() and unicodedata.category(char) not in _INVISIBLE for char in normalized)


def check_text(plain: str | None, rule: TextRule, html: str | None = None) -> str:
    """The text to keep (plain and stripped, or the HTML with formatting), or `TextRefused`."""
    if plain is None or is_blank(plain):
        raise TextRefused(rule.empty())
    length = telegram_length(plain)
    if length > rule.limit:
        raise TextRefused(rule.too_long(rule.limit, length))
    if rule.keep_formatting and html is not None:
        return html
    return unicodedata.normalize("NFC", plain).strip()


def typed(message: Message, rule: TextRule) -> str:
    """`check_text` on a message (its text or caption); a command is refused with the rule's hint."""
    plain = message.text if message.text is not None else message.caption
    if (plain or "").startswith("/"):
        raise TextRefused(rule.command())
    html = message.html_text if rule.keep_formatting and plain else None
    return check_text(plain, rule, html)


# -- texts cut by Telegram ---------------------------------------------------------------------


def _limit_of(message: Message) -> int:
    return TEXT_MAX if message.text is not None else CAPTION_MAX


def _stamp(moment: datetime) -> float:
    return moment.timestamp()


def is_long_part(message: Message) -> bool:
    """Long enough to be the first part of a text an app cut (more than half the limit)."""
    plain = message.text if message.text is not None else message.caption
    return telegram_length(plain or "") > _limit_of(message) // 2


async def remember_part(state: FSMContext, message: Message, name: str, ident: int = 0) -> None:
    """After a typed text was taken: remember it if it may have been cut (what `text_was_cut`
    undoes is named by the capability `name` and the draft `ident`)."""
    record = None
    if is_long_part(message):
        record = {
            "name": name,
            "id": ident,
            "at": _stamp(message.date),
            "limit": _limit_of(message),
            "told": False,
        }
    await state.update_data({CUT_KEY: record})


def cut_record(data: dict[str, Any], message: Message) -> dict[str, Any] | None:
    """The long part this text continues, if it arrived within the window after it."""
    record = data.get(CUT_KEY)
    if not isinstance(record, dict) or message.text is None or message.text.startswith("/"):
        return None
    at = record.get("at")
    if not isinstance(at, int | float) or not 0 <= _stamp(message.date) - at <= CUT_WINDOW_SECONDS:
        return None
    return record


async def continuation(state: FSMContext, message: Message) -> dict[str, Any] | None:
    """If this text continues a cut one: the record (marked told, the window moved on to this part).
    The caller tells the organizer when `told` was False, and ignores the part otherwise."""
    record = cut_record(await state.get_data(), message)
    if record is None:
        return None
    updated = {**record, "at": _stamp(message.date), "told": True}
    await state.update_data({CUT_KEY: updated})
    return record


async def read_text(message: Message, state: FSMContext, rule: TextRule) -> str | None:
    """A dialog step's typed text, checked; None after answering why not (or silently, for the
    later parts of a cut text)."""
    record = await continuation(state, message)
    if record is not None:
        if not record.get("told"):
            await message.answer(cut_text(int(record.get("limit") or TEXT_MAX)))
        return None
    await remember_part(state, message, "")  # refused or not: its continuation must not be taken
    try:
        return typed(message, rule)
    except TextRefused as refused:
        await message.answer(refused.text)
        return None

"""Choices echoed (issue 16): a dialog's question answered with a button keeps its text and gets
the choice written under it ("… ✓"), its buttons gone, so the chat reads as a record of what was
decided. Every dialog closes its questions through `echo_choice`."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from aiogram.types import Message

from bot.services.text import telegram_length
from bot.telegram_html import parse_html
from handlers.composer.text import TEXT_MAX

if TYPE_CHECKING:  # the kit's `Composer` (spec) closes a publish with `echo_choice`
    from handlers.composer.spec import Turn

MARK = "✓"


def pressed_label(message: Message, pressed: str) -> str | None:
    """The text of the button whose callback data is `pressed`, if the message shows it."""
    markup = message.reply_markup
    if markup is None or not pressed:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == pressed:
                return button.text
    return None


def echoed(question_html: str, choice_html: str) -> str:
    return f"{question_html}\n\n<b>{choice_html}</b> {MARK}"


async def echo_choice(turn: Turn, choice: str | None = None) -> None:
    """The pressed question's buttons go and the choice is written under it: `choice` (HTML, e.g.
    an audience's summary) or else the pressed button's own text. A typed answer (no button) or a
    message without buttons is left alone; a message without text, or one the choice would make
    too long for Telegram, only loses its buttons."""
    message = turn.message
    if turn.answer is None or message is None or message.reply_markup is None:
        return
    label = choice if choice is not None else pressed_label(message, turn.pressed)
    if label is None or message.text is None:
        await message.edit_reply_markup(reply_markup=None)
        return
    text = echoed(message.html_text, label if choice is not None else escape(label))
    if telegram_length(parse_html(text)[0]) > TEXT_MAX:
        await message.edit_reply_markup(reply_markup=None)
        return
    await message.edit_text(text, reply_markup=None)

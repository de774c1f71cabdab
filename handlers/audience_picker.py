"""The audience question shared by the /newevent, /poll, /newsurvey and /newtraining dialogs:
everyone, or the members ticked by interests and languages (none ticked is everyone).

Each dialog has its own callback data class; it passes a factory making its buttons with
`action` "aud" (value "all", "choose", "done"), "aud_i" (an interest) or "aud_l" (a language).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, language_name
from bot.services.members import INTERESTS
from handlers.ui import INTEREST_LABELS

Button = Callable[..., CallbackData]  # e.g. EventAdmin: Button(action=..., value=...)
Outcome = Literal["toggled", "choose", "done"]


def toggled(audience: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    """`audience` with `value` added to or removed from its `field` list (empty lists dropped)."""
    values = list(audience.get(field, []))
    values = [item for item in values if item != value] if value in values else [*values, value]
    return {key: items for key, items in {**audience, field: values}.items() if items}


def audience_keyboard(audience: dict[str, Any], button: Button) -> InlineKeyboardMarkup:
    """Interests and languages to tick (✅), then Done."""
    builder = InlineKeyboardBuilder()
    for key in INTERESTS:
        mark = "✅" if key in audience.get("interests", []) else "▫️"
        builder.button(text=f"{mark} {INTEREST_LABELS[key]}", callback_data=button(action="aud_i", value=key))
    for code in SHIPPED_LANGUAGES:
        mark = "✅" if code in audience.get("languages", []) else "▫️"
        builder.button(text=f"{mark} {language_name(code)}", callback_data=button(action="aud_l", value=code))
    builder.button(text=_("Done"), callback_data=button(action="aud", value="done"))
    rows = [2] * (len(INTERESTS) // 2) + [1] * (len(INTERESTS) % 2)  # an odd one out stays alone
    builder.adjust(*rows, *[2] * (len(SHIPPED_LANGUAGES) // 2), 1)
    return builder.as_markup()


def audience_choice(
    audience: dict[str, Any], action: str, value: str
) -> tuple[Outcome, dict[str, Any]] | None:
    """What an audience button does to the draft's audience; None for a forged or stale one."""
    if action == "aud_i" and value in INTERESTS:
        return "toggled", toggled(audience, "interests", value)
    if action == "aud_l" and value in SHIPPED_LANGUAGES:
        return "toggled", toggled(audience, "languages", value)
    if action == "aud" and value == "choose":
        return "choose", audience
    if action == "aud" and value in {"all", "done"}:
        return "done", {} if value == "all" else audience
    return None


async def show_picker(
    message: Message, outcome: Outcome, audience: dict[str, Any], question: str, hint: str, button: Button
) -> None:
    """After "Choose…" the question becomes the picker (once: an edit must change something);
    after a tick, the picker shows it."""
    keyboard = audience_keyboard(audience, button)
    if outcome == "choose":
        if hint not in (message.text or ""):
            await message.edit_text(question + "\n\n" + hint, reply_markup=keyboard)
    else:
        await message.edit_reply_markup(reply_markup=keyboard)

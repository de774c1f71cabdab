"""The audience step every composer shares: everyone, or the members ticked by interests and
languages (none ticked is everyone), and for super-admins the organizations reached
(`handlers.composer.reach`); its summary on preview cards.

Each capability keeps its own callback data class (buttons already in chats keep working) and
passes a factory making its buttons. In the dialogs' question (/newevent, /poll, /newsurvey,
/newtraining) the buttons carry `action` "aud" (value "all", "choose", "done"), "aud_i" (an
interest) or "aud_l" (a language); the announcement composer passes its own codes through `toggle`
and adds its country, city and Everyone rows as `tail`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any, Literal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, language_name, language_names
from bot.services.geo import country_name
from bot.services.members import INTERESTS
from handlers.composer.reach import reach_choice, reach_rows, reach_summary
from handlers.composer.spec import Turn
from handlers.ui import INTEREST_LABELS, locale_now

Button = Callable[..., CallbackData]  # e.g. EventAdmin: Button(action=..., value=...)
Toggle = Callable[[str, str], CallbackData]  # (audience field, value) -> the button's data
Outcome = Literal["toggled", "choose", "done"]
FIELDS = {"aud_i": "interests", "aud_l": "languages"}


def toggled(audience: dict[str, Any], field: str, value: str) -> dict[str, Any]:
    """`audience` with `value` added to or removed from its `field` list (empty lists dropped)."""
    values = list(audience.get(field, []))
    values = [item for item in values if item != value] if value in values else [*values, value]
    return {key: items for key, items in {**audience, field: values}.items() if items}


def ticks_keyboard(
    audience: dict[str, Any], toggle: Toggle, tail: Sequence[Sequence[tuple[str, CallbackData]]]
) -> InlineKeyboardMarkup:
    """Interests and languages to tick (✅), two per row, then the `tail` rows of buttons."""
    builder = InlineKeyboardBuilder()
    for key in INTERESTS:
        mark = "✅" if key in audience.get("interests", []) else "▫️"
        builder.button(text=f"{mark} {INTEREST_LABELS[key]}", callback_data=toggle("interests", key))
    for code in SHIPPED_LANGUAGES:
        mark = "✅" if code in audience.get("languages", []) else "▫️"
        builder.button(text=f"{mark} {language_name(code)}", callback_data=toggle("languages", code))
    for row in tail:
        for text, data in row:
            builder.button(text=text, callback_data=data)
    rows = [2] * (len(INTERESTS) // 2) + [1] * (len(INTERESTS) % 2)  # an odd one out stays alone
    builder.adjust(*rows, *[2] * (len(SHIPPED_LANGUAGES) // 2), *(len(row) for row in tail))
    return builder.as_markup()


def audience_keyboard(audience: dict[str, Any], button: Button, reach: bool = False) -> InlineKeyboardMarkup:
    """The dialogs' picker: interests and languages to tick (with `reach`, a super-admin's, the
    organizations reached: `handlers.composer.reach`), then Done."""
    codes = {value: key for key, value in FIELDS.items()}
    return ticks_keyboard(
        audience,
        lambda field, value: button(action=codes[field], value=value),
        [*(reach_rows(audience, button) if reach else []), [(_("Done"), button(action="aud", value="done"))]],
    )


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


async def dialog_reach(
    turn: Turn, audience: dict[str, Any], action: str, value: str, button: Button
) -> dict[str, Any] | None:
    """A reach button on the dialogs' picker (`reach_choice`, back to this picker): the audience
    after it, or None when refused (the caller answers "no longer active")."""
    return await reach_choice(
        turn, audience, action, value, button, lambda chosen: audience_keyboard(chosen, button, True)
    )


async def show_picker(
    message: Message,
    outcome: Outcome,
    audience: dict[str, Any],
    question: str,
    hint: str,
    button: Button,
    reach: bool = False,
) -> None:
    """After "Choose…" the question becomes the picker (once: an edit must change something);
    after a tick, the picker shows it (`reach`: with the super-admin's rows)."""
    keyboard = audience_keyboard(audience, button, reach)
    if outcome == "choose":
        if hint not in (message.text or ""):
            await message.edit_text(question + "\n\n" + hint, reply_markup=keyboard)
    else:
        await message.edit_reply_markup(reply_markup=keyboard)


def audience_summary(audience: dict[str, Any]) -> str:
    """The audience in words for a preview card (HTML-escaped), "everyone" when unfiltered."""
    locale = locale_now()
    parts = [summary] if (summary := reach_summary(audience)) else []
    if audience.get("interests"):
        parts.append(
            ", ".join(str(INTEREST_LABELS[key]) for key in audience["interests"] if key in INTEREST_LABELS)
        )
    if audience.get("languages"):
        parts.append(language_names(audience["languages"]))
    if audience.get("residence_countries"):
        names = ", ".join(country_name(code, locale) for code in audience["residence_countries"])
        parts.append(_("living in {countries}").format(countries=names))
    if audience.get("origin_countries"):
        names = ", ".join(country_name(code, locale) for code in audience["origin_countries"])
        parts.append(_("from {countries}").format(countries=names))
    if audience.get("city"):
        parts.append(_("in {city}").format(city=audience["city"]))
    return escape("; ".join(parts)) if parts else _("everyone")

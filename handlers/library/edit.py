"""Changing a resource after publishing, from its staff card (`card`): ✏️ Edit and 🌐 Add a
translation are the composer kit's steps (`handlers.library.composer` loads a published resource
for them); the category and the languages, chosen with buttons in ✏️ Edit, are answered here, for
a draft's preview too; 🚫 Withdraw asks once more, then members no longer find it. Every button
loads the resource through `ctx.load(Action.MANAGE_RESOURCES, ...)` (the kit's `draft_button`): a
forged id of another organization's resource finds nothing and changes nothing."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Router
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, language_names
from bot.services import library
from handlers.composer import Turn, draft_button, echo_choice
from handlers.library.callbacks import ResourceDraft
from handlers.library.composer import COMPOSER, actor_id, chosen_category, languages_keyboard
from storage.models import Resource, ResourceStatus

router: Final[Router] = Router(name=__name__)


@draft_button(COMPOSER, router, "ecat")
async def category_changed(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    category = await chosen_category(turn, data.value)
    if category is None:
        return
    await library.edit(turn.ctx.session, draft, actor_id(turn), category=category)
    await COMPOSER.field_saved(turn, draft, "category")


@draft_button(COMPOSER, router, "elang")
async def language_toggled(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    """A tick only changes the buttons; Done saves (one audited change, not one per tap)."""
    if data.value not in SHIPPED_LANGUAGES or turn.message is None or turn.message.reply_markup is None:
        turn.stale()
        return
    ticked = _ticked(turn.message.reply_markup) ^ {data.value}
    shown = Resource(id=draft.id, languages=[code for code in SHIPPED_LANGUAGES if code in ticked])
    await turn.message.edit_reply_markup(reply_markup=languages_keyboard(shown, "elang", "elangs"))


def _ticked(markup: InlineKeyboardMarkup) -> set[str]:
    """The languages ticked ✅ on the pressed keyboard (its buttons carry their codes)."""
    ticked = set()
    for row in markup.inline_keyboard:
        for button in row:
            data = _data(button)
            if data is not None and data.action == "elang" and button.text.startswith("✅"):
                ticked.add(data.value)
    return ticked


def _data(button: InlineKeyboardButton) -> ResourceDraft | None:
    try:
        return ResourceDraft.unpack(button.callback_data or "")
    except (TypeError, ValueError):
        return None


@draft_button(COMPOSER, router, "elangs")
async def languages_changed(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    if turn.message is None or turn.message.reply_markup is None:
        turn.stale()
        return
    ticked = _ticked(turn.message.reply_markup)
    if not ticked:
        turn.toast(_("Choose at least one language."), alert=True)
        return
    languages = [code for code in SHIPPED_LANGUAGES if code in ticked]
    await echo_choice(turn, escape(language_names(languages)))
    await library.edit(turn.ctx.session, draft, actor_id(turn), languages=languages)
    await COMPOSER.field_saved(turn, draft, "languages")


@draft_button(COMPOSER, router, "withdraw")
async def withdraw_asked(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    if draft.status != ResourceStatus.PUBLISHED:
        turn.stale()
        return
    confirm = InlineKeyboardButton(
        text=_("🚫 Yes, withdraw it"), callback_data=ResourceDraft(action="wdyes", id=draft.id or 0).pack()
    )
    await turn.say(
        _(
            "Withdraw <b>{title}</b>? Members will no longer find it in /resources, open it from their "
            "saved ones or through its link. This cannot be undone."
        ).format(title=escape(draft.title)),
        InlineKeyboardMarkup(inline_keyboard=[[confirm]]),
    )


@draft_button(COMPOSER, router, "wdyes")
async def withdraw_confirmed(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    """Claimed once: a second tap (or a resource no longer published) is a stale button."""
    if not await library.withdraw(turn.ctx.session, draft, actor_id(turn)):
        turn.stale()
        return
    await echo_choice(turn)
    await turn.say(_("🚫 Withdrawn: <b>{title}</b>.").format(title=escape(draft.title)))

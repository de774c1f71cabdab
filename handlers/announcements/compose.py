"""/announce: the organizer's text (or photo, or document) becomes a draft shown on the composer
card; the card's own buttons (preview, topic, urgency). Translations, Discard and Send's claim are
the composer kit's (`handlers.announcements.composer`); the audience and sending have their modules."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, language_name
from bot.policy import Action, rights
from bot.services.announcements import create_draft, set_category, set_urgent
from bot.services.members import INTERESTS
from handlers.announcements.callbacks import AnnounceAction
from handlers.announcements.composer import COMPOSER, text_rule
from handlers.announcements.states import AnnounceStates
from handlers.announcements.views import composer_keyboard, composer_text, send_composer, send_version
from handlers.composer import (
    TextRefused,
    Turn,
    draft_button,
    echo_choice,
    is_blank,
    remember_part,
    staff_dialog,
    typed,
)
from handlers.ui import INTEREST_LABELS
from storage.models import Announcement, MediaKind

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.ANNOUNCE)


@staff_dialog(router, "announce", Action.ANNOUNCE, publishes=True)
async def start_announcement(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(AnnounceStates.text)
    await state.update_data(announcement_id=None)
    await message.answer(
        _(
            "📣 <b>New announcement</b>\n\n"
            "Send the text exactly as members should see it: your formatting is kept. "
            "You can also send a photo or a document with a caption. Send /cancel to stop."
        )
    )


def _content(message: Message) -> tuple[str, MediaKind | None, str | None]:
    """(HTML text, media kind, file id) from the organizer's message; `TextRefused` says why not.
    A caption is optional (an invisible one counts as none) and held to Telegram's caption limit."""
    media = None
    if message.photo:
        media = (MediaKind.PHOTO, message.photo[-1].file_id)
    elif message.document:
        media = (MediaKind.DOCUMENT, message.document.file_id)
    if media is not None:
        if is_blank(message.caption):
            return "", *media
        return typed(message, text_rule(True)), *media
    if message.text is None:
        raise TextRefused(_("Please send text, a photo or a document."))
    return typed(message, text_rule(False)), None, None


@router.message(AnnounceStates.text, flags=FLAGS)
async def text_received(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    try:
        html, media_kind, file_id = _content(message)
    except TextRefused as refused:
        await message.answer(refused.text)
        return
    announcement = await create_draft(
        ctx.session,
        organization_id=ctx.organization_id,
        author_member_id=ctx.member.id if ctx.member else None,
        author_chat_id=message.chat.id,
        author_language=ctx.locale,
        author_timezone=ctx.zone,
        text=html,
        media_kind=media_kind,
        media_file_id=file_id,
    )
    await state.set_state(None)
    await state.update_data(announcement_id=announcement.id)
    await remember_part(state, message, COMPOSER.name, announcement.id or 0)
    await send_composer(bot, message.chat.id, ctx.session, announcement)


# -- the card's own buttons ----------------------------------------------------------------------


@draft_button(COMPOSER, router, "preview")
async def preview(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    await turn.say(_("👁 Preview: this is exactly what members will see."))
    for language in [announcement.language, *sorted(announcement.translations)]:
        if announcement.translations:
            await turn.say(f"— {language_name(language)} —")
        await send_version(turn.bot, turn.chat_id, turn.ctx.session, announcement, language)


def _topics(ident: int, current: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key in INTERESTS:
        mark = "✅ " if current == key else ""
        builder.button(
            text=mark + str(INTEREST_LABELS[key]),
            callback_data=AnnounceAction(action="topic_set", id=ident, value=key),
        )
    builder.button(text=_("No topic"), callback_data=AnnounceAction(action="topic_set", id=ident))
    builder.adjust(2)
    return builder.as_markup()


@draft_button(COMPOSER, router, "topic")
async def topic(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    await turn.say(
        _("Which topic is it about? Members who muted that topic won't receive it."),
        _topics(announcement.id or 0, announcement.category),
    )


@draft_button(COMPOSER, router, "topic_set")
async def topic_chosen(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    if data.value and data.value not in INTERESTS:
        turn.stale()
        return
    await set_category(turn.ctx.session, announcement, data.value or None)
    await echo_choice(turn)
    await send_composer(turn.bot, turn.chat_id, turn.ctx.session, announcement)


@draft_button(COMPOSER, router, "urgent")
async def urgent(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    await set_urgent(turn.ctx.session, announcement, not announcement.urgent)
    await turn.replace(await composer_text(turn.ctx.session, announcement), composer_keyboard(announcement))


@router.message(
    StateFilter(
        AnnounceStates.country, AnnounceStates.city, AnnounceStates.schedule, AnnounceStates.local_time
    ),
    flags=FLAGS,
)
async def not_text(message: Message) -> None:
    """Last of the typed steps: what they did not take (a photo, a sticker...)."""
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

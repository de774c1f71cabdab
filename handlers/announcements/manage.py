"""/announcements: the scheduled and running announcements, with ✏️ Edit text (the composer kit's
field edit) and ✖ Cancel it."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, format_when, ngettext
from bot.policy import Action, rights
from bot.services.announcements import cancel, scheduled_or_sending
from handlers.announcements.callbacks import AnnounceAction
from handlers.announcements.composer import COMPOSER, load_announcement
from handlers.announcements.views import plain_preview
from handlers.composer import ask_field, button_turn
from handlers.fallback import stale_button
from storage.models import Announcement, AnnouncementStatus

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.ANNOUNCE)
CANCELLABLE: Final = (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED, AnnouncementStatus.SENDING)


def _entry(announcement: Announcement, locale: str, zone: str) -> tuple[str, InlineKeyboardMarkup]:
    preview = escape(plain_preview(announcement.text))
    ident = announcement.id or 0
    builder = InlineKeyboardBuilder()
    if announcement.status == AnnouncementStatus.SCHEDULED and announcement.scheduled_at:
        when = format_when(announcement.scheduled_at, locale, zone)
        head = _("🕒 #{id}, scheduled for {when}").format(id=ident, when=escape(when))
    else:
        head = _("📣 #{id}, being sent").format(id=ident)
    if announcement.status == AnnouncementStatus.SCHEDULED:
        builder.button(text=_("✏️ Edit text"), callback_data=AnnounceAction(action="edit_text", id=ident))
    builder.button(text=_("✖ Cancel it"), callback_data=AnnounceAction(action="cancel_scheduled", id=ident))
    return f"{head}\n<i>{preview}</i>", builder.as_markup()


@router.message(Command("announcements"), flags=FLAGS)
async def list_announcements(message: Message, ctx: Context) -> None:
    rows = await scheduled_or_sending(ctx.session, ctx.organization_id)
    if not rows:
        await message.answer(_("Nothing is scheduled or being sent right now. /announce writes a new one."))
        return
    for announcement in rows:
        text, keyboard = _entry(announcement, ctx.locale, ctx.zone)
        await message.answer(text, reply_markup=keyboard)


@router.callback_query(AnnounceAction.filter(F.action == "edit_text"), flags=FLAGS)
async def edit_text(
    query: CallbackQuery,
    callback_data: AnnounceAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A scheduled announcement's new text, through the kit's field edit."""
    announcement = await load_announcement(ctx, callback_data.id, (AnnouncementStatus.SCHEDULED,))
    turn = button_turn(query, ctx, state, bot, callback_answer)
    if announcement is None or not await ask_field(COMPOSER, turn, announcement, "text"):
        stale_button(callback_answer)


@router.callback_query(AnnounceAction.filter(F.action == "cancel_scheduled"), flags=FLAGS)
async def cancel_announcement(
    query: CallbackQuery, callback_data: AnnounceAction, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    announcement = await load_announcement(ctx, callback_data.id, CANCELLABLE)
    if announcement is None:
        stale_button(callback_answer)
        return
    stopped = await cancel(ctx.session, announcement)
    text = ngettext(
        "✖ Announcement #{id} is cancelled: {count} message will not be sent.",
        "✖ Announcement #{id} is cancelled: {count} messages will not be sent.",
        stopped,
    ).format(id=announcement.id, count=stopped)
    if isinstance(query.message, Message):
        await query.message.edit_text(text)

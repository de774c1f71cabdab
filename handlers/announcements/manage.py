"""/announcements: the scheduled and running announcements, with ✏️ Edit text (the composer kit's
field edit) and ✖ Cancel it."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, format_when, ngettext
from bot.policy import Action, rights
from bot.services.announcements import cancel, delivery_counts, scheduled_or_sending, waiting
from bot.views.announcements import counts_line, waiting_lines
from handlers.announcements.callbacks import AnnounceAction
from handlers.announcements.composer import COMPOSER
from handlers.announcements.views import plain_preview
from handlers.composer import Turn, ask_field, draft_button, staff_dialog
from storage.models import Announcement, AnnouncementStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.ANNOUNCE)


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


@staff_dialog(router, "announcements", Action.ANNOUNCE)
async def list_announcements(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    rows = await scheduled_or_sending(ctx.session, ctx.organization_id)
    if not rows:
        await message.answer(_("Nothing is scheduled or being sent right now. /announce writes a new one."))
        return
    for announcement in rows:
        text, keyboard = _entry(announcement, ctx.locale, ctx.zone)
        if announcement.status == AnnouncementStatus.SENDING:
            ident = announcement.id or 0
            counts = await delivery_counts(ctx.session, ident)
            held = await waiting(ctx.session, ident, utcnow())
            lines = waiting_lines(held, ctx.locale, ctx.zone, bool(announcement.local_time))
            text = "\n".join([text, counts_line(counts), *lines])
        await message.answer(text, reply_markup=keyboard)


@draft_button(COMPOSER, router, "edit_text")
async def edit_text(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    """A scheduled announcement's new text, through the kit's field edit."""
    if not await ask_field(COMPOSER, turn, announcement, "text"):
        turn.stale()


@draft_button(COMPOSER, router, "cancel_scheduled")
async def cancel_announcement(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    stopped = await cancel(turn.ctx.session, announcement)
    text = ngettext(
        "✖ Announcement #{id} is cancelled: {count} message will not be sent.",
        "✖ Announcement #{id} is cancelled: {count} messages will not be sent.",
        stopped,
    ).format(id=announcement.id, count=stopped)
    if turn.message is not None:
        await turn.message.edit_text(text)

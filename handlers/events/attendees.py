"""Who answered: the attendee list by status with counts, attendance toggles for those going
(paged), and the CSV export with everyone."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.services import audit
from bot.services import events as service
from handlers.events.callbacks import EventAdmin
from handlers.events.common import ON_EVENT, show
from handlers.events.texts import event_title
from handlers.events.views import attendees_view
from handlers.fallback import stale_button, toast
from storage.models import Event, RsvpStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.callback_query(EventAdmin.filter(F.action == "att"), flags=ON_EVENT)
async def show_attendees(
    query: CallbackQuery, callback_data: EventAdmin, event: Event, ctx: Context, bot: Bot
) -> None:
    text, keyboard = await attendees_view(
        ctx.session, event, ctx.organization, ctx.locale, callback_data.page
    )
    await show(query, bot, text, keyboard, edit=callback_data.value == "nav")


@router.callback_query(EventAdmin.filter(F.action == "mark"), flags=ON_EVENT)
async def toggle_attendance(
    query: CallbackQuery,
    callback_data: EventAdmin,
    event: Event,
    ctx: Context,
    callback_answer: CallbackAnswer,
) -> None:
    answer = await service.my_answer(ctx.session, event.id or 0, callback_data.member)
    if answer is None or answer.status != RsvpStatus.GOING:
        stale_button(callback_answer)
        return
    await service.mark_attendance(
        ctx.session, event.id or 0, callback_data.member, not answer.attended, utcnow()
    )
    toast(
        callback_answer, _("Marked as attended.") if answer.attended else _("No longer marked as attended.")
    )
    if isinstance(query.message, Message):
        text, keyboard = await attendees_view(
            ctx.session, event, ctx.organization, ctx.locale, callback_data.page
        )
        await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(EventAdmin.filter(F.action == "csv"), flags=ON_EVENT)
async def export_csv(query: CallbackQuery, event: Event, ctx: Context, bot: Bot) -> None:
    ident = event.id or 0
    audit.exported(ctx.session, "event", ctx.user_id, event.organization_id, event_id=ident, format="csv")
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(await service.export_csv(ctx.session, ident), filename=f"event-{ident}.csv"),
        caption=_("👥 Answers for “{title}”").format(
            title=escape(event_title(event, ctx.locale, ctx.organization))
        ),
    )

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
from bot.policy import Action, rights
from bot.services import events as service
from handlers.events.callbacks import EventAdmin
from handlers.events.common import managed_event
from handlers.events.texts import event_title
from handlers.events.views import attendees_view
from handlers.fallback import stale_button, toast
from storage.models import RsvpStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
MANAGE: Final = rights(Action.MANAGE_EVENTS)


@router.callback_query(EventAdmin.filter(F.action == "att"), flags=MANAGE)
async def show_attendees(
    query: CallbackQuery, callback_data: EventAdmin, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is None:
        return
    text, keyboard = await attendees_view(
        ctx.session, event, ctx.organization, ctx.locale, callback_data.page
    )
    if callback_data.value == "nav" and isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(EventAdmin.filter(F.action == "mark"), flags=MANAGE)
async def toggle_attendance(
    query: CallbackQuery, callback_data: EventAdmin, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is None:
        return
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


@router.callback_query(EventAdmin.filter(F.action == "csv"), flags=MANAGE)
async def export_csv(
    query: CallbackQuery, callback_data: EventAdmin, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is None:
        return
    ident = event.id or 0
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(await service.export_csv(ctx.session, ident), filename=f"event-{ident}.csv"),
        caption=_("👥 Answers for “{title}”").format(
            title=escape(event_title(event, ctx.locale, ctx.organization))
        ),
    )

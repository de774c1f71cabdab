"""Attendance for coordinators: pick a session, then tap each confirmed participant to switch
between ✅ attended and ❌ absent (20 toggles a page); completion follows from the ticks."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _
from bot.services.trainings.attendance import attendance, mark_attendance
from bot.services.trainings.queries import sessions_of
from bot.services.trainings.roster import roster
from bot.services.trainings.rules import TrainingError
from handlers.fallback import stale_button, toast
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import ON_TRAINING
from handlers.trainings.texts import button_label, error_text, short_when
from handlers.trainings.views import session_view, title_of
from storage.models import Training

router: Final[Router] = Router(name=__name__)


@router.callback_query(TrainingAdmin.filter(F.action == "att"), flags=ON_TRAINING)
async def choose_session(
    query: CallbackQuery, training: Training, callback_data: TrainingAdmin, ctx: Context, bot: Bot
) -> None:
    ident = training.id or 0
    builder = InlineKeyboardBuilder()
    for number, event in enumerate(await sessions_of(ctx.session, ident), start=1):
        when = short_when(event.starts_at, ctx.locale, ctx.zone)
        builder.button(
            text=button_label(f"{number}. {when}"),
            callback_data=TrainingAdmin(action="att_s", id=ident, event=event.id or 0),
        )
    builder.adjust(1)
    await bot.send_message(
        query.from_user.id,
        _("✅ Attendance for “{title}”: which session?").format(title=escape(title_of(training, ctx))),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(TrainingAdmin.filter(F.action == "att_s"), flags=ON_TRAINING)
async def show_session(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A session's toggles: a new message, or another page of them ("nav": edited)."""
    sessions = await sessions_of(ctx.session, training.id or 0)
    event = next((item for item in sessions if item.id == callback_data.event), None)
    if event is None:
        stale_button(callback_answer)
        return
    text, keyboard = await session_view(ctx, training, sessions, event, callback_data.page)
    if callback_data.value == "nav" and isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action == "mark"), flags=ON_TRAINING)
async def toggle_attendance(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
) -> None:
    """One toggle: attended ↔ absent, for a confirmed participant; the toggles are redrawn."""
    ident = training.id or 0
    sessions = await sessions_of(ctx.session, ident)
    event = next((item for item in sessions if item.id == callback_data.event), None)
    if event is None or not any(
        entry.member.id == callback_data.member for entry in (await roster(ctx.session, ident)).confirmed
    ):
        stale_button(callback_answer)
        return
    marks = await attendance(ctx.session, ident)
    attended = not marks.get((callback_data.member, event.id or 0), False)
    try:
        await mark_attendance(ctx.session, training, event.id or 0, callback_data.member, attended)
    except TrainingError as error:
        toast(callback_answer, error_text(error), alert=True)
        return
    toast(callback_answer, _("Marked as attended.") if attended else _("Marked as absent."))
    text, keyboard = await session_view(ctx, training, sessions, event, callback_data.page)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)

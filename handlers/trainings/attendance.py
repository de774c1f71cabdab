"""Attendance for coordinators: pick a session, then tap each confirmed participant to switch
between ✅ attended and ❌ absent (20 toggles a page); completion follows from the ticks."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _
from bot.services.trainings.attendance import attendance, mark_attendance
from bot.services.trainings.queries import sessions_of
from bot.services.trainings.rules import TrainingError
from handlers.fallback import toast
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import ON_SESSION, ON_TRAINING, show
from handlers.trainings.texts import button_label, error_text, short_when
from handlers.trainings.views import session_view, title_of
from storage.models import Event, Training

router: Final[Router] = Router(name=__name__)


@router.callback_query(TrainingAdmin.filter(F.action == "att"), flags=ON_TRAINING)
async def choose_session(query: CallbackQuery, training: Training, ctx: Context) -> None:
    ident = training.id or 0
    builder = InlineKeyboardBuilder()
    for number, event in enumerate(await sessions_of(ctx.session, ident), start=1):
        when = short_when(event.starts_at, ctx.locale, ctx.zone)
        builder.button(
            text=button_label(f"{number}. {when}"),
            callback_data=TrainingAdmin(action="att_s", id=ident, event=event.id or 0),
        )
    builder.adjust(1)
    title = escape(title_of(training, ctx))
    await show(
        query, _("✅ Attendance for “{title}”: which session?").format(title=title), builder.as_markup()
    )


@router.callback_query(TrainingAdmin.filter(F.action == "att_s"), flags=ON_SESSION)
async def show_session(
    query: CallbackQuery,
    training: Training,
    sessions: list[Event],
    event: Event,
    callback_data: TrainingAdmin,
    ctx: Context,
) -> None:
    """A session's toggles: a new message, or another page of them ("nav": edited)."""
    text, keyboard = await session_view(ctx, training, sessions, event, callback_data.page)
    await show(query, text, keyboard, edit=callback_data.value == "nav")


@router.callback_query(TrainingAdmin.filter(F.action == "mark"), flags=ON_SESSION)
async def toggle_attendance(
    query: CallbackQuery,
    training: Training,
    sessions: list[Event],
    event: Event,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
) -> None:
    """One toggle: attended ↔ absent, for a confirmed participant; the toggles are redrawn."""
    ident, event_id, member_id = training.id or 0, event.id or 0, callback_data.member
    attended = not (await attendance(ctx.session, ident)).get((member_id, event_id), False)
    try:
        await mark_attendance(ctx.session, training, event_id, member_id, attended)
    except TrainingError as error:
        toast(callback_answer, error_text(error), alert=True)
        return
    toast(callback_answer, _("Marked as attended.") if attended else _("Marked as absent."))
    await show(query, *await session_view(ctx, training, sessions, event, callback_data.page), edit=True)

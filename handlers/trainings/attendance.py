"""Attendance for coordinators: pick a session, then tap each confirmed participant to switch
between ✅ attended and ❌ absent (20 toggles a page); completion follows from the ticks."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, ngettext
from bot.services.trainings.attendance import attendance, mark_attendance
from bot.services.trainings.queries import sessions_of
from bot.services.trainings.roster import roster
from bot.services.trainings.rules import TrainingError
from handlers.fallback import stale_button, toast
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import COORDINATOR, managed_training, plain_name, title_of
from handlers.trainings.texts import button_label, error_text, markup, short_when
from storage.models import Event, Training

router: Final[Router] = Router(name=__name__)

TOGGLES: Final = 20  # attendance buttons per page


async def session_view(
    ctx: Context, training: Training, sessions: list[Event], event: Event, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One session's confirmed participants with their ✅/❌ toggles, `TOGGLES` at a time."""
    ident, event_id, title = training.id or 0, event.id or 0, title_of(training, ctx)
    confirmed = (await roster(ctx.session, ident)).confirmed
    marks = await attendance(ctx.session, ident)
    present = sum(1 for entry in confirmed if marks.get((entry.member.id or 0, event_id), False))
    number = next(index for index, item in enumerate(sessions, start=1) if item.id == event_id)
    lines = [
        _("✅ <b>{title}</b>: session {number} of {total}").format(
            title=escape(title), number=number, total=len(sessions)
        ),
        f"🕒 {escape(short_when(event.starts_at, ctx.locale, ctx.zone))}",
        ngettext(
            "{present} of {count} participant attended.",
            "{present} of {count} participants attended.",
            len(confirmed),
        ).format(present=present, count=len(confirmed)),
    ]
    lines.append(
        _("Tap a name to switch between ✅ attended and ❌ absent.")
        if confirmed
        else _("Nobody is confirmed.")
    )
    offset = max(0, min(offset, max(0, len(confirmed) - 1)))
    offset -= offset % TOGGLES
    builder = InlineKeyboardBuilder()
    for entry in confirmed[offset : offset + TOGGLES]:
        mark = "✅" if marks.get((entry.member.id or 0, event_id), False) else "❌"
        builder.button(
            text=button_label(f"{mark} {plain_name(entry.member)}"),
            callback_data=TrainingAdmin(
                action="mark", id=ident, event=event_id, member=entry.member.id or 0, page=offset
            ),
        )
    shown = min(TOGGLES, max(0, len(confirmed) - offset))
    sizes = [2] * (shown // 2) + [1] * (shown % 2)
    navigation = 0
    for condition, page, arrow in (
        (offset > 0, offset - TOGGLES, "◀️"),
        (offset + TOGGLES < len(confirmed), offset + TOGGLES, "▶️"),
    ):
        if condition:
            builder.button(
                text=arrow,
                callback_data=TrainingAdmin(action="att_s", id=ident, event=event_id, page=page, value="nav"),
            )
            navigation += 1
    if navigation:
        sizes.append(navigation)
    return "\n".join(lines), markup(builder, *sizes)


@router.callback_query(TrainingAdmin.filter(F.action == "att"), flags=COORDINATOR)
async def choose_session(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
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


@router.callback_query(TrainingAdmin.filter(F.action == "att_s"), flags=COORDINATOR)
async def show_session(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A session's toggles: a new message, or another page of them ("nav": edited)."""
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
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


@router.callback_query(TrainingAdmin.filter(F.action == "mark"), flags=COORDINATOR)
async def toggle_attendance(
    query: CallbackQuery, callback_data: TrainingAdmin, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    """One toggle: attended ↔ absent, for a confirmed participant; the toggles are redrawn."""
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
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

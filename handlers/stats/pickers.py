"""/stats' smaller screens: the super-admins' choice of organization, and the typed range of days
(/stats and /audit ask it the same way, and explain the same way why one could not be read)."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _
from bot.services.dates import DateError, parse_day_range
from bot.services.stats.table import organization_choices
from handlers.composer.text import answered_a_command
from handlers.stats.callbacks import StatsButton
from handlers.ui import page_turns
from storage.types import utcnow

PAGE_SIZE = 8


async def organizations_keyboard(
    session: AsyncSession, button: StatsButton
) -> tuple[str, InlineKeyboardMarkup]:
    """Every organization together, then a page of them by name (the days shown kept)."""
    choices, total = await organization_choices(session, button.page * PAGE_SIZE, PAGE_SIZE)
    days = dict(first=button.first, last=button.last, days=button.days)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🌐 All organizations"), callback_data=StatsButton(action="show", org=0, **days))
    for organization_id, name in choices:
        builder.button(text=name[:60], callback_data=StatsButton(action="show", org=organization_id, **days))
    paging = page_turns(button.page, PAGE_SIZE, total)
    for label, page in paging:
        builder.button(
            text=label, callback_data=StatsButton(action="orgs", org=button.org, page=page, **days)
        )
    builder.adjust(1, *([1] * len(choices)), len(paging) or 1)
    return _("🏢 Which organization's statistics?"), builder.as_markup()


def range_error_text(error: DateError, locale: str) -> str:
    """Why a typed range was not taken, and how to write one."""
    if error.reason == "ambiguous" and len(error.moments) == 2:
        first, second = (format_date(moment.date(), "long", locale=locale) for moment in error.moments)
        return _(
            "Did you mean {first} or {second}? Please write the month in words, or the year first, for "
            "example {example}."
        ).format(first=first, second=second, example=error.moments[0].date().isoformat())
    if error.reason == "order":
        return _("The last day comes before the first one. Please send the first day, then the last.")
    if error.reason == "long":
        return _("That is more than three years. Please send a shorter range.")
    return _(
        "I couldn't read those days. Please send the first and the last day, like 2027-01-01 – 2027-03-31 "
        "or 01.01.2027 - 31.03.2027."
    )


async def ask_range(bot: Bot, chat_id: int, state: FSMContext, step: State, **kept: Any) -> None:
    """Wait for a typed range of days in `step` (`kept`: what the dialog needs afterwards)."""
    await state.set_state(step)
    await state.update_data(**kept)
    await bot.send_message(
        chat_id,
        _(
            "📅 Send the first and the last day, like 2027-01-01 – 2027-03-31 or 01.01.2027 - 31.03.2027. "
            "Send /cancel to stop."
        ),
    )


async def typed_range(message: Message, ctx: Context) -> tuple[date, date] | None:
    """The range of days the message gives, in the sender's language and zone; None after saying
    why it could not be taken (the step keeps waiting)."""
    if await answered_a_command(message):
        return None
    today = utcnow().astimezone(ZoneInfo(ctx.zone)).date()
    try:
        return parse_day_range(message.text or "", today, language=ctx.locale)
    except DateError as error:
        await message.answer(range_error_text(error, ctx.locale))
        return None

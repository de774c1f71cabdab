"""/stats' smaller screens: the super-admins' choice of organization, and what a typed range of
days that could not be read gets as an answer."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _
from bot.services.dates import DateError
from bot.services.stats.table import organization_choices
from handlers.stats.callbacks import StatsButton

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
    paging = []
    if button.page > 0:
        paging.append(("◀️", button.page - 1))
    if (button.page + 1) * PAGE_SIZE < total:
        paging.append(("▶️", button.page + 1))
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

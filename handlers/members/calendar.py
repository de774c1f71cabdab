"""The member's private calendar feed, from /profile (📅 Calendar feed): its address, a new
address (the old one stops working), or off. Offered only when the bot has a public address
(PUBLIC_URL); the feed itself is served by `bot.web.calendar_feed`."""

from __future__ import annotations

from typing import Final

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.calendar_feed import disable_feed, enable_feed, feed_url, renew_feed
from handlers.fallback import stale_button
from handlers.filters import IsRegistered
from handlers.members.callbacks import CalendarFeedAction
from handlers.members.views import calendar_feed_keyboard, calendar_feed_text
from storage.models import Member

router: Final[Router] = Router(name=__name__)
router.callback_query.filter(IsRegistered())


@router.callback_query(CalendarFeedAction.filter(F.action.in_({"show", "new"})), flags=rights(Action.PUBLIC))
async def show_feed(
    query: CallbackQuery,
    callback_data: CalendarFeedAction,
    member: Member,
    session: AsyncSession,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    """📅 Calendar feed (its address, made on first use) or 🔄 New address (the old one stops)."""
    if settings.public_url is None or member.id is None or query.message is None:
        stale_button(callback_answer)
        return
    renew = callback_data.action == "new"
    token = await (renew_feed if renew else enable_feed)(session, member.id)
    text = calendar_feed_text(feed_url(settings.public_url, token))
    if renew:
        callback_answer.text = _("✅ New address: the old one no longer works.")
        await query.message.edit_text(text, reply_markup=calendar_feed_keyboard())  # type: ignore[union-attr]
    else:
        await query.message.answer(text, reply_markup=calendar_feed_keyboard())


@router.callback_query(CalendarFeedAction.filter(F.action == "off"), flags=rights(Action.PUBLIC))
async def turn_off(
    query: CallbackQuery, member: Member, session: AsyncSession, callback_answer: CallbackAnswer
) -> None:
    if member.id is None or query.message is None:
        stale_button(callback_answer)
        return
    await disable_feed(session, member.id)
    await query.message.edit_text(  # type: ignore[union-attr]
        _("Your calendar feed is off: its address no longer works. Turn it on again from /profile.")
    )

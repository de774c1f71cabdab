"""Event cards in group chats: /postevent posts the card (the organization's language, the
event's zone, counts only) with its answer buttons; taps in the group refresh it, once for all
the taps of a few seconds (groups allow about 20 messages a minute, edits included)."""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _
from bot.logs import log_event
from bot.policy import Action, rights
from bot.services import events as service
from bot.services.origins import origin_name
from bot.views.events import card_keyboard, event_card, upcoming
from handlers.composer.steps import silenced_text
from storage.db import current_session
from storage.models import Event, EventStatus, Organization, OrgStatus
from storage.types import utcnow

log = logging.getLogger(__name__)
router: Final[Router] = Router(name=__name__)
GROUP_REFRESH_DELAY = 3.0  # seconds: taps in a group within this window share one edit of its card
_group_refresh: dict[tuple[int, int], asyncio.Task[None]] = {}


async def render_group_card(
    session: AsyncSession, event: Event, organization: Organization, i18n: I18n
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card posted in a group: the organization's language, the event's zone, counts only."""
    language = organization.default_language
    counts = await service.counts(session, event.id or 0)
    origin = await origin_name(session, event.organization_id, language)
    with i18n.use_locale(language):
        version = service.version_for(event, None, language)
        text = event_card(event, version, language, event.timezone, counts, origin=origin)
        return text, card_keyboard(event)


@router.message(
    Command("postevent"),
    F.chat.type.in_({"group", "supergroup"}),
    flags=rights(Action.MANAGE_EVENTS, __("Only organizers can post events here.")),
)
async def post_event(message: Message, command: CommandObject, ctx: Context, i18n: I18n) -> None:
    """The event card with its RSVP buttons, posted in the group by an organizer."""
    argument = (command.args or "").strip().lstrip("#")
    event = None
    if argument.isdigit() and len(argument) < 10:
        event = await ctx.load(Action.MANAGE_EVENTS, Event, int(argument))
    if (
        event is None
        or event.training_id is not None  # a training session: seats are taken on the training's card
        or event.status != EventStatus.PUBLISHED
        or not upcoming(event, utcnow())
    ):
        await message.reply(
            _(
                "Send /postevent followed by the number of an upcoming published event, for example "
                "/postevent 12. /myevents in a private chat with me shows the numbers."
            )
        )
        return
    if ctx.organization.status != OrgStatus.ACTIVE:  # the event's own (loading it made it the update's)
        await message.reply(silenced_text(ctx.organization))
        return
    text, keyboard = await render_group_card(ctx.session, event, ctx.organization, i18n)
    await message.answer(text, reply_markup=keyboard)


@router.message(Command("postevent"), flags=rights(Action.MANAGE_EVENTS))
async def post_event_in_private(message: Message) -> None:
    await message.answer(
        _(
            "Send this command in the group where the event should appear, after adding me to it. "
            "/myevents shows your events and their numbers."
        )
    )


def refresh_group_card_soon(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n,
    message: Message,
    event_id: int,
    organization_id: int,
) -> None:
    """Show the new counts on a card posted in a group, once for all the taps of a few seconds."""
    key = (message.chat.id, message.message_id)
    if key not in _group_refresh:
        _group_refresh[key] = asyncio.create_task(
            _refresh_group_card(bot, sessions, i18n, message, key, event_id, organization_id)
        )


async def _refresh_group_card(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n,
    message: Message,
    key: tuple[int, int],
    event_id: int,
    organization_id: int,
) -> None:
    current_session.set(None)  # this task outlives the update whose context it copied
    try:
        await asyncio.sleep(GROUP_REFRESH_DELAY)
        _group_refresh.pop(key, None)  # taps from now on schedule the next refresh
        async with sessions() as session:
            found = await service.event_with_organization(session, event_id, organization_id)
            if found is None:
                return
            text, keyboard = await render_group_card(session, *found, i18n)
        if text != message.html_text:
            await bot.edit_message_text(
                text, chat_id=message.chat.id, message_id=message.message_id, reply_markup=keyboard
            )
    except TelegramAPIError as error:  # a deleted card, a group the bot left
        log_event(log, "group_card_not_refreshed", chat=message.chat.id, reason=str(error)[:80])
    except Exception as error:  # e.g. the bot shutting down meanwhile: the next tap refreshes it
        log_event(log, "group_card_not_refreshed", chat=message.chat.id, reason=type(error).__name__)
    finally:
        if _group_refresh.get(key) is asyncio.current_task():
            _group_refresh.pop(key, None)

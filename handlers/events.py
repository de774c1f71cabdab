"""Events for members: /events, the event card with one-tap RSVP, calendar files, seat offers,
deep links (`?start=event_<id>`) and check-in codes."""

from __future__ import annotations

import asyncio
import logging
import re
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.logs import log_event
from bot.policy import Action, rights
from bot.services import events as service
from bot.services.events.calendar import event_ics, ics_filename
from bot.views.events import EventAction, card_keyboard, event_card, when_text
from handlers.fallback import stale_button, toast
from handlers.ui import member_zone
from storage.db import current_session
from storage.models import Event, EventStatus, Member, Organization, RsvpStatus
from storage.types import utcnow

log = logging.getLogger(__name__)
router: Final[Router] = Router(name=__name__)
GROUP_REFRESH_DELAY = 3.0  # seconds: taps in a group within this window share one edit of its card
_group_refresh: dict[tuple[int, int], asyncio.Task[None]] = {}
PAGE_SIZE = 5
CHOICE = {"going": RsvpStatus.GOING, "maybe": RsvpStatus.MAYBE, "no": RsvpStatus.NOT_GOING}
_CODE = re.compile(r"^\s*[A-Za-z0-9]{4,12}\s*$")


def error_text(error: service.EventError) -> str:
    texts = {
        "not_found": _("This event no longer exists."),
        "closed": _("This event is not open yet."),
        "cancelled": _("This event was cancelled."),
        "event_past": _("This event is over."),
        "deadline_passed": _("Answers for this event are closed."),
        "offer_expired": _("Sorry, this seat offer has expired."),
        "bad_code": _("That check-in code doesn't match an event happening now."),
    }
    return texts.get(error.reason, _("This button is no longer active."))


async def render_card(
    session: AsyncSession, event: Event, member: Member | None, organization: Organization, locale: str
) -> tuple[str, object]:
    version = service.version_for(event, member.language if member else locale, organization.default_language)
    counts = await service.counts(session, event.id or 0)
    answer = position = None
    if member is not None and member.id is not None:
        mine = await service.my_answer(session, event.id or 0, member.id)
        answer = mine.status if mine else None
        position = await service.waitlist_position(session, event.id or 0, member.id)
    text = event_card(event, version, locale, member_zone(member, organization), counts, answer, position)
    return text, card_keyboard(event, answer)


async def render_group_card(
    session: AsyncSession, event: Event, organization: Organization, i18n: I18n
) -> tuple[str, InlineKeyboardMarkup]:
    """The card posted in a group: the organization's language, the event's zone, counts only."""
    language = organization.default_language
    counts = await service.counts(session, event.id or 0)
    with i18n.use_locale(language):
        text = event_card(event, service.version_for(event, None, language), language, event.timezone, counts)
        return text, card_keyboard(event)


async def send_card(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    event: Event,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    text, keyboard = await render_card(session, event, member, organization, locale)
    await bot.send_message(chat_id, text, reply_markup=keyboard)  # type: ignore[arg-type]


async def show_linked_event(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    event_id: int,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    """A `?start=event_<id>` deep link: the card, or why it can't be shown."""
    event = await session.get(Event, event_id)
    if (
        event is None
        or event.status == EventStatus.DRAFT
        or event.organization_id != organization.id
        or event.training_id is not None
    ):
        await bot.send_message(chat_id, _("This event no longer exists."))
        return
    await send_card(bot, chat_id, session, event, member, organization, locale)


# -- /events -------------------------------------------------------------------------------------


async def events_page(
    session: AsyncSession, member: Member | None, organization: Organization, locale: str, offset: int
) -> tuple[str, object]:
    page = await service.upcoming_events(session, organization.id, member, utcnow(), offset, PAGE_SIZE)
    if not page.events:
        return _("No upcoming events right now. You'll hear from me when there is one!"), None
    zone = member_zone(member, organization)
    lines = [
        ngettext("📅 <b>{count} upcoming event</b>", "📅 <b>{count} upcoming events</b>", page.total).format(
            count=page.total
        ),
        "",
    ]
    builder = InlineKeyboardBuilder()
    for number, event in enumerate(page.events, start=offset + 1):
        version = service.version_for(
            event, member.language if member else locale, organization.default_language
        )
        title = service.event_text(event, version)[0]
        mark = {RsvpStatus.GOING: " ✅", RsvpStatus.MAYBE: " 🤔", RsvpStatus.WAITLISTED: " ⏳"}.get(
            page.answers.get(event.id or 0),
            "",  # type: ignore[arg-type]
        )
        lines.append(f"{number}. <b>{escape(title)}</b>{mark}\n    {escape(when_text(event, locale, zone))}")
        builder.button(
            text=f"{number}. {title}"[:60], callback_data=EventAction(action="open", id=event.id or 0)
        )
    builder.adjust(1)
    navigation = []
    if offset > 0:
        navigation.append(("◀", max(0, offset - PAGE_SIZE)))
    if offset + PAGE_SIZE < page.total:
        navigation.append(("▶", offset + PAGE_SIZE))
    for label, target in navigation:
        builder.button(text=label, callback_data=EventAction(action="page", id=target))
    if navigation:
        builder.adjust(*([1] * len(page.events)), len(navigation))
    return "\n".join(lines), builder.as_markup()


@router.message(Command("events"), F.chat.type == "private", flags=rights(Action.PUBLIC))
async def list_events(
    message: Message, member: Member | None, session: AsyncSession, organization: Organization, i18n: I18n
) -> None:
    if member is None or not member.is_registered:
        await message.answer(_("Hello! I don't know you yet. Send /start to join the community."))
        return
    text, keyboard = await events_page(session, member, organization, i18n.current_locale, 0)
    await message.answer(text, reply_markup=keyboard)  # type: ignore[arg-type]


# -- buttons on cards and lists --------------------------------------------------------------------


@router.callback_query(EventAction.filter(), flags=rights(Action.PUBLIC))
async def event_button(
    query: CallbackQuery,
    callback_data: EventAction,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    locale = i18n.current_locale
    if member is None or not member.is_registered or member.id is None:
        toast(
            callback_answer,
            _("Please register first: open a private chat with me and send /start."),
            alert=True,
        )
        return
    action = callback_data.action
    if action == "page":
        text, keyboard = await events_page(session, member, organization, locale, max(0, callback_data.id))
        if isinstance(query.message, Message):
            await query.message.edit_text(text, reply_markup=keyboard)  # type: ignore[arg-type]
        return
    event = await session.get(Event, callback_data.id)
    if (
        event is None
        or event.organization_id != organization.id
        or event.status == EventStatus.DRAFT
        or (event.training_id is not None and action != "ics")  # a session: only its calendar file
    ):
        toast(callback_answer, _("This event no longer exists."))
        return
    if action == "open":
        await send_card(bot, query.from_user.id, session, event, member, organization, locale)
        return
    if action == "ics":
        version = service.version_for(event, member.language, organization.default_language)
        me = await bot.me()
        link = f"https://t.me/{me.username}?start=event_{event.id}" if me.username else None
        await bot.send_document(
            query.from_user.id,
            BufferedInputFile(event_ics(event, version, url=link), filename=ics_filename(event)),
            caption=_("📅 Open this file to add the event to your calendar."),
        )
        return
    try:
        if action == "take":
            result = await service.confirm_offer(session, event.id or 0, member.id, utcnow())
        elif action in CHOICE:
            result = await service.rsvp(session, event.id or 0, member.id, CHOICE[action], utcnow())
        else:
            stale_button(callback_answer)
            return
    except service.EventError as error:
        await session.commit()  # keeps offers that expired on the way; nothing else was written
        toast(callback_answer, error_text(error), alert=error.reason in {"offer_expired", "deadline_passed"})
        return
    await session.commit()
    toast(callback_answer, _rsvp_text(result))
    if result.promoted:
        delivery.wake()  # the promoted members' notices are in the outbox
    await _refresh_card(query, session, event, member, organization, locale)
    if isinstance(query.message, Message) and query.message.chat.type in {"group", "supergroup"}:
        _refresh_group_card_soon(bot, sessions, i18n, query.message, event.id or 0, organization.id or 0)


def _rsvp_text(result: service.RsvpResult) -> str:
    if result.status == RsvpStatus.GOING:
        return _("✅ You're going. See you there!")
    if result.status == RsvpStatus.MAYBE:
        return _("🤔 Noted as maybe.")
    if result.status == RsvpStatus.NOT_GOING:
        return _("Noted: you can't go.")
    if result.status == RsvpStatus.WAITLISTED:
        return _("⏳ The event is full: you are number {position} on the waitlist.").format(
            position=result.position or "?"
        )
    return _("Saved.")


async def _refresh_card(
    query: CallbackQuery,
    session: AsyncSession,
    event: Event,
    member: Member,
    organization: Organization,
    locale: str,
) -> None:
    """Show the new counts and answer on the pressed card (in a private chat)."""
    if not isinstance(query.message, Message) or query.message.chat.type != "private":
        return
    text, keyboard = await render_card(session, event, member, organization, locale)
    if query.message.text and query.message.html_text.endswith(text):
        return
    prefix = query.message.html_text.split("📅", 1)[0] if "📅" in (query.message.text or "") else ""
    await query.message.edit_text(prefix + text, reply_markup=keyboard)  # type: ignore[arg-type]


def _refresh_group_card_soon(
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
    i18n: I18n,
    message: Message,
    event_id: int,
    organization_id: int,
) -> None:
    """Show the new counts on a card posted in a group, once for all the taps of a few seconds
    (groups allow about 20 messages a minute, edits included)."""
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
            event = await session.get(Event, event_id)
            organization = await session.get(Organization, organization_id)
            if event is None or organization is None:
                return
            text, keyboard = await render_group_card(session, event, organization, i18n)
        if text != message.html_text:
            await bot.edit_message_text(
                text, chat_id=message.chat.id, message_id=message.message_id, reply_markup=keyboard
            )
    except TelegramAPIError as error:  # "message is not modified", a deleted card, a left group
        log_event(log, "group_card_not_refreshed", chat=message.chat.id, reason=str(error)[:80])
    except Exception as error:  # e.g. the bot shutting down meanwhile: the next tap refreshes it
        log_event(log, "group_card_not_refreshed", chat=message.chat.id, reason=type(error).__name__)
    finally:
        if _group_refresh.get(key) is asyncio.current_task():
            _group_refresh.pop(key, None)


# -- check-in ---------------------------------------------------------------------------------------


@router.message(F.chat.type == "private", F.text.regexp(_CODE.pattern), flags=rights(Action.PUBLIC))
async def check_in_code(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    organization: Organization,
) -> None:
    """A member sends the code the organizer shows during the event."""
    if member is None or not member.is_registered or member.id is None or await state.get_state() is not None:
        raise SkipHandler
    try:
        event = await service.check_in(session, member.id, message.text or "", utcnow())
    except service.EventError as error:
        if error.reason == "bad_code" and not any(char.isdigit() for char in message.text or ""):
            raise SkipHandler from None  # an ordinary word, not a code: let the fallback answer
        await message.answer(error_text(error))
        return
    title = service.event_text(
        event, service.version_for(event, member.language, organization.default_language)
    )[0]
    await message.answer(_("✅ You're checked in at <b>{title}</b>. Enjoy!").format(title=escape(title)))

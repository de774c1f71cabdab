"""Events for members: /events, the event card with one-tap RSVP (going, maybe, can't go, take
an offered seat), calendar files and deep links (`?start=event_<id>`). Seats and the waitlist are
decided in `bot.services.events`; here a tap is parsed, passed on, and the card shows the result."""

from __future__ import annotations

from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.methods import EditMessageText
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import events as service
from bot.services.events.calendar import event_ics, ics_filename
from bot.services.events.rules import EventError
from bot.services.text import visible_text
from bot.views.events import CardEvent, EventAction
from handlers.events.group import refresh_group_card_soon
from handlers.events.texts import member_error_text
from handlers.events.views import events_page, member_card
from handlers.fallback import toast
from handlers.ui import member_zone
from storage.models import Event, Member, Organization, RsvpStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
PUBLIC: Final = rights(Action.PUBLIC)
CHOICE: Final = {"going": RsvpStatus.GOING, "maybe": RsvpStatus.MAYBE, "no": RsvpStatus.NOT_GOING}


async def send_card(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    event: Event,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    zone = member_zone(member, organization)
    text, keyboard = await member_card(session, event, member, organization, locale, zone)
    await bot.send_message(chat_id, text, reply_markup=keyboard)


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
    event = await service.shown_event(session, member.id if member else None, event_id)
    if event is None or event.training_id is not None:
        await bot.send_message(chat_id, _("This event no longer exists."))
        return
    await send_card(bot, chat_id, session, event, member, organization, locale)


@router.message(Command("events"), F.chat.type == "private", flags=PUBLIC)
async def list_events(message: Message, ctx: Context) -> None:
    if ctx.member is None or not ctx.member.is_registered:
        await message.answer(_("Hello! I don't know you yet. Send /start to join the community."))
        return
    text, keyboard = await events_page(ctx.session, ctx.member, ctx.organization, ctx.locale, ctx.zone, 0)
    await message.answer(text, reply_markup=keyboard)


# -- buttons on cards and lists --------------------------------------------------------------------


def _registered(ctx: Context, callback_answer: CallbackAnswer) -> Member | None:
    """The member pressing, if registered; None after asking them to register first."""
    member = ctx.member
    if member is None or not member.is_registered or member.id is None:
        toast(
            callback_answer,
            _("Please register first: open a private chat with me and send /start."),
            alert=True,
        )
        return None
    return member


async def _tapped(
    ctx: Context, callback_data: EventAction, callback_answer: CallbackAnswer, *, session_too: bool = False
) -> tuple[Member, Event] | None:
    """The registered member pressing and the event their button names; None after saying why
    not (register first, or it no longer exists; a training session counts only when
    `session_too`: its calendar file)."""
    member = _registered(ctx, callback_answer)
    if member is None:
        return None
    event = await service.shown_event(ctx.session, member.id, callback_data.id)
    if event is None or (event.training_id is not None and not session_too):
        toast(callback_answer, _("This event no longer exists."))
        return None
    return member, event


@router.callback_query(EventAction.filter(F.action.in_({*CHOICE, "take"})), flags=PUBLIC)
async def answer(
    query: CallbackQuery,
    callback_data: EventAction,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Going, maybe, can't go (tapping again changes the answer), or taking an offered seat. The
    check that the member may see the event is the lock's own statement (`service.tap`)."""
    member = _registered(ctx, callback_answer)
    if member is None:
        return
    choice = CHOICE.get(callback_data.action)  # None: "take"
    try:
        tapped = await service.tap(ctx.session, callback_data.id, member.id or 0, choice, utcnow())
    except EventError as error:
        await ctx.session.commit()  # keeps offers that expired on the way; nothing else was written
        toast(
            callback_answer,
            member_error_text(error),
            alert=error.reason in {"offer_expired", "deadline_passed"},
        )
        return
    if tapped is None:
        toast(callback_answer, _("This event no longer exists."))
        return
    event, result = tapped
    event_id = event.id or 0
    await ctx.session.commit()
    toast(callback_answer, _rsvp_text(result))
    if result.promoted:
        delivery.wake()  # the promoted members' notices are in the outbox
    await _refresh_card(bot, query, ctx, event, member, result)
    if isinstance(query.message, Message) and query.message.chat.type in {"group", "supergroup"}:
        refresh_group_card_soon(bot, sessions, i18n, query.message, event_id, ctx.organization_id)


@router.callback_query(EventAction.filter(F.action == "page"), flags=PUBLIC)
async def turn_page(
    query: CallbackQuery, callback_data: EventAction, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    member = _registered(ctx, callback_answer)
    if member is None:
        return
    offset = max(0, callback_data.id)
    text, keyboard = await events_page(ctx.session, member, ctx.organization, ctx.locale, ctx.zone, offset)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(EventAction.filter(F.action == "open"), flags=PUBLIC)
async def open_card(
    query: CallbackQuery, callback_data: EventAction, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    if (tapped := await _tapped(ctx, callback_data, callback_answer)) is not None:
        member, event = tapped
        await send_card(bot, query.from_user.id, ctx.session, event, member, ctx.organization, ctx.locale)


@router.callback_query(EventAction.filter(F.action == "ics"), flags=PUBLIC)
async def calendar_file(
    query: CallbackQuery, callback_data: EventAction, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    """Add to calendar: an .ics file (a training session's too)."""
    tapped = await _tapped(ctx, callback_data, callback_answer, session_too=True)
    if tapped is None:
        return
    member, event = tapped
    version = service.version_for(event, member.language, ctx.organization.default_language)
    me = await bot.me()
    link = f"https://t.me/{me.username}?start=event_{event.id}" if me.username else None
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(event_ics(event, version, url=link), filename=ics_filename(event)),
        caption=_("📅 Open this file to add the event to your calendar."),
    )


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
    bot: Bot,
    query: CallbackQuery,
    ctx: Context,
    event: CardEvent,
    member: Member,
    result: service.RsvpResult,
) -> None:
    """Show the new counts and the member's answer (and place in line) on the pressed card (in a
    private chat), as the tap's `result` has them (the counts read again only when it has none)."""
    if not isinstance(query.message, Message) or query.message.chat.type != "private":
        return
    organization, locale, zone = ctx.organization, ctx.locale, ctx.zone
    answer = (result.status, result.position)
    text, keyboard = await member_card(
        ctx.session, event, member, organization, locale, zone, answer, result.counts
    )
    message = query.message
    plain = message.text or ""
    # The card's HTML rebuilt from the entities only when needed: to keep what comes before the
    # card (a notice's heading), or to leave the card as it is when it shows the new one already
    # (the same answer tapped again, a tap on an older copy of the card): no edit then, rather
    # than one Telegram refuses as not modified. Its text tells first, for less work.
    prefixed = "📅" in plain and not plain.startswith("📅")
    same_text = bool(plain) and plain.endswith(visible_text(text))
    shown = message.html_text if prefixed or same_text else ""
    if same_text and shown.endswith(text):
        return
    prefix = shown.split("📅", 1)[0] if prefixed else ""
    edit = CardEdit(
        chat_id=message.chat.id,
        message_id=message.message_id,
        business_connection_id=message.business_connection_id,
        text=prefix + text,
        reply_markup=keyboard,
    )
    await bot(edit)


class CardEdit(EditMessageText):
    """`Message.edit_text` of the pressed card, but the Bot API's answer (the whole edited message,
    its keyboard included) is not validated into a `Message`: nobody reads it, and that took some
    0.2 ms of every tap (issue 15)."""

    __returning__ = Any  # type: ignore[assignment]

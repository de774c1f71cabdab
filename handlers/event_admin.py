"""The organizer side of events: /newevent (a guided dialog, then a draft preview to publish),
/myevents (answers, attendance, CSV, edits, cancellation, check-in code) and /postevent in a group.

Every action is authorized on the server (organizer or admin of the organization) for the command,
each typed step and every button: callback data can be forged. The dialog keeps its answers in
the FSM data; nothing is written to the database until the draft is created at the end.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES
from bot.delivery import DeliveryEngine
from bot.event_view import event_card, upcoming, when_text
from bot.i18n import _, format_when, language_name, ngettext
from bot.policy import Action, rights
from bot.services import events as service
from bot.services.dates import DateError, parse_local_datetime
from bot.services.events import EventError
from bot.services.recurrence import (
    create_series,
    local_to_utc,
    publish_series,
    series_events,
    update_series_from,
)
from bot.services.roles import Actor, can_organize
from bot.services.schedule_math import parse_clock
from handlers.callbacks import EventAdmin
from handlers.composer.audience import audience_choice, show_picker
from handlers.events import render_group_card
from handlers.fallback import stale_button, toast
from handlers.states import EventStates
from handlers.ui import member_zone
from storage.models import Event, EventSeries, EventStatus, Member, Organization, RsvpStatus, SeriesRule
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
# Private chats only, except /postevent, which is sent in the group the card goes to.
router.message.filter((F.chat.type == "private") | F.text.regexp(r"^/postevent(@\w+)?(\s|$)"))

PAGE_SIZE = 5
TOGGLES = 20  # attendance buttons per attendee page
SERIES_COUNT = 8  # occurrences created for a repeating event
TEXT_BUDGET = 3900  # stay clear of Telegram's 4096
OPEN = (EventStatus.DRAFT, EventStatus.PUBLISHED)
REMINDERS: Final = {"dh": [1440, 60], "h": [60], "none": []}
CLAIM_WINDOWS: Final = {"0": None, "12": 12, "24": 24, "48": 48}  # hours to take a freed seat
RULES: Final = {
    "weekly": SeriesRule.WEEKLY,
    "biweekly": SeriesRule.BIWEEKLY,
    "monthly": SeriesRule.MONTHLY_WEEKDAY,
}
STEPS: Final = (
    "title",
    "description",
    "start",
    "end",
    "place",
    "capacity",
    "deadline",
    "reminders",
    "audience",
    "claim_window",
    "repeat",
)
STEP_STATES: Final = {name: getattr(EventStates, name) for name in STEPS}
STEP_OF_STATE: Final = {state.state: name for name, state in STEP_STATES.items()}
DIALOG_STATES: Final = tuple(STEP_STATES.values())
SKIPPABLE: Final = {
    "description": EventStates.description,
    "end": EventStates.end,
    "place": EventStates.place,
    "deadline": EventStates.deadline,
    "tr_description": EventStates.translation_description,
}
EDIT_FIELDS: Final = ("title", "description", "start", "place", "capacity")
_LINKISH = re.compile(r"^([a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)


def refusal() -> str:
    return _("Sorry, only organizers can manage events.")


def _title(event: Event, locale: str, organization: Organization) -> str:
    """The title in the version an organizer reading in `locale` gets."""
    return service.event_text(event, service.version_for(event, locale, organization.default_language))[0]


def error_text(error: EventError) -> str:
    """A refused value or action, in words the organizer can act on."""
    limit = error.limit or 0
    texts = {
        "title_empty": lambda: _("The title can't be empty. Please send a title."),
        "title_too_long": lambda: _(
            "That title is too long: at most {limit} characters. Please send a shorter one."
        ).format(limit=limit),
        "description_too_long": lambda: _(
            "That description is too long: at most {limit} characters. Please send a shorter one."
        ).format(limit=limit),
        "place_too_long": lambda: _(
            "That address is too long: at most {limit} characters. Please send a shorter one."
        ).format(limit=limit),
        "bad_url": lambda: _(
            "That link doesn't work. Please send a full web link starting with https:// or http://."
        ),
        "capacity_range": lambda: _(
            "Please send a whole number of seats from 1 to {limit}, or press “No limit”."
        ).format(limit=limit),
        "past_start": lambda: _("That time has already passed. Please send a time in the future."),
        "deadline_in_past": lambda: _("That time has already passed. Please send a time in the future."),
        "end_before_start": lambda: _(
            "The end must be after the start. Please send a later time (with the date if the event "
            "ends on another day)."
        ),
        "deadline_after_start": lambda: _(
            "Answers must close before the event starts. Please send an earlier time."
        ),
        "duration_range": lambda: _(
            "A repeating event can last at most {days} days. Choose “Only once”, or change the end time."
        ).format(days=limit // (24 * 60)),
        "series_empty": lambda: _(
            "These dates don't work for a repeating event. Please choose another option."
        ),
        "count_range": lambda: _(
            "These dates don't work for a repeating event. Please choose another option."
        ),
        "bad_rule": lambda: _("These dates don't work for a repeating event. Please choose another option."),
    }
    make = texts.get(error.reason)
    return make() if make else _("This event can no longer be changed.")


def date_error_text(error: DateError) -> str:
    if error.reason == "past":
        return _("That time has already passed. Please send a time in the future.")
    return _("I couldn't read that date. Please write it like 2027-03-14 18:30 or 14.03.2027 18:30.")


def parse_place(text: str) -> tuple[str | None, str | None]:
    """(address, link): a web link for online events, anything else is an address."""
    stripped = text.strip()
    if _LINKISH.match(stripped) or (" " not in stripped and "://" in stripped):
        return None, service.validate_url(stripped)
    return service.validate_place(stripped), None


def _token(moment: datetime) -> str:
    return str(int(moment.timestamp()) // 60)


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _markup(builder: InlineKeyboardBuilder, *sizes: int) -> InlineKeyboardMarkup | None:
    if not list(builder.buttons):
        return None
    builder.adjust(*(sizes or (1,)))
    return builder.as_markup()


def _weekday_position(moment: datetime, zone: str) -> tuple[int, str]:
    """The nth weekday of its month the start falls on (-1: the last one), and its label."""
    local = moment.astimezone(ZoneInfo(zone))
    nth = (local.day - 1) // 7 + 1
    if nth == 5:
        nth = -1
    weekday = format_date(local, "EEEE", locale=I18n.get_current().current_locale)
    labels = {
        1: _("Every month on the first {weekday}"),
        2: _("Every month on the second {weekday}"),
        3: _("Every month on the third {weekday}"),
        4: _("Every month on the fourth {weekday}"),
        -1: _("Every month on the last {weekday}"),
    }
    return nth, labels[nth].format(weekday=weekday)


def _rule_label(rule: str, starts_at: datetime, zone: str) -> str:
    if rule == "weekly":
        return _("Every week")
    if rule == "biweekly":
        return _("Every two weeks")
    return _weekday_position(starts_at, zone)[1]


# -- /newevent: the dialog ----------------------------------------------------------------------


@router.message(Command("newevent"), flags=rights(Action.MANAGE_EVENTS))
async def new_event(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    if not await can_organize(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    await state.set_state(None)
    await state.update_data(
        draft={"zone": member_zone(member, organization), "language": i18n.current_locale},
        edit=None,
        translate=None,
    )
    await _ask(bot, message.chat.id, state, "title", {})


@router.message(Command("myevents"), flags=rights(Action.MANAGE_EVENTS))
async def my_events(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    i18n: I18n,
) -> None:
    if not await can_organize(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    text, keyboard = await _list_page(
        session, organization, 0, i18n.current_locale, member_zone(member, organization)
    )
    await message.answer(text, reply_markup=keyboard)


@router.message(
    Command("postevent"),
    F.chat.type.in_({"group", "supergroup"}),
    flags=rights(Action.MANAGE_EVENTS, __("Only organizers can post events here.")),
)
async def post_event(
    message: Message,
    command: CommandObject,
    actor: Actor | None,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    i18n: I18n,
) -> None:
    """The event card with its RSVP buttons, posted in the group by an organizer."""
    if not await can_organize(session, actor, member, organization.id or 0):
        await message.reply(_("Only organizers can post events here."))
        return
    argument = (command.args or "").strip().lstrip("#")
    event = await session.get(Event, int(argument)) if argument.isdigit() and len(argument) < 10 else None
    if (
        event is None
        or event.organization_id != organization.id
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
    text, keyboard = await render_group_card(session, event, organization, i18n)
    await message.answer(text, reply_markup=keyboard)


@router.message(Command("postevent"), flags=rights(Action.MANAGE_EVENTS))
async def post_event_in_private(
    message: Message, actor: Actor, member: Member | None, session: AsyncSession, organization: Organization
) -> None:
    if not await can_organize(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    await message.answer(
        _(
            "Send this command in the group where the event should appear, after adding me to it. "
            "/myevents shows your events and their numbers."
        )
    )


async def _ask(bot: Bot, chat_id: int, state: FSMContext, step: str, draft: dict[str, Any]) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    await state.set_state(STEP_STATES[step])
    builder = InlineKeyboardBuilder()

    def button(text: str, action: str, value: str = "") -> None:
        builder.button(text=text, callback_data=EventAdmin(action=action, value=value))

    if step == "title":
        text = _(
            "🗓 <b>New event</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
            "Send /cancel to stop."
        ).format(limit=service.TITLE_MAX)
    elif step == "description":
        text = _("Describe the event for members (at most {limit} characters), or press Skip.").format(
            limit=service.DESCRIPTION_MAX
        )
        button(_("Skip"), "skip", step)
    elif step == "start":
        text = _(
            "When does it start? Send the date and time in your time zone ({zone}), for example "
            "2027-03-14 18:30, 14.03.2027 18:30 or 14/03/2027 6:30pm."
        ).format(zone=escape(draft.get("zone", "UTC")))
    elif step == "end":
        text = _("When does it end? Send a time (for example 20:30) or a date and time, or press Skip.")
        button(_("Skip"), "skip", step)
    elif step == "place":
        text = _(
            "Where does it take place? Send an address, or a link (https://…) for an online event, "
            "or press Skip."
        )
        button(_("Skip"), "skip", step)
    elif step == "capacity":
        text = _("How many seats are there? Send a number, or press “No limit”.")
        button(_("No limit"), "nolimit")
    elif step == "deadline":
        text = _(
            "Until when can members answer? Send a date and time, or press Skip to take answers "
            "until the start."
        )
        button(_("Skip"), "skip", step)
    elif step == "reminders":
        text = _("When should members who answered Going or Maybe get a reminder?")
        button(_("1 day and 1 hour before"), "rem", "dh")
        button(_("1 hour before"), "rem", "h")
        button(_("No reminders"), "rem", "none")
    elif step == "audience":
        text = _("Who should be told about this event?")
        button(_("Everyone"), "aud", "all")
        button(_("Choose…"), "aud", "choose")
    elif step == "claim_window":
        text = _("When a seat frees up, how long does the next person on the waitlist have to take it?")
        button(_("Automatically (no waiting)"), "claim", "0")
        for hours in (12, 24, 48):
            button(ngettext("{count} hour", "{count} hours", hours).format(count=hours), "claim", str(hours))
    else:
        text = _("Does the event repeat?")
        starts_at = _moment(draft.get("starts_at"))
        button(_("Only once"), "rep", "once")
        button(_("Every week"), "rep", "weekly")
        button(_("Every two weeks"), "rep", "biweekly")
        if starts_at is not None:
            button(_weekday_position(starts_at, draft.get("zone", "UTC"))[1], "rep", "monthly")
    await bot.send_message(chat_id, text, reply_markup=_markup(builder))


async def _next(bot: Bot, chat_id: int, state: FSMContext, step: str, draft: dict[str, Any]) -> None:
    await state.update_data(draft=draft)
    following = STEPS[STEPS.index(step) + 1]
    if following == "claim_window" and draft.get("capacity") is None:  # no seats, no waitlist
        draft.pop("claim_window", None)
        following = "repeat"
    await _ask(bot, chat_id, state, following, draft)


async def _audience_button(
    query: CallbackQuery,
    callback_data: EventAdmin,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
    draft: dict[str, Any],
) -> None:
    """The audience question: everyone, or ticking interests and languages, then Done."""
    message = query.message if isinstance(query.message, Message) else None
    choice = audience_choice(dict(draft.get("audience") or {}), callback_data.action, callback_data.value)
    if choice is None:
        stale_button(callback_answer)
        return
    outcome, draft["audience"] = choice
    if outcome == "done":
        if message is not None and message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        await _next(bot, query.from_user.id, state, "audience", draft)
        return
    await state.update_data(draft=draft)
    if message is not None:
        question = _("Who should be told about this event?")
        hint = _("Tick the interests and languages of the members to tell, then press Done.")
        await show_picker(message, outcome, draft["audience"], question, hint, EventAdmin)


async def _dialog_step(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> tuple[str, dict[str, Any]] | None:
    """For a typed answer: (step, answers so far) after checking again that the sender may still
    create events; None after telling them why not."""
    if not await can_organize(session, actor, member, organization.id or 0):
        await state.clear()
        await message.answer(refusal())
        return None
    step = STEP_OF_STATE.get(await state.get_state() or "")
    draft = (await state.get_data()).get("draft")
    if step is None or not isinstance(draft, dict) or not draft.get("zone"):
        await state.clear()
        await message.answer(_("This dialog has expired. Send /newevent to start again."))
        return None
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return None
    return step, dict(draft)


@router.message(
    StateFilter(*DIALOG_STATES),
    F.text,
    flags=rights(Action.MANAGE_EVENTS),
)
async def dialog_answer(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    found = await _dialog_step(message, actor, member, session, organization, state)
    if found is None:
        return
    step, draft = found
    text, zone, now = message.text or "", draft["zone"], utcnow()
    if step in ("reminders", "audience", "claim_window", "repeat"):
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    try:
        if step == "title":
            draft["title"] = service.validate_title(text)
        elif step == "description":
            draft["description"] = service.validate_description(text)
        elif step == "start":
            moment = parse_local_datetime(text, zone, now)
            draft["pending_start"] = moment.utc.isoformat()
            await state.update_data(draft=draft)
            await _confirm_start(message, moment.utc, zone, i18n, "start_ok", "start_change", 0)
            return
        elif step == "end":
            starts_at = _moment(draft.get("starts_at"))
            assert starts_at is not None
            ends_at = _parse_end(text, starts_at, zone, now)
            service.validate_times(starts_at, ends_at, None, now, check_start=False)
            draft["ends_at"] = ends_at.isoformat()
        elif step == "place":
            draft["place"], draft["online_url"] = parse_place(text)
            if draft["place"] is None and draft["online_url"] is None:
                await message.answer(_("That looks empty. Please type your answer."))
                return
        elif step == "capacity":
            capacity = service.validate_capacity(text)
            if capacity is None:
                raise EventError("capacity_range", service.CAPACITY_MAX)
            draft["capacity"] = capacity
        elif step == "deadline":
            starts_at = _moment(draft.get("starts_at"))
            assert starts_at is not None
            deadline = parse_local_datetime(text, zone, now).utc
            service.validate_times(starts_at, _moment(draft.get("ends_at")), deadline, now, check_start=False)
            draft["rsvp_deadline"] = deadline.isoformat()
    except EventError as error:
        await message.answer(error_text(error))
        return
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    await _next(bot, message.chat.id, state, step, draft)


def _parse_end(text: str, starts_at: datetime, zone: str, now: datetime) -> datetime:
    """A bare time is on the start's day (in the organizer's zone); else a full date and time."""
    minutes = parse_clock(text)
    if minutes is not None:
        local_day = starts_at.astimezone(ZoneInfo(zone)).date()
        return local_to_utc(local_day, minutes, ZoneInfo(zone))
    return parse_local_datetime(text, zone, now, allow_past=True).utc


async def _confirm_start(
    message: Message, moment: datetime, zone: str, i18n: I18n, ok: str, change: str, event_id: int
) -> None:
    when = format_when(moment, i18n.current_locale, zone, "words")
    builder = InlineKeyboardBuilder()
    # The moment this message shows rides on its button: an older echo cannot confirm a newer time.
    builder.button(
        text=_("✅ Correct"), callback_data=EventAdmin(action=ok, id=event_id, value=_token(moment))
    )
    builder.button(text=_("✏️ Change"), callback_data=EventAdmin(action=change, id=event_id))
    builder.adjust(2)
    await message.answer(
        _("It starts on {when}. Is that right?").format(when=escape(when)), reply_markup=builder.as_markup()
    )


async def _dialog_button(
    query: CallbackQuery,
    callback_data: EventAdmin,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    bot: Bot,
) -> None:
    """Buttons of the /newevent questions: valid only in the step they belong to."""
    action, value, chat_id = callback_data.action, callback_data.value, query.from_user.id
    current = await state.get_state()
    data = await state.get_data()
    draft = dict(data.get("draft") or {})
    step = STEP_OF_STATE.get(current or "")
    if (
        action == "skip"
        and value == "tr_description"
        and current == EventStates.translation_description.state
    ):
        await _save_translation(query, session, organization, member, state, i18n, bot, None)
        return
    expected = {
        "skip": SKIPPABLE.get(value),
        "start_ok": EventStates.start,
        "start_change": EventStates.start,
        "nolimit": EventStates.capacity,
        "rem": EventStates.reminders,
        "aud": EventStates.audience,
        "aud_i": EventStates.audience,
        "aud_l": EventStates.audience,
        "claim": EventStates.claim_window,
        "rep": EventStates.repeat,
    }.get(action)
    if expected is None or current != expected.state or step is None or not draft.get("zone"):
        stale_button(callback_answer)
        return
    if step == "audience":
        await _audience_button(query, callback_data, state, callback_answer, bot, draft)
        return
    if action == "claim" and value not in CLAIM_WINDOWS:  # checked before the question is closed
        stale_button(callback_answer)
        return
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)  # answered: the question is done
    if action == "skip":
        await _next(bot, chat_id, state, step, draft)
    elif action == "start_change":
        draft.pop("pending_start", None)
        await state.update_data(draft=draft)
        await _ask(bot, chat_id, state, "start", draft)
    elif action == "start_ok":
        pending = _moment(draft.pop("pending_start", None))
        if pending is None or _token(pending) != value:
            stale_button(callback_answer)
            return
        if pending <= utcnow():
            await bot.send_message(chat_id, date_error_text(DateError("past")))
            await _ask(bot, chat_id, state, "start", draft)
            return
        draft["starts_at"] = pending.isoformat()
        await _next(bot, chat_id, state, step, draft)
    elif action == "nolimit":
        draft["capacity"] = None
        await _next(bot, chat_id, state, step, draft)
    elif action == "rem":
        if value not in REMINDERS:
            stale_button(callback_answer)
            return
        draft["reminders"] = REMINDERS[value]
        await _next(bot, chat_id, state, step, draft)
    elif action == "claim":
        draft["claim_window"] = CLAIM_WINDOWS[value]
        await _next(bot, chat_id, state, step, draft)
    elif action == "rep":
        if value != "once" and value not in RULES:
            stale_button(callback_answer)
            return
        draft["repeat"] = value
        await state.update_data(draft=draft)
        await _create(query, member, session, organization, state, i18n, bot, draft)


async def _create(
    query: CallbackQuery,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
    draft: dict[str, Any],
) -> None:
    """The end of the dialog: the draft (or the series of drafts) is written, then previewed."""
    chat_id, now, zone = query.from_user.id, utcnow(), draft["zone"]
    starts_at = _moment(draft.get("starts_at"))
    if starts_at is None or not draft.get("title"):
        await state.clear()
        await bot.send_message(chat_id, _("This dialog has expired. Send /newevent to start again."))
        return
    ends_at, deadline = _moment(draft.get("ends_at")), _moment(draft.get("rsvp_deadline"))
    fields: dict[str, Any] = {
        "title": draft["title"],
        "description": draft.get("description") or "",
        "language": draft.get("language") or organization.default_language,
        "place": draft.get("place"),
        "online_url": draft.get("online_url"),
        "capacity": draft.get("capacity"),
        "reminder_offsets": draft.get("reminders", REMINDERS["dh"]),
        "audience": draft.get("audience") or {},
        "claim_window_hours": draft.get("claim_window") if draft.get("capacity") is not None else None,
        "created_by_member_id": member.id if member else None,
    }
    repeat = draft.get("repeat", "once")
    try:
        if repeat == "once":
            event = await service.create_event(
                session,
                organization_id=organization.id or 0,
                starts_at=starts_at,
                ends_at=ends_at,
                rsvp_deadline=deadline,
                timezone=zone,
                now=now,
                **fields,
            )
            events = [event]
        else:
            local = starts_at.astimezone(ZoneInfo(zone))
            duration = int((ends_at - starts_at).total_seconds() // 60) if ends_at else None
            _series, events = await create_series(
                session,
                organization_id=organization.id or 0,
                rule=RULES[repeat],
                timezone=zone,
                starts_on=local.date(),
                local_start=local.hour * 60 + local.minute,
                now=now,
                duration_minutes=duration,
                weekday=local.weekday(),
                nth=_weekday_position(starts_at, zone)[0] if repeat == "monthly" else None,
                count=SERIES_COUNT,
                **fields,
            )
            if deadline is not None:  # each date closes answers as long before its start
                lead = starts_at - deadline
                for occurrence in events:
                    await service.update_event(
                        session, occurrence, organization, now, rsvp_deadline=occurrence.starts_at - lead
                    )
    except EventError as error:
        await session.rollback()
        await bot.send_message(chat_id, error_text(error))
        back = {"past_start": "start", "deadline_in_past": "deadline"}.get(error.reason, "repeat")
        await _ask(bot, chat_id, state, back, draft)
        return
    await state.clear()
    first = events[0]
    reach = await service.count_audience(session, first)
    header = (
        _("👁 Preview: this is how members will see it. Nothing is sent until you press Publish.")
        + "\n"
        + ngettext(
            "This event reaches <b>{count}</b> member.", "This event reaches <b>{count}</b> members.", reach
        ).format(count=reach)
    )
    if repeat != "once":
        last = format_date(
            events[-1].starts_at.astimezone(ZoneInfo(zone)), "long", locale=i18n.current_locale
        )
        header += "\n" + ngettext(
            "🔁 {rule}: {count} date, the last on {last}.",
            "🔁 {rule}: {count} dates, the last on {last}.",
            len(events),
        ).format(rule=escape(_rule_label(repeat, starts_at, zone)), count=len(events), last=escape(last))
    await bot.send_message(chat_id, header)
    await bot.send_message(
        chat_id,
        await _card(session, first, organization, i18n.current_locale, zone),
        reply_markup=_draft_keyboard(first),
    )


async def _card(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    locale: str,
    zone: str,
    version: str | None = None,
) -> str:
    """The card as members see it (in `locale`, the organizer's zone)."""
    counts = await service.counts(session, event.id or 0)
    chosen = version or service.version_for(event, locale, organization.default_language)
    return event_card(event, chosen, locale, zone, counts)


def _draft_keyboard(event: Event) -> InlineKeyboardMarkup:
    ident = event.id or 0
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📤 Publish"), callback_data=EventAdmin(action="publish", id=ident))
    builder.button(text=_("🌐 Add a translation"), callback_data=EventAdmin(action="translate", id=ident))
    builder.button(text=_("🗑 Discard"), callback_data=EventAdmin(action="discard", id=ident))
    builder.adjust(1, 2)
    return builder.as_markup()


# -- typed steps after the draft: translations and edits ------------------------------------------


async def _step_allowed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> bool:
    if not await can_organize(session, actor, member, organization.id or 0):
        await state.clear()
        await message.answer(refusal())
        return False
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return False
    return True


async def _event_of_step(
    message: Message, session: AsyncSession, organization: Organization, state: FSMContext, key: str
) -> tuple[Event, dict[str, Any]] | None:
    info = (await state.get_data()).get(key)
    event = None
    if isinstance(info, dict) and info.get("event_id"):
        event = await session.get(Event, int(info["event_id"]))
    if (
        event is None
        or event.organization_id != organization.id
        or event.training_id is not None
        or event.status not in OPEN
    ):
        await state.clear()
        await message.answer(_("This event can no longer be changed."))
        return None
    return event, dict(info)  # type: ignore[arg-type]


@router.message(EventStates.translation_title, F.text, flags=rights(Action.MANAGE_EVENTS))
async def translation_title(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    if not await _step_allowed(message, actor, member, session, organization, state):
        return
    found = await _event_of_step(message, session, organization, state, "translate")
    if found is None:
        return
    _event, info = found
    try:
        info["title"] = service.validate_title(message.text or "")
    except EventError as error:
        await message.answer(error_text(error))
        return
    await state.update_data(translate=info)
    await state.set_state(EventStates.translation_description)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=EventAdmin(action="skip", value="tr_description"))
    await message.answer(
        _("Now the description in {language}, or press Skip to show the original one.").format(
            language=language_name(info.get("language", ""))
        ),
        reply_markup=builder.as_markup(),
    )


@router.message(EventStates.translation_description, F.text, flags=rights(Action.MANAGE_EVENTS))
async def translation_description(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    if not await _step_allowed(message, actor, member, session, organization, state):
        return
    try:
        description = service.validate_description(message.text or "")
    except EventError as error:
        await message.answer(error_text(error))
        return
    await _save_translation(message, session, organization, member, state, i18n, bot, description)


async def _save_translation(
    source: Message | CallbackQuery,
    session: AsyncSession,
    organization: Organization,
    member: Member | None,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
    description: str | None,
) -> None:
    chat_id = source.from_user.id if source.from_user else 0
    info = (await state.get_data()).get("translate")
    event = None
    if isinstance(info, dict) and info.get("event_id"):
        event = await session.get(Event, int(info["event_id"]))
    language = info.get("language") if isinstance(info, dict) else None
    if (
        event is None
        or event.organization_id != organization.id
        or event.training_id is not None
        or event.status not in OPEN
        or language not in SHIPPED_LANGUAGES
        or not info.get("title")  # type: ignore[union-attr]
    ):
        await state.clear()
        await bot.send_message(chat_id, _("This event can no longer be changed."))
        return
    entry = {"title": info["title"]}  # type: ignore[index]
    if description:
        entry["description"] = description
    translations = {**event.translations, language: entry}
    try:
        await update_series_from(session, event, organization, utcnow(), translations=translations)
    except EventError as error:
        await bot.send_message(chat_id, error_text(error))
        return
    await state.clear()
    zone = member_zone(member, organization)
    await bot.send_message(
        chat_id,
        _("✅ Translation saved: {language}. Members who use it will see:").format(
            language=language_name(language)  # type: ignore[arg-type]
        ),
    )
    keyboard = _draft_keyboard(event) if event.status == EventStatus.DRAFT else None
    with i18n.use_locale(language):  # type: ignore[arg-type]
        card = await _card(session, event, organization, language, zone, version=language)  # type: ignore[arg-type]
    await bot.send_message(chat_id, card, reply_markup=keyboard)


@router.message(EventStates.edit_value, F.text, flags=rights(Action.MANAGE_EVENTS))
async def edit_value(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
    delivery: DeliveryEngine,
) -> None:
    if not await _step_allowed(message, actor, member, session, organization, state):
        return
    found = await _event_of_step(message, session, organization, state, "edit")
    if found is None:
        return
    event, info = found
    field, text, now = info.get("field"), message.text or "", utcnow()
    zone = member_zone(member, organization)
    try:
        if field == "title":
            changes: dict[str, Any] = {"title": service.validate_title(text)}
        elif field == "description":
            changes = {"description": service.validate_description(text)}
        elif field == "place":
            place, url = parse_place(text)
            if place is None and url is None:
                await message.answer(_("That looks empty. Please type your answer."))
                return
            changes = {"place": place, "online_url": url}
        elif field == "capacity":
            capacity = service.validate_capacity(text)
            if capacity is None:
                raise EventError("capacity_range", service.CAPACITY_MAX)
            changes = {"capacity": capacity}
        elif field == "start":
            moment = parse_local_datetime(text, zone, now)
            info["pending"] = moment.utc.isoformat()
            await state.update_data(edit=info)
            await _confirm_start(
                message, moment.utc, zone, i18n, "edit_start_ok", "edit_start_change", event.id or 0
            )
            return
        else:
            await state.clear()
            await message.answer(_("This event can no longer be changed."))
            return
    except EventError as error:
        await message.answer(error_text(error))
        return
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    await _apply_edit(
        bot, message.chat.id, session, organization, member, state, i18n, delivery, event, info, changes
    )


async def _apply_edit(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    organization: Organization,
    member: Member | None,
    state: FSMContext,
    i18n: I18n,
    delivery: DeliveryEngine,
    event: Event,
    info: dict[str, Any],
    changes: dict[str, Any],
) -> bool:
    """Apply an edit to the event (or to it and the later dates of its series), report how many
    members were told, and show the updated event. False (after saying why) if it is refused."""
    now = utcnow()
    every = info.get("scope") == "all" and event.series_id is not None
    current = await session.get(Organization, organization.id) or organization
    try:
        if every:
            results = await update_series_from(session, event, current, now, **changes)
        else:
            if "starts_at" in changes:
                changes = _moved(event, changes["starts_at"], now)
            results = [await service.update_event(session, event, current, now, **changes)]
    except EventError as error:
        await bot.send_message(chat_id, error_text(error))
        return False
    await state.clear()
    notified = sum(result.notified for result in results)
    await session.commit()
    lines = [
        ngettext("✅ Saved for {count} date.", "✅ Saved for {count} dates.", len(results)).format(
            count=len(results)
        )
        if every
        else _("✅ Saved.")
    ]
    if event.status == EventStatus.PUBLISHED and set(changes) & {"starts_at", "place", "online_url"}:
        lines.append(
            ngettext(
                "{count} member who answered is told about the change.",
                "{count} members who answered are told about the change.",
                notified,
            ).format(count=notified)
        )
    await bot.send_message(chat_id, "\n".join(lines))
    if notified:
        delivery.wake()
    await _send_manage(
        bot, chat_id, session, event, organization, i18n.current_locale, member_zone(member, organization)
    )
    return True


def _moved(event: Event, new_start: datetime, now: datetime) -> dict[str, Any]:
    """A new start keeps the duration; a deadline that would fall after it moves along."""
    changes: dict[str, Any] = {"starts_at": new_start}
    if event.ends_at is not None:
        changes["ends_at"] = new_start + (event.ends_at - event.starts_at)
    if event.rsvp_deadline is not None and event.rsvp_deadline > new_start:
        shifted = event.rsvp_deadline + (new_start - event.starts_at)
        changes["rsvp_deadline"] = shifted if shifted > now else None
    return changes


@router.message(
    StateFilter(
        *DIALOG_STATES,
        EventStates.translation_title,
        EventStates.translation_description,
        EventStates.edit_value,
    ),
    flags=rights(Action.MANAGE_EVENTS),
)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


# -- /myevents ----------------------------------------------------------------------------------


async def _list_page(
    session: AsyncSession, organization: Organization, offset: int, locale: str, zone: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    offset = max(0, offset)
    page = await service.upcoming_events(
        session, organization.id, None, utcnow(), offset, PAGE_SIZE, include_drafts=True
    )
    if not page.events and offset > 0:  # the list got shorter since that button was sent
        offset = 0
        page = await service.upcoming_events(
            session, organization.id, None, utcnow(), 0, PAGE_SIZE, include_drafts=True
        )
    if not page.events:
        return _("There are no upcoming events. /newevent creates one."), None
    lines = [
        _("🗓 <b>Upcoming events</b> ({first}–{last} of {total})").format(
            first=offset + 1, last=offset + len(page.events), total=page.total
        )
    ]
    builder = InlineKeyboardBuilder()
    for number, event in enumerate(page.events, start=offset + 1):
        title = _title(event, locale, organization)
        counts = await service.counts(session, event.id or 0)
        status = " · " + _("📝 draft") if event.status == EventStatus.DRAFT else ""
        repeat = " 🔁" if event.series_id else ""
        lines += [
            "",
            f"{number}. <b>{escape(title)}</b>{repeat}{status}",
            f"🕒 {escape(when_text(event, locale, zone))}",
            _("✅ Going: {going} · 🤔 Maybe: {maybe}").format(
                going=counts[RsvpStatus.GOING], maybe=counts[RsvpStatus.MAYBE]
            ),
        ]
        label = f"{number}. {title}"
        builder.button(
            text=label if len(label) <= 40 else label[:39] + "…",
            callback_data=EventAdmin(action="open", id=event.id or 0),
        )
    sizes = [1] * len(page.events)
    navigation = 0
    if offset > 0:
        builder.button(text="◀️", callback_data=EventAdmin(action="page", id=max(0, offset - PAGE_SIZE)))
        navigation += 1
    if offset + PAGE_SIZE < page.total:
        builder.button(text="▶️", callback_data=EventAdmin(action="page", id=offset + PAGE_SIZE))
        navigation += 1
    if navigation:
        sizes.append(navigation)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def _manage_keyboard(event: Event) -> InlineKeyboardMarkup:
    ident = event.id or 0
    builder = InlineKeyboardBuilder()

    def add(text: str, action: str) -> None:
        builder.button(text=text, callback_data=EventAdmin(action=action, id=ident))

    add(_("👥 Attendees"), "att")
    add(_("📄 CSV"), "csv")
    add(_("✏️ Edit"), "edit")
    add(_("🔑 Check-in code"), "code")
    if event.status == EventStatus.DRAFT:
        builder.button(
            text=_("📤 Publish"), callback_data=EventAdmin(action="publish", id=ident, value="manage")
        )
        add(_("🗑 Discard"), "discard")
    else:
        add(_("📢 Post in a group"), "group")
        add(_("✖ Cancel event"), "cancel")
    builder.adjust(2)
    return builder.as_markup()


async def _manage_text(
    session: AsyncSession, event: Event, organization: Organization, locale: str, zone: str
) -> str:
    head = _("🗓 Event #{id}").format(id=event.id)
    if event.status == EventStatus.DRAFT:
        head += " · " + _("📝 draft, not published yet")
    if event.series_id:
        head += " · " + _("🔁 repeating")
    return head + "\n\n" + await _card(session, event, organization, locale, zone)


async def _send_manage(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    event: Event,
    organization: Organization,
    locale: str,
    zone: str,
) -> None:
    if event.status not in OPEN:
        return
    await bot.send_message(
        chat_id,
        await _manage_text(session, event, organization, locale, zone),
        reply_markup=_manage_keyboard(event),
    )


# -- buttons ------------------------------------------------------------------------------------

DIALOG_ACTIONS: Final = frozenset(
    {"skip", "start_ok", "start_change", "nolimit", "rem", "aud", "aud_i", "aud_l", "claim", "rep"}
)


@router.callback_query(EventAdmin.filter(), flags=rights(Action.MANAGE_EVENTS))
async def event_button(
    query: CallbackQuery,
    callback_data: EventAdmin,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
) -> None:
    if not await can_organize(session, actor, member, organization.id or 0):
        toast(callback_answer, refusal(), alert=True)
        return
    action = callback_data.action
    if action in DIALOG_ACTIONS:
        await _dialog_button(
            query, callback_data, member, session, organization, state, callback_answer, i18n, bot
        )
        return
    locale, zone, chat_id = i18n.current_locale, member_zone(member, organization), query.from_user.id
    message = query.message if isinstance(query.message, Message) else None
    if action == "page":
        if message is not None:
            text, keyboard = await _list_page(session, organization, callback_data.id, locale, zone)
            await message.edit_text(text, reply_markup=keyboard)
        return
    statuses = (EventStatus.DRAFT,) if action in {"publish", "discard", "translate", "tr_lang"} else OPEN
    event = await session.get(Event, callback_data.id)
    if (
        event is None
        or event.organization_id != organization.id
        or event.training_id is not None  # a training session changes with its training only
        or event.status not in statuses
    ):
        stale_button(callback_answer)
        return
    ident = event.id or 0
    if action == "open":
        await _send_manage(bot, chat_id, session, event, organization, locale, zone)
    elif action == "publish":
        await _publish(query, callback_data, session, organization, event, callback_answer, delivery, bot)
    elif action == "discard":
        await _discard(session, event)
        await state.clear()
        if message is not None:
            await message.edit_text(_("🗑 The draft was discarded."))
    elif action == "translate":
        builder = InlineKeyboardBuilder()
        for code in SHIPPED_LANGUAGES:
            if code != event.language:
                mark = "✅ " if code in event.translations else ""
                builder.button(
                    text=mark + language_name(code),
                    callback_data=EventAdmin(action="tr_lang", id=ident, value=code),
                )
        builder.adjust(2)
        await bot.send_message(
            chat_id, _("Which language is the translation in?"), reply_markup=builder.as_markup()
        )
    elif action == "tr_lang":
        if callback_data.value not in SHIPPED_LANGUAGES or callback_data.value == event.language:
            stale_button(callback_answer)
            return
        await state.set_state(EventStates.translation_title)
        await state.update_data(translate={"event_id": ident, "language": callback_data.value}, edit=None)
        await bot.send_message(
            chat_id,
            _("Send the title in {language} (at most {limit} characters).").format(
                language=language_name(callback_data.value), limit=service.TITLE_MAX
            ),
        )
    elif action == "att":
        text, keyboard = await _attendees_view(session, event, organization, locale, callback_data.page)
        if callback_data.value == "nav" and message is not None:
            await message.edit_text(text, reply_markup=keyboard)
        else:
            await bot.send_message(chat_id, text, reply_markup=keyboard)
    elif action == "mark":
        await _toggle_attendance(query, callback_data, session, event, organization, locale, callback_answer)
    elif action == "csv":
        title = _title(event, locale, organization)
        await bot.send_document(
            chat_id,
            BufferedInputFile(await service.export_csv(session, ident), filename=f"event-{ident}.csv"),
            caption=_("👥 Answers for “{title}”").format(title=escape(title)),
        )
    elif action in {
        "edit",
        "ef",
        "scope_one",
        "scope_all",
        "edit_nolimit",
        "edit_start_ok",
        "edit_start_change",
    }:
        await _edit_button(
            query,
            callback_data,
            member,
            session,
            organization,
            state,
            callback_answer,
            delivery,
            i18n,
            bot,
            event,
        )
    elif action == "cancel":
        title = _title(event, locale, organization)
        builder = InlineKeyboardBuilder()
        builder.button(text=_("✖ Yes, cancel it"), callback_data=EventAdmin(action="cancel_yes", id=ident))
        builder.button(text=_("← No, keep it"), callback_data=EventAdmin(action="keep", id=ident))
        builder.adjust(1)
        await bot.send_message(
            chat_id,
            _("Cancel “{title}” on {when}? Everyone who answered will be told.").format(
                title=escape(title), when=escape(when_text(event, locale, zone))
            ),
            reply_markup=builder.as_markup(),
        )
    elif action == "keep":
        if message is not None:
            await message.edit_text(_("Nothing was changed."))
    elif action == "cancel_yes":
        current = await session.get(Organization, organization.id) or organization
        told = await service.cancel_event(session, event, current, utcnow())
        await session.commit()
        title = _title(event, locale, organization)
        text = ngettext(
            "✖ “{title}” is cancelled. {count} member who answered is told.",
            "✖ “{title}” is cancelled. {count} members who answered are told.",
            told,
        ).format(title=escape(title), count=told)
        if message is not None:
            await message.edit_text(text)
        else:
            await bot.send_message(chat_id, text)
        if told:
            delivery.wake()
    elif action in {"code", "newcode"}:
        if action == "newcode" or not event.checkin_code:
            event.checkin_code = service.new_checkin_code()
            event.updated_at = utcnow()
            session.add(event)
            await session.flush()
        text = _code_text(event, organization, locale)
        builder = InlineKeyboardBuilder()
        builder.button(text=_("🔄 New code"), callback_data=EventAdmin(action="newcode", id=ident))
        if action == "newcode" and message is not None:
            await message.edit_text(text, reply_markup=builder.as_markup())
        else:
            await bot.send_message(chat_id, text, reply_markup=builder.as_markup())
    elif action == "group":
        await bot.send_message(
            chat_id,
            _(
                "📢 To post this event in a group chat:\n"
                "1. Add me to the group.\n"
                "2. In the group, send <code>/postevent {id}</code>\n\n"
                "Only organizers can post events there. Members answer with the buttons under the post."
            ).format(id=ident),
        )
    else:
        stale_button(callback_answer)


def _code_text(event: Event, organization: Organization, locale: str) -> str:
    title = _title(event, locale, organization)
    return _(
        "🔑 Check-in code for “{title}”: <code>{code}</code>\n\n"
        "Members send this code to the bot during the event (from an hour before the start until an "
        "hour after the end) and their attendance is recorded. Show it on a screen or read it out."
    ).format(title=escape(title), code=escape(event.checkin_code or ""))


async def _publish(
    query: CallbackQuery,
    callback_data: EventAdmin,
    session: AsyncSession,
    organization: Organization,
    event: Event,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    current = await session.get(Organization, organization.id) or organization  # quiet hours may change
    now = utcnow()
    try:
        series = await session.get(EventSeries, event.series_id) if event.series_id else None
        if series is not None:
            told = await publish_series(session, series, current, now)
        else:
            told = await service.publish(session, event, current, now)
    except EventError as error:
        await session.rollback()
        texts = {
            "past_start": lambda: _(
                "The start time has passed. Change it with ✏️ Edit in /myevents, then publish."
            ),
            "deadline_in_past": lambda: _(
                "The deadline for answers has passed. Discard this draft and create the event again."
            ),
        }
        text = texts[error.reason]() if error.reason in texts else error_text(error)
        toast(callback_answer, text, alert=True)
        return
    await session.commit()
    if isinstance(query.message, Message):
        # The preview's buttons are done; the /myevents card gets the buttons of a published event.
        keyboard = _manage_keyboard(event) if callback_data.value == "manage" else None
        await query.message.edit_reply_markup(reply_markup=keyboard)
    await bot.send_message(
        query.from_user.id,
        ngettext(
            "📤 Published: {count} member will be told.", "📤 Published: {count} members will be told.", told
        ).format(count=told)
        + "\n"
        + _("/myevents shows the answers, the check-in code and more."),
    )
    delivery.wake()


async def _discard(session: AsyncSession, event: Event) -> None:
    """A draft (and the other drafts of its series) simply goes: members never saw it."""
    if event.series_id is None:
        await service.delete_draft(session, event)
        return
    series_id = event.series_id
    for occurrence in await series_events(session, series_id):
        if occurrence.status == EventStatus.DRAFT:
            await service.delete_draft(session, occurrence)
    remaining = (
        await session.exec(select(func.count()).select_from(Event).where(Event.series_id == series_id))
    ).one()
    series = await session.get(EventSeries, series_id)
    if not remaining and series is not None:
        await session.delete(series)
        await session.flush()


# -- attendees ----------------------------------------------------------------------------------


def _who(row: service.Attendee) -> str:
    """An attendee as HTML (escaped)."""
    name = escape(row.name) if row.name else _("member #{id}").format(id=row.member_id)
    return f"{name} (@{escape(row.username)})" if row.username else name


async def _attendees_view(
    session: AsyncSession, event: Event, organization: Organization, locale: str, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = await service.attendees(session, event.id or 0)
    counts = await service.counts(session, event.id or 0)
    title = _title(event, locale, organization)
    lines = [
        _("👥 <b>{title}</b>").format(title=escape(title)),
        _("✅ Going: {going} · 🤔 Maybe: {maybe} · ❌ Can't go: {no}").format(
            going=counts[RsvpStatus.GOING], maybe=counts[RsvpStatus.MAYBE], no=counts[RsvpStatus.NOT_GOING]
        ),
        _("⏳ Waitlist: {waiting} · 🎟 Offered a seat: {offered}").format(
            waiting=counts[RsvpStatus.WAITLISTED], offered=counts[RsvpStatus.OFFERED]
        ),
    ]
    sections = (
        (RsvpStatus.GOING, _("<b>Going</b>")),
        (RsvpStatus.OFFERED, _("<b>Offered a seat</b>")),
        (RsvpStatus.MAYBE, _("<b>Maybe</b>")),
        (RsvpStatus.WAITLISTED, _("<b>Waitlist</b>")),
        (RsvpStatus.NOT_GOING, _("<b>Can't go</b>")),
    )
    going = [row for row in rows if row.status == RsvpStatus.GOING]
    footer = [_("Tap a name below to mark who attended (✔️).")] if going else []
    used = sum(len(line) + 1 for line in lines + footer) + 120
    shown = 0
    for status, heading in sections:
        group = [row for row in rows if row.status == status]
        if not group:
            continue
        if used + len(heading) + 2 > TEXT_BUDGET:
            break
        lines += ["", heading]
        used += len(heading) + 2
        for number, row in enumerate(group, start=1):
            line = f"{number}. {_who(row)}" + (" ✔️" if row.attended else "")
            if used + len(line) + 1 > TEXT_BUDGET:
                break
            lines.append(line)
            used += len(line) + 1
            shown += 1
    if shown < len(rows):
        lines += ["", _("…and {count} more: the CSV file has everyone.").format(count=len(rows) - shown)]
    if footer:
        lines += ["", *footer]
    builder = InlineKeyboardBuilder()
    offset = max(0, min(offset, max(0, len(going) - 1)))
    offset -= offset % TOGGLES
    for row in going[offset : offset + TOGGLES]:
        name = row.name or (f"@{row.username}" if row.username else f"#{row.member_id}")
        label = f"{'✅' if row.attended else '▫️'} {name}"
        builder.button(
            text=label if len(label) <= 40 else label[:39] + "…",
            callback_data=EventAdmin(action="mark", id=event.id or 0, member=row.member_id, page=offset),
        )
    sizes = [2] * ((min(TOGGLES, len(going) - offset) + 1) // 2) if going else []
    navigation = 0
    if offset > 0:
        builder.button(
            text="◀️",
            callback_data=EventAdmin(action="att", id=event.id or 0, value="nav", page=offset - TOGGLES),
        )
        navigation += 1
    if offset + TOGGLES < len(going):
        builder.button(
            text="▶️",
            callback_data=EventAdmin(action="att", id=event.id or 0, value="nav", page=offset + TOGGLES),
        )
        navigation += 1
    if navigation:
        sizes.append(navigation)
    return "\n".join(lines), _markup(builder, *sizes)


async def _toggle_attendance(
    query: CallbackQuery,
    callback_data: EventAdmin,
    session: AsyncSession,
    event: Event,
    organization: Organization,
    locale: str,
    callback_answer: CallbackAnswer,
) -> None:
    answer = await service.my_answer(session, event.id or 0, callback_data.member)
    if answer is None or answer.status != RsvpStatus.GOING:
        stale_button(callback_answer)
        return
    await service.mark_attendance(session, event.id or 0, callback_data.member, not answer.attended, utcnow())
    toast(
        callback_answer, _("Marked as attended.") if answer.attended else _("No longer marked as attended.")
    )
    if isinstance(query.message, Message):
        text, keyboard = await _attendees_view(session, event, organization, locale, callback_data.page)
        await query.message.edit_text(text, reply_markup=keyboard)


# -- editing ------------------------------------------------------------------------------------


async def _edit_button(
    query: CallbackQuery,
    callback_data: EventAdmin,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
    event: Event,
) -> None:
    action, value, chat_id, ident = (
        callback_data.action,
        callback_data.value,
        query.from_user.id,
        event.id or 0,
    )
    if action == "edit":
        labels = {
            "title": _("Title"),
            "description": _("Description"),
            "start": _("Start time"),
            "place": _("Place or link"),
            "capacity": _("Capacity"),
        }
        builder = InlineKeyboardBuilder()
        for field in EDIT_FIELDS:
            builder.button(text=labels[field], callback_data=EventAdmin(action="ef", id=ident, value=field))
        builder.adjust(2)
        await bot.send_message(chat_id, _("What do you want to change?"), reply_markup=builder.as_markup())
        return
    if action in {"ef", "scope_one", "scope_all"}:
        if value not in EDIT_FIELDS:
            stale_button(callback_answer)
            return
        if action == "ef" and event.series_id is not None:
            builder = InlineKeyboardBuilder()
            builder.button(
                text=_("This date only"), callback_data=EventAdmin(action="scope_one", id=ident, value=value)
            )
            builder.button(
                text=_("All future dates"),
                callback_data=EventAdmin(action="scope_all", id=ident, value=value),
            )
            builder.adjust(1)
            await bot.send_message(
                chat_id,
                _("This event repeats. Change this date only, or this one and all later ones?"),
                reply_markup=builder.as_markup(),
            )
            return
        scope = "all" if action == "scope_all" else "one"
        await state.set_state(EventStates.edit_value)
        await state.update_data(edit={"event_id": ident, "field": value, "scope": scope}, translate=None)
        await bot.send_message(
            chat_id,
            _edit_prompt(value, member_zone(member, organization)),
            reply_markup=_edit_buttons(value, ident),
        )
        return
    info = (await state.get_data()).get("edit")
    if (
        await state.get_state() != EventStates.edit_value.state
        or not isinstance(info, dict)
        or info.get("event_id") != ident
    ):
        stale_button(callback_answer)
        return
    if action == "edit_nolimit" and info.get("field") == "capacity":
        await _apply_edit(
            bot,
            chat_id,
            session,
            organization,
            member,
            state,
            i18n,
            delivery,
            event,
            info,
            {"capacity": None},
        )
    elif action == "edit_start_ok" and info.get("field") == "start" and info.get("pending"):
        pending = _moment(info["pending"])
        if pending is None or _token(pending) != value:
            stale_button(callback_answer)
            return
        if pending <= utcnow():
            await bot.send_message(chat_id, date_error_text(DateError("past")))
            return
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        await _apply_edit(
            bot,
            chat_id,
            session,
            organization,
            member,
            state,
            i18n,
            delivery,
            event,
            info,
            {"starts_at": pending},
        )
    elif action == "edit_start_change" and info.get("field") == "start":
        info.pop("pending", None)
        await state.update_data(edit=info)
        await bot.send_message(chat_id, _edit_prompt("start", member_zone(member, organization)))
    else:
        stale_button(callback_answer)


def _edit_prompt(field: str, zone: str) -> str:
    if field == "title":
        return _("Send the new title (at most {limit} characters).").format(limit=service.TITLE_MAX)
    if field == "description":
        return _("Send the new description (at most {limit} characters).").format(
            limit=service.DESCRIPTION_MAX
        )
    if field == "start":
        return _(
            "Send the new start date and time in your time zone ({zone}), for example 2027-03-14 18:30."
        ).format(zone=escape(zone))
    if field == "place":
        return _("Send the new address, or a link (https://…) for an online event.")
    return _("Send the new number of seats, or press “No limit”.")


def _edit_buttons(field: str, ident: int) -> InlineKeyboardMarkup | None:
    if field != "capacity":
        return None
    builder = InlineKeyboardBuilder()
    builder.button(text=_("No limit"), callback_data=EventAdmin(action="edit_nolimit", id=ident))
    return builder.as_markup()

"""Editing an event from /myevents: pick a field, for a repeating event this date or all later
ones, type the new value (a new start is echoed in words to confirm). Those who answered are told
of a new time or place, in their language; reminders move with the start."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services import events as service
from bot.services.dates import DateError, parse_local_datetime
from bot.services.events.rules import EventError
from bot.services.events.series import update_series_from
from handlers.events.callbacks import EventAdmin
from handlers.events.common import event_of_step, managed_event, send_manage, typed_answer
from handlers.events.new_event_steps import confirm_start, moment, token
from handlers.events.states import EventStates
from handlers.events.texts import date_error_text, error_text, parse_place
from handlers.fallback import stale_button
from storage.models import Event, EventStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
MANAGE: Final = rights(Action.MANAGE_EVENTS)
EDIT_FIELDS: Final = ("title", "description", "start", "place", "capacity")


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


@router.callback_query(EventAdmin.filter(F.action == "edit"), flags=MANAGE)
async def choose_field(
    query: CallbackQuery, callback_data: EventAdmin, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is None:
        return
    labels = {
        "title": _("Title"),
        "description": _("Description"),
        "start": _("Start time"),
        "place": _("Place or link"),
        "capacity": _("Capacity"),
    }
    builder = InlineKeyboardBuilder()
    for field in EDIT_FIELDS:
        builder.button(
            text=labels[field], callback_data=EventAdmin(action="ef", id=event.id or 0, value=field)
        )
    builder.adjust(2)
    await bot.send_message(
        query.from_user.id, _("What do you want to change?"), reply_markup=builder.as_markup()
    )


async def _field_event(
    ctx: Context, callback_data: EventAdmin, callback_answer: CallbackAnswer
) -> Event | None:
    """The event whose field a button names, if the field is one that can be edited."""
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is not None and callback_data.value not in EDIT_FIELDS:
        stale_button(callback_answer)
        return None
    return event


async def _ask_value(
    bot: Bot, chat_id: int, ctx: Context, state: FSMContext, event: Event, field: str, scope: str
) -> None:
    """Wait for the new value of `field`, for this date (`scope` "one") or all later ones ("all")."""
    ident = event.id or 0
    await state.set_state(EventStates.edit_value)
    await state.update_data(edit={"event_id": ident, "field": field, "scope": scope}, translate=None)
    await bot.send_message(chat_id, _edit_prompt(field, ctx.zone), reply_markup=_edit_buttons(field, ident))


@router.callback_query(EventAdmin.filter(F.action == "ef"), flags=MANAGE)
async def field_chosen(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A field was chosen: its new value, or first (for a repeating event) which dates."""
    event = await _field_event(ctx, callback_data, callback_answer)
    if event is None:
        return
    field, ident = callback_data.value, event.id or 0
    if event.series_id is None:
        await _ask_value(bot, query.from_user.id, ctx, state, event, field, "one")
        return
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("This date only"), callback_data=EventAdmin(action="scope_one", id=ident, value=field)
    )
    builder.button(
        text=_("All future dates"), callback_data=EventAdmin(action="scope_all", id=ident, value=field)
    )
    builder.adjust(1)
    await bot.send_message(
        query.from_user.id,
        _("This event repeats. Change this date only, or this one and all later ones?"),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(EventAdmin.filter(F.action.in_({"scope_one", "scope_all"})), flags=MANAGE)
async def scope_chosen(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """This date only, or this one and all later ones: then the new value."""
    event = await _field_event(ctx, callback_data, callback_answer)
    if event is None:
        return
    scope = "all" if callback_data.action == "scope_all" else "one"
    await _ask_value(bot, query.from_user.id, ctx, state, event, callback_data.value, scope)


async def _editing(state: FSMContext, event: Event, callback_answer: CallbackAnswer) -> dict[str, Any] | None:
    """The edit waiting for its value, if it is about this event; None after "no longer active"."""
    info = (await state.get_data()).get("edit")
    if (
        await state.get_state() != EventStates.edit_value.state
        or not isinstance(info, dict)
        or info.get("event_id") != event.id
    ):
        stale_button(callback_answer)
        return None
    return info


@router.callback_query(EventAdmin.filter(F.action == "edit_nolimit"), flags=MANAGE)
async def no_limit(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is None:
        return
    info = await _editing(state, event, callback_answer)
    if info is None:
        return
    if info.get("field") != "capacity":
        stale_button(callback_answer)
        return
    await apply_edit(bot, query.from_user.id, ctx, state, delivery, event, info, {"capacity": None})


@router.callback_query(EventAdmin.filter(F.action == "edit_start_ok"), flags=MANAGE)
async def confirm_new_start(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is None:
        return
    info = await _editing(state, event, callback_answer)
    if info is None:
        return
    if info.get("field") != "start" or not info.get("pending"):
        stale_button(callback_answer)
        return
    pending = moment(info["pending"])
    if pending is None or token(pending) != callback_data.value:
        stale_button(callback_answer)
        return
    if pending <= utcnow():
        await bot.send_message(query.from_user.id, date_error_text(DateError("past")))
        return
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await apply_edit(bot, query.from_user.id, ctx, state, delivery, event, info, {"starts_at": pending})


@router.callback_query(EventAdmin.filter(F.action == "edit_start_change"), flags=MANAGE)
async def change_new_start(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer)
    if event is None:
        return
    info = await _editing(state, event, callback_answer)
    if info is None:
        return
    if info.get("field") != "start":
        stale_button(callback_answer)
        return
    info.pop("pending", None)
    await state.update_data(edit=info)
    await bot.send_message(query.from_user.id, _edit_prompt("start", ctx.zone))


@router.message(StateFilter(EventStates.edit_value), F.text, flags=MANAGE)
async def edit_value(
    message: Message, ctx: Context, state: FSMContext, bot: Bot, delivery: DeliveryEngine
) -> None:
    if not await typed_answer(message):
        return
    found = await event_of_step(message, ctx, state, "edit")
    if found is None:
        return
    event, info = found
    field, text, now, zone = info.get("field"), message.text or "", utcnow(), ctx.zone
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
            typed = parse_local_datetime(text, zone, now)
            info["pending"] = typed.utc.isoformat()
            await state.update_data(edit=info)
            await confirm_start(
                message, typed.utc, zone, ctx.locale, "edit_start_ok", "edit_start_change", event.id or 0
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
    await apply_edit(bot, message.chat.id, ctx, state, delivery, event, info, changes)


async def apply_edit(
    bot: Bot,
    chat_id: int,
    ctx: Context,
    state: FSMContext,
    delivery: DeliveryEngine,
    event: Event,
    info: dict[str, Any],
    changes: dict[str, Any],
) -> bool:
    """Apply an edit to the event (or to it and the later dates of its series), report how many
    members were told, and show the updated event. False (after saying why) if it is refused."""
    now = utcnow()
    every = info.get("scope") == "all" and event.series_id is not None
    try:
        if every:
            results = await update_series_from(ctx.session, event, ctx.organization, now, **changes)
        else:
            if "starts_at" in changes:
                changes = _moved(event, changes["starts_at"], now)
            results = [await service.update_event(ctx.session, event, ctx.organization, now, **changes)]
    except EventError as error:
        await bot.send_message(chat_id, error_text(error))
        return False
    await state.clear()
    notified = sum(result.notified for result in results)
    await ctx.session.commit()
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
    await send_manage(bot, chat_id, ctx, event)
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

"""Editing an event (✏️ Edit on its /myevents card: the composer kit's edit step): the fields,
for a repeating event this date or all later ones first, the typed value checked and applied (a
new start echoed in words to confirm first). Those who answered are told of a new time or place,
in their language; reminders move with the start."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from html import escape
from typing import Any, Final

from aiogram.fsm.context import FSMContext

from bot.i18n import _, ngettext, zone_city
from bot.services import events as service
from bot.services.dates import DateError, parse_local_datetime
from bot.services.events.rules import EventError
from bot.services.events.series import update_series_from
from handlers.composer import Composer, Item, Turn, ask_field, date_error_text
from handlers.composer.steps import current_step, end_step
from handlers.events.common import ComposedEvent, close_question, send_manage
from handlers.events.new_event_steps import confirm_start, moment, token
from handlers.events.texts import (
    ANSWER,
    DESCRIPTION,
    TITLE,
    error_text,
    parse_capacity,
    parse_place,
    refusal,
)
from handlers.events.views import admin_keyboard
from storage.models import Event, EventStatus
from storage.types import utcnow

EDIT_KEY: Final = "event_edit"  # FSM data: {"id", "scope": "one" | "all", "pending": a typed start}


def fields(draft: ComposedEvent) -> list[Item]:
    """What ✏️ Edit offers, in the order of its buttons."""
    start = _("Send the new start date and time in your time zone ({zone}), for example 2027-03-14 18:30.")
    return [
        Item(
            "title",
            _("Send the new title (at most {limit} characters).").format(limit=service.TITLE_MAX),
            TITLE,
            label=_("Title"),
        ),
        Item(
            "description",
            _("Send the new description (at most {limit} characters).").format(limit=service.DESCRIPTION_MAX),
            DESCRIPTION,
            label=_("Description"),
        ),
        Item("start", start.format(zone=escape(zone_city(draft.zone))), ANSWER, label=_("Start time")),
        Item(
            "place",
            _("Send the new address, or a link (https://…) for an online event."),
            ANSWER,
            label=_("Place or link"),
        ),
        Item(
            "capacity",
            _("Send the new number of seats, or press “No limit”."),
            replace(ANSWER, optional=True),
            label=_("Capacity"),
            skip_label=_("No limit"),
        ),
    ]


async def _edit(state: FSMContext, event: Event) -> dict[str, Any]:
    """The edit in progress, if it is about this event."""
    info = (await state.get_data()).get(EDIT_KEY)
    return dict(info) if isinstance(info, dict) and info.get("id") == event.id else {}


async def _keep(state: FSMContext, event: Event, **values: Any) -> None:
    await state.update_data({EDIT_KEY: {**await _edit(state, event), "id": event.id, **values}})


async def pick_scope(turn: Turn, event: Event, key: str) -> bool:
    """A field was chosen: a single event's value is asked at once (True); a repeating event first
    asks which dates the change is for."""
    await _keep(turn.state, event, scope="one", pending=None)
    if event.series_id is None:
        return True
    choices = [(_("This date only"), "scope_one", key), (_("All future dates"), "scope_all", key)]
    await turn.say(
        _("This event repeats. Change this date only, or this one and all later ones?"),
        admin_keyboard(event.id or 0, choices),
    )
    return False


async def ask_value(spec: Composer[Any], turn: Turn, draft: ComposedEvent, key: str, every: bool) -> bool:
    """This date only, or all later ones too: then the field's new value (False: no such field)."""
    await _keep(turn.state, draft.event, scope="all" if every else "one")
    return await ask_field(spec, turn, draft, key)


def _changes(key: str, value: str | None) -> dict[str, Any]:
    """A typed value (None: “No limit”) as the event's new values, or EventError."""
    if key == "title":
        return {"title": service.validate_title(value or "")}
    if key == "description":
        return {"description": service.validate_description(value)}
    if key == "place":
        place, url = parse_place(value or "")
        return {"place": place, "online_url": url}
    return {"capacity": None if value is None else parse_capacity(value)}


async def save_value(turn: Turn, draft: ComposedEvent, key: str, value: str | None) -> str | None:
    """The kit's `save_field`: the change applied (None), or why not (the step goes on); a start
    is only echoed, to be confirmed with its buttons ("": the step goes on, already answered)."""
    try:
        if key != "start":
            return await apply_edit(turn, draft.event, _changes(key, value))
        start = parse_local_datetime(value or "", draft.zone, utcnow(), language=turn.ctx.locale).utc
    except (EventError, DateError) as error:
        return refusal(error)
    await _keep(turn.state, draft.event, pending=start.isoformat())
    await confirm_start(turn, start, draft.zone, "edit_start_ok", "edit_start_change", draft.event.id or 0)
    return ""


async def _start_step(spec: Composer[Any], turn: Turn, event: Event) -> dict[str, Any] | None:
    """The edit while the kit waits for this event's new start; None for a button of another step."""
    step = current_step(spec, await turn.state.get_data(), "edit")
    if step is None or step.get("id") != event.id or step.get("field") != "start":
        return None
    return await _edit(turn.state, event)


async def confirm_new_start(spec: Composer[Any], turn: Turn, event: Event, shown: str) -> bool:
    """✅ Correct under the echo of a typed start: the move is applied (False: an older echo, or
    no start waits to be confirmed)."""
    info = await _start_step(spec, turn, event)
    pending = moment(info.get("pending")) if info is not None else None
    if pending is None or token(pending) != shown:
        return False
    if pending <= utcnow():
        await turn.say(date_error_text(DateError("past")))
        return True
    await close_question(turn)
    error = await apply_edit(turn, event, {"starts_at": pending})
    if error is not None:
        await turn.say(error)
        return True
    await end_step(spec, turn)
    await report_edit(turn, event)
    return True


async def change_new_start(spec: Composer[Any], turn: Turn, draft: ComposedEvent) -> bool:
    """✏️ Change under the echo: the start is asked again."""
    if await _start_step(spec, turn, draft.event) is None:
        return False
    await _keep(turn.state, draft.event, pending=None)
    return await ask_field(spec, turn, draft, "start")


async def apply_edit(turn: Turn, event: Event, changes: dict[str, Any]) -> str | None:
    """Apply an edit to the event (or to it and the later dates of its series), committed; why it
    was refused, or None (then `report_edit` tells the organizer)."""
    now = utcnow()
    every = (await _edit(turn.state, event)).get("scope") == "all" and event.series_id is not None
    try:
        if every:
            results = await update_series_from(turn.ctx.session, event, turn.ctx.organization, now, **changes)
        else:
            if "starts_at" in changes:
                changes = _moved(event, changes["starts_at"], now)
            results = [
                await service.update_event(turn.ctx.session, event, turn.ctx.organization, now, **changes)
            ]
    except EventError as error:
        return error_text(error)
    await turn.ctx.session.commit()
    turn.data["edited"] = (every, results, set(changes))
    return None


async def report_edit(turn: Turn, event: Event) -> None:
    """How many dates changed and how many members are told, then the event as it is now."""
    every, results, changed = turn.data.pop("edited")
    await turn.state.update_data({EDIT_KEY: None})
    notified = sum(result.notified for result in results)
    lines = [
        ngettext("✅ Saved for {count} date.", "✅ Saved for {count} dates.", len(results)).format(
            count=len(results)
        )
        if every
        else _("✅ Saved.")
    ]
    if event.status == EventStatus.PUBLISHED and changed & {"starts_at", "place", "online_url"}:
        lines.append(
            ngettext(
                "{count} member who answered is told about the change.",
                "{count} members who answered are told about the change.",
                notified,
            ).format(count=notified)
        )
    await turn.say("\n".join(lines))
    if notified and turn.delivery is not None:
        turn.delivery.wake()
    await send_manage(turn.bot, turn.chat_id, turn.ctx, event)


def _moved(event: Event, new_start: datetime, now: datetime) -> dict[str, Any]:
    """A new start keeps the duration; a deadline that would fall after it moves along."""
    changes: dict[str, Any] = {"starts_at": new_start}
    if event.ends_at is not None:
        changes["ends_at"] = new_start + (event.ends_at - event.starts_at)
    if event.rsvp_deadline is not None and event.rsvp_deadline > new_start:
        shifted = event.rsvp_deadline + (new_start - event.starts_at)
        changes["rsvp_deadline"] = shifted if shifted > now else None
    return changes

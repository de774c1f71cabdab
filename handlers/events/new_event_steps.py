"""The questions of /newevent, in order: what each step asks (with its buttons), which state
waits for its answer, and the small parsers the answers need. The answers stay in the FSM data
(`draft`: ISO times, the organizer's zone and language) until the draft is written at the end."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _, format_when, ngettext
from bot.services.dates import parse_local_datetime
from bot.services.events import rules
from bot.services.events.series import local_to_utc
from bot.services.schedule_math import parse_clock
from handlers.events.callbacks import EventAdmin
from handlers.events.states import EventStates
from handlers.events.texts import weekday_position
from handlers.events.views import markup
from storage.models import SeriesRule

SERIES_COUNT: Final = 8  # occurrences created for a repeating event
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
BUTTON_STEPS: Final = ("reminders", "audience", "claim_window", "repeat")  # answered with buttons only
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


def token(moment: datetime) -> str:
    """The moment a confirmation shows, carried on its button (minutes since the epoch)."""
    return str(int(moment.timestamp()) // 60)


def moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def ask(bot: Bot, chat_id: int, state: FSMContext, step: str, draft: dict[str, Any]) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    await state.set_state(STEP_STATES[step])
    builder = InlineKeyboardBuilder()

    def button(text: str, action: str, value: str = "") -> None:
        builder.button(text=text, callback_data=EventAdmin(action=action, value=value))

    if step == "title":
        text = _(
            "🗓 <b>New event</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
            "Send /cancel to stop."
        ).format(limit=rules.TITLE_MAX)
    elif step == "description":
        text = _("Describe the event for members (at most {limit} characters), or press Skip.").format(
            limit=rules.DESCRIPTION_MAX
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
        starts_at = moment(draft.get("starts_at"))
        button(_("Only once"), "rep", "once")
        button(_("Every week"), "rep", "weekly")
        button(_("Every two weeks"), "rep", "biweekly")
        if starts_at is not None:
            button(weekday_position(starts_at, draft.get("zone", "UTC"))[1], "rep", "monthly")
    await bot.send_message(chat_id, text, reply_markup=markup(builder))


async def ask_next(bot: Bot, chat_id: int, state: FSMContext, step: str, draft: dict[str, Any]) -> None:
    """Keep the answers so far and ask the step after `step` (no claim window without seats)."""
    await state.update_data(draft=draft)
    following = STEPS[STEPS.index(step) + 1]
    if following == "claim_window" and draft.get("capacity") is None:  # no seats, no waitlist
        draft.pop("claim_window", None)
        following = "repeat"
    await ask(bot, chat_id, state, following, draft)


def parse_end(text: str, starts_at: datetime, zone: str, now: datetime) -> datetime:
    """A bare time is on the start's day (in the organizer's zone); else a full date and time."""
    minutes = parse_clock(text)
    if minutes is not None:
        local_day = starts_at.astimezone(ZoneInfo(zone)).date()
        return local_to_utc(local_day, minutes, ZoneInfo(zone))
    return parse_local_datetime(text, zone, now, allow_past=True).utc


async def confirm_start(
    message: Message, start: datetime, zone: str, locale: str, ok: str, change: str, event_id: int
) -> None:
    """Echo a typed start in words, with Correct / Change buttons."""
    when = format_when(start, locale, zone, "words")
    builder = InlineKeyboardBuilder()
    # The moment this message shows rides on its button: an older echo cannot confirm a newer time.
    builder.button(text=_("✅ Correct"), callback_data=EventAdmin(action=ok, id=event_id, value=token(start)))
    builder.button(text=_("✏️ Change"), callback_data=EventAdmin(action=change, id=event_id))
    builder.adjust(2)
    await message.answer(
        _("It starts on {when}. Is that right?").format(when=escape(when)), reply_markup=builder.as_markup()
    )

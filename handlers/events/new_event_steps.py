"""The questions of /newevent, in order: what each step asks (with its buttons), which state waits
for its answer, how a typed answer becomes the draft's values, and the Correct / Change echo of a
typed start. The answers stay in the FSM data (`draft`: ISO times, the organizer's zone and
language) until the draft is written at the end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.i18n import _, format_when, ngettext, zone_city
from bot.services.dates import parse_local_datetime
from bot.services.events import rules
from bot.services.events.series import local_to_utc
from bot.services.schedule_math import parse_clock
from handlers.composer import TextRule, Turn
from handlers.events.states import EventStates
from handlers.events.texts import DESCRIPTION, TITLE, parse_capacity, parse_place, weekday_position
from handlers.events.views import admin_keyboard
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
SKIPPABLE: Final = ("description", "end", "place", "deadline")  # a Skip button (its value: the step)
STEP_STATES: Final = {name: getattr(EventStates, name) for name in STEPS}
STEP_OF_STATE: Final = {state.state: name for name, state in STEP_STATES.items()}
DIALOG_STATES: Final = tuple(STEP_STATES.values())

# What each step asks (the draft so far may fill it in).
QUESTIONS: Final[dict[str, Callable[[dict[str, Any]], str]]] = {
    "title": lambda draft: _(
        "🗓 <b>New event</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
        "Send /cancel to stop."
    ).format(limit=rules.TITLE_MAX),
    "description": lambda draft: _(
        "Describe the event for members (at most {limit} characters), or press Skip."
    ).format(limit=rules.DESCRIPTION_MAX),
    "start": lambda draft: _(
        "When does it start? Send the date and time in your time zone ({zone}), for example "
        "2027-03-14 18:30, 14.03.2027 18:30 or 14/03/2027 6:30pm."
    ).format(zone=escape(zone_city(draft.get("zone", "UTC")))),
    "end": lambda draft: _(
        "When does it end? Send a time (for example 20:30) or a date and time, or press Skip."
    ),
    "place": lambda draft: _(
        "Where does it take place? Send an address, or a link (https://…) for an online event, or press Skip."
    ),
    "capacity": lambda draft: _("How many seats are there? Send a number, or press “No limit”."),
    "deadline": lambda draft: _(
        "Until when can members answer? Send a date and time, or press Skip to take answers until the start."
    ),
    "reminders": lambda draft: _("When should members who answered Going or Maybe get a reminder?"),
    "audience": lambda draft: _("Who should be told about this event?"),
    "claim_window": lambda draft: _(
        "When a seat frees up, how long does the next person on the waitlist have to take it?"
    ),
    "repeat": lambda draft: _("Does the event repeat?"),
}


def buttons(step: str, draft: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The buttons under a step's question: (text, action, value)."""
    if step in SKIPPABLE:
        return [(_("Skip"), "skip", step)]
    if step == "capacity":
        return [(_("No limit"), "nolimit", "")]
    if step == "reminders":
        return [
            (_("1 day and 1 hour before"), "rem", "dh"),
            (_("1 hour before"), "rem", "h"),
            (_("No reminders"), "rem", "none"),
        ]
    if step == "audience":
        return [(_("Everyone"), "aud", "all"), (_("Choose…"), "aud", "choose")]
    if step == "claim_window":
        hours = [
            (ngettext("{count} hour", "{count} hours", count).format(count=count), "claim", str(count))
            for count in (12, 24, 48)
        ]
        return [(_("Automatically (no waiting)"), "claim", "0"), *hours]
    if step != "repeat":
        return []
    every = [(_("Only once"), "rep", "once"), (_("Every week"), "rep", "weekly")]
    every.append((_("Every two weeks"), "rep", "biweekly"))
    starts_at = moment(draft.get("starts_at"))
    if starts_at is not None:
        every.append((weekday_position(starts_at, draft.get("zone", "UTC"))[1], "rep", "monthly"))
    return every


def token(moment: datetime) -> str:
    """The moment a confirmation shows, carried on its button (minutes since the epoch)."""
    return str(int(moment.timestamp()) // 60)


def moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def ask(turn: Turn, step: str, draft: dict[str, Any], echo: str = "") -> None:
    """Send the question of a step (with its buttons, after `echo`) and wait for the answer in its
    state."""
    await turn.state.set_state(STEP_STATES[step])
    question = QUESTIONS[step](draft)
    await turn.say(f"{echo}\n\n{question}" if echo else question, admin_keyboard(0, buttons(step, draft)))


def echo(step: str, draft: dict[str, Any], locale: str) -> str:
    """A typed end or answer deadline in words, as the dialog read it ("" for other steps)."""
    texts = {
        "end": ("ends_at", _("✅ It ends on {when}.")),
        "deadline": ("rsvp_deadline", _("✅ Answers close on {when}.")),
    }
    if step not in texts or not draft.get(texts[step][0]):
        return ""
    key, text = texts[step]
    return text.format(
        when=escape(format_when(datetime.fromisoformat(draft[key]), locale, draft["zone"], "words"))
    )


async def ask_next(turn: Turn, step: str, draft: dict[str, Any], echo: str = "") -> None:
    """Keep the answers so far and ask the step after `step` (no claim window without seats)."""
    await turn.state.update_data(draft=draft)
    following = STEPS[STEPS.index(step) + 1]
    if following == "claim_window" and draft.get("capacity") is None:  # no seats, no waitlist
        draft.pop("claim_window", None)
        following = "repeat"
    await ask(turn, following, draft, echo)


# -- typed answers: the draft's new values (or EventError / DateError) ----------------------------


def parse_end(text: str, starts_at: datetime, zone: str, now: datetime, language: str | None) -> datetime:
    """A bare time is on the start's day (in the organizer's zone); else a full date and time."""
    minutes = parse_clock(text)
    if minutes is not None:
        local_day = starts_at.astimezone(ZoneInfo(zone)).date()
        return local_to_utc(local_day, minutes, ZoneInfo(zone))
    return parse_local_datetime(text, zone, now, allow_past=True, language=language).utc


def _start(text: str, draft: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Kept aside until the organizer confirms it (see `confirm_start`)."""
    start = parse_local_datetime(text, draft["zone"], now, language=draft.get("language")).utc
    return {"pending_start": start.isoformat()}


def _end(text: str, draft: dict[str, Any], now: datetime) -> dict[str, Any]:
    starts_at = moment(draft.get("starts_at"))
    assert starts_at is not None
    ends_at = parse_end(text, starts_at, draft["zone"], now, draft.get("language"))
    rules.validate_times(starts_at, ends_at, None, now, check_start=False)
    return {"ends_at": ends_at.isoformat()}


def _place(text: str, draft: dict[str, Any], now: datetime) -> dict[str, Any]:
    place, url = parse_place(text)
    return {"place": place, "online_url": url}


def _deadline(text: str, draft: dict[str, Any], now: datetime) -> dict[str, Any]:
    starts_at = moment(draft.get("starts_at"))
    assert starts_at is not None
    deadline = parse_local_datetime(text, draft["zone"], now, language=draft.get("language")).utc
    rules.validate_times(starts_at, moment(draft.get("ends_at")), deadline, now, check_start=False)
    return {"rsvp_deadline": deadline.isoformat()}


TYPED: Final[dict[str, Callable[[str, dict[str, Any], datetime], dict[str, Any]]]] = {
    "title": lambda text, draft, now: {"title": rules.validate_title(text)},
    "description": lambda text, draft, now: {"description": rules.validate_description(text)},
    "start": _start,
    "end": _end,
    "place": _place,
    "capacity": lambda text, draft, now: {"capacity": parse_capacity(text)},
    "deadline": _deadline,
}
TEXT_RULES: Final[dict[str, TextRule]] = {"title": TITLE, "description": DESCRIPTION}  # else ANSWER


async def confirm_start(turn: Turn, start: datetime, zone: str, ok: str, change: str, event_id: int) -> None:
    """Echo a typed start in words, with Correct / Change buttons."""
    when = format_when(start, turn.ctx.locale, zone, "words")
    # The moment this message shows rides on its button: an older echo cannot confirm a newer time.
    choices = [(_("✅ Correct"), ok, token(start)), (_("✏️ Change"), change, "")]
    await turn.say(
        _("It starts on {when}. Is that right?").format(when=escape(when)),
        admin_keyboard(event_id, choices, 2),
    )

"""How an event looks to a member: the card (in their language and zone) and its buttons.

Used by the /events handlers, by the organizer's preview and by the delivery renderers, so a card
looks the same wherever it appears. Callers set the gettext locale (the member's language).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from html import escape
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_time

from bot.i18n import format_when
from bot.services.events.rules import effective_end, event_text
from bot.views.origin import origin_line
from storage.models import Event, EventStatus, RsvpStatus
from storage.types import RowId


class EventAction(CallbackData, prefix="ev"):
    """Member buttons on an event card. `action`: going, maybe, no, ics, take (an offered seat),
    open (show the card), page (`id` is then the list offset)."""

    action: str
    id: RowId


class Timed(Protocol):
    """A start and an optional end (an `Event`, or a listed one)."""

    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime | None: ...


class CardEvent(Timed, Protocol):
    """What a member's card reads of an event: an `Event`, or the values a tap locked it with
    (`bot.services.events.seats.ShownEvent`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def organization_id(self) -> int: ...
    @property
    def training_id(self) -> int | None: ...
    @property
    def status(self) -> EventStatus: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def translations(self) -> Mapping[str, Any]: ...
    @property
    def place(self) -> str | None: ...
    @property
    def online_url(self) -> str | None: ...
    @property
    def capacity(self) -> int | None: ...
    @property
    def rsvp_deadline(self) -> datetime | None: ...
    @property
    def open_to_all(self) -> bool: ...


def when_text(event: Timed, locale: str, timezone: str) -> str:
    """Start in words in the member's zone, with the end time when there is one."""
    return _when(event.starts_at, event.ends_at, locale, timezone)


@lru_cache(maxsize=4096)
def _when(starts_at: datetime, ends_at: datetime | None, locale: str, timezone: str) -> str:
    """`when_text` of these times, kept: Babel's formatting was a third of an /events page's own
    work, and the same few events are listed to every member (issue 15)."""
    start = format_when(starts_at, locale, timezone, "words")
    if ends_at is None:
        return start
    end = ends_at.astimezone(ZoneInfo(timezone))
    same_day = starts_at.astimezone(ZoneInfo(timezone)).date() == end.date()
    if same_day:
        return start.replace(f" ({timezone})", f" – {format_time(end, 'short', locale=locale)} ({timezone})")
    return f"{start} – {format_when(ends_at, locale, timezone, 'words')}"


def event_card(
    event: CardEvent,
    version: str,
    locale: str,
    timezone: str,
    counts: dict[RsvpStatus, int],
    answer: RsvpStatus | None = None,
    position: int | None = None,
    origin: str | None = None,
) -> str:
    """The event as HTML: every organizer-written value escaped; `origin` the name of its
    organization when the deployment shows it (`bot.services.origins`)."""
    title, description = event_text(event, version)
    lines = [
        f"📅 <b>{escape(title)}</b>",
        *origin_lines(event, origin),
        *where_and_when(event, locale, timezone),
    ]
    if description:
        lines += ["", escape(description)]
    lines.append("")
    going, maybe = counts.get(RsvpStatus.GOING, 0), counts.get(RsvpStatus.MAYBE, 0)
    lines.append(_("✅ Going: {going} · 🤔 Maybe: {maybe}").format(going=going, maybe=maybe))
    if event.capacity is not None:
        taken = going + counts.get(RsvpStatus.OFFERED, 0)
        if taken >= event.capacity:
            lines.append(
                _("🎟 Full. On the waitlist: {count}").format(count=counts.get(RsvpStatus.WAITLISTED, 0))
            )
        else:
            lines.append(
                _("🎟 Seats left: {free} of {capacity}").format(
                    free=event.capacity - taken, capacity=event.capacity
                )
            )
    if event.rsvp_deadline:
        lines.append(
            _("Answer by {when}").format(
                when=escape(format_when(event.rsvp_deadline, locale, timezone, "words"))
            )
        )
    if event.status == EventStatus.CANCELLED:
        lines.append(_("✖ This event is cancelled."))
    elif answer is not None:
        lines.append(your_answer(answer, position))
    return "\n".join(lines)


def origin_lines(event: CardEvent, origin: str | None) -> list[str]:
    """Under the title: the organization it comes from, and whether every organization may come."""
    lines = [origin_line(origin)] if origin else []
    if origin and event.open_to_all:
        lines.append(_("🌍 Open to members of every organization"))
    return lines


def where_and_when(event: CardEvent, locale: str, timezone: str) -> list[str]:
    """The time, place and online link lines of a card (HTML, escaped)."""
    lines = [f"🕒 {escape(when_text(event, locale, timezone))}"]
    if event.place:
        lines.append(f"📍 {escape(event.place)}")
    if event.online_url:
        label = escape(_("Online link"))  # outside the f-string: pybabel does not look inside them
        lines.append(f'🔗 <a href="{escape(event.online_url, quote=True)}">{label}</a>')
    return lines


def session_card(
    event: Event, version: str, number: int, total: int, locale: str, timezone: str, origin: str | None = None
) -> str:
    """A training session (an event with `training_id`): which session of how many, and where."""
    title = escape(event_text(event, version)[0])
    heading = _("🎓 <b>{title}</b>: session {number} of {total}").format(
        title=title, number=number, total=total
    )
    return "\n".join([heading, *origin_lines(event, origin), *where_and_when(event, locale, timezone)])


def your_answer(answer: RsvpStatus, position: int | None) -> str:
    """The card's line with the member's answer (only that one translated: a tap draws a card)."""
    if answer == RsvpStatus.GOING:
        return _("Your answer: going ✅")
    if answer == RsvpStatus.MAYBE:
        return _("Your answer: maybe 🤔")
    if answer == RsvpStatus.NOT_GOING:
        return _("Your answer: can't go")
    if answer == RsvpStatus.OFFERED:
        return _("A seat is waiting for you: take it with the button below.")
    return _("You are on the waitlist, number {position}.").format(position=position or "?")


def card_keyboard(event: CardEvent, answer: RsvpStatus | None = None) -> InlineKeyboardMarkup | None:
    """The card's buttons: Going / Maybe / Can't go (the member's answer marked), Take the seat
    above them when one is offered, Add to calendar below; a training session has only the last
    (its seats are taken on the training's card)."""
    if event.status != EventStatus.PUBLISHED or event.id is None:
        return None
    rows = _card_rows(event.id, event.training_id is not None, answer, get_i18n().current_locale)
    return InlineKeyboardMarkup(inline_keyboard=[list(row) for row in rows])


@lru_cache(maxsize=2048)
def _card_rows(
    event_id: int, session: bool, answer: RsvpStatus | None, locale: str
) -> tuple[tuple[InlineKeyboardButton, ...], ...]:
    """`card_keyboard`'s buttons in `locale` (the current one), kept: building and packing them
    was a tenth of an RSVP tap's own work (issue 15). Each keyboard shares them: never change one."""

    def button(text: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=EventAction(action=action, id=event_id).pack())

    calendar = (button(_("📅 Add to calendar"), "ics"),)
    if session:
        return (calendar,)

    def mark(status: RsvpStatus, label: str) -> str:
        return f"• {label} •" if answer == status else label

    choices = (
        button(mark(RsvpStatus.GOING, _("✅ Going")), "going"),
        button(mark(RsvpStatus.MAYBE, _("🤔 Maybe")), "maybe"),
        button(mark(RsvpStatus.NOT_GOING, _("❌ Can't go")), "no"),
    )
    take = ((button(_("🎟 Take the seat"), "take"),),) if answer == RsvpStatus.OFFERED else ()
    return (*take, choices, calendar)


def upcoming(event: Event, now: datetime) -> bool:
    return effective_end(event) > now

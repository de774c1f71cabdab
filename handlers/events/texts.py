"""Texts of the event handlers: refused values and actions in words a person can act on, how a
typed title or description is checked, the place/link and seats parsers, titles and repeat-rule
labels.

`error_text`, `date_error_text` and `parse_place` are also used by the training dialogs (a
training session is an event underneath)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel.dates import format_date

from bot.i18n import _
from bot.services.dates import DateError
from bot.services.events import rules
from bot.services.events.rules import EventError
from bot.services.events.series import week_of_month
from handlers.composer import TEXT_MAX, TextRule
from storage.models import Event, Organization

_LINKISH: Final = re.compile(r"^([a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)


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


def refusal(error: EventError | DateError) -> str:
    """A typed value that was refused, whichever check refused it."""
    return error_text(error) if isinstance(error, EventError) else date_error_text(error)


def _too_long(reason: str) -> Callable[[int, int], str]:
    return lambda limit, length: error_text(EventError(reason, limit))


# How typed texts are checked before their own parser sees them (empty or invisible text, a
# command, a text over Telegram's limit): a title, a description, anything else.
TITLE: Final = TextRule(rules.TITLE_MAX, too_long=_too_long("title_too_long"))
DESCRIPTION: Final = TextRule(rules.DESCRIPTION_MAX, too_long=_too_long("description_too_long"))
ANSWER: Final = TextRule(TEXT_MAX)


def member_error_text(error: EventError) -> str:
    """Why a member's tap (or check-in code) was not taken."""
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


def parse_place(text: str) -> tuple[str | None, str | None]:
    """(address, link): a web link for online events, anything else is an address."""
    stripped = text.strip()
    if _LINKISH.match(stripped) or (" " not in stripped and "://" in stripped):
        return None, rules.validate_url(stripped)
    return rules.validate_place(stripped), None


def parse_capacity(text: str) -> int:
    """A number of seats (“No limit” is a button)."""
    capacity = rules.validate_capacity(text)
    if capacity is None:
        raise EventError("capacity_range", rules.CAPACITY_MAX)
    return capacity


def event_title(event: Event, locale: str, organization: Organization) -> str:
    """The title in the version an organizer reading in `locale` gets."""
    return rules.event_text(event, rules.version_for(event, locale, organization.default_language))[0]


def weekday_position(moment: datetime, zone: str) -> tuple[int, str]:
    """The nth weekday of its month the start falls on (-1: the last one), and its label."""
    local = moment.astimezone(ZoneInfo(zone))
    nth = week_of_month(local)
    weekday = format_date(local, "EEEE", locale=I18n.get_current().current_locale)
    labels = {
        1: _("Every month on the first {weekday}"),
        2: _("Every month on the second {weekday}"),
        3: _("Every month on the third {weekday}"),
        4: _("Every month on the fourth {weekday}"),
        -1: _("Every month on the last {weekday}"),
    }
    return nth, labels[nth].format(weekday=weekday)


def rule_label(rule: str, starts_at: datetime, zone: str) -> str:
    if rule == "weekly":
        return _("Every week")
    if rule == "biweekly":
        return _("Every two weeks")
    return weekday_position(starts_at, zone)[1]

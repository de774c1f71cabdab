"""Texts of the event handlers: refused values and actions in words a person can act on, how a
typed title or description is checked, the place/link and seats parsers, titles and repeat-rule
labels.

`error_text` and `parse_place` are also used by the training dialogs (a
training session is an event underneath)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_date

from bot.i18n import _
from bot.policy import STALE
from bot.services.dates import DateError
from bot.services.events import rules
from bot.services.events.rules import EventError
from bot.services.events.series import week_of_month
from handlers.composer import TEXT_MAX, TextRule, date_error_text
from storage.models import Event, Organization

_LINKISH: Final = re.compile(r"^([a-z][a-z0-9+.-]*://|www\.)", re.IGNORECASE)


# A refused value or action, in words the organizer can act on ({limit}: the reason's maximum).
ERRORS: Final = {
    "title_empty": __("The title can't be empty. Please send a title."),
    "title_too_long": __("That title is too long: at most {limit} characters. Please send a shorter one."),
    "description_too_long": __(
        "That description is too long: at most {limit} characters. Please send a shorter one."
    ),
    "place_too_long": __("That address is too long: at most {limit} characters. Please send a shorter one."),
    "bad_url": __("That link doesn't work. Please send a full web link starting with https:// or http://."),
    "capacity_range": __("Please send a whole number of seats from 1 to {limit}, or press “No limit”."),
    "past_start": __("That time has already passed. Please send a time in the future."),
    "deadline_in_past": __("That time has already passed. Please send a time in the future."),
    "end_before_start": __(
        "The end must be after the start. Please send a later time (with the date if the event "
        "ends on another day)."
    ),
    "deadline_after_start": __("Answers must close before the event starts. Please send an earlier time."),
    "duration_range": __(
        "A repeating event can last at most {days} days. Choose “Only once”, or change the end time."
    ),
    **dict.fromkeys(
        ("series_empty", "count_range", "bad_rule"),
        __("These dates don't work for a repeating event. Please choose another option."),
    ),
}
# Why a member's tap (or check-in code) was not taken.
MEMBER_ERRORS: Final = {
    "not_found": __("This event no longer exists."),
    "closed": __("This event is not open yet."),
    "cancelled": __("This event was cancelled."),
    "event_past": __("This event is over."),
    "deadline_passed": __("Answers for this event are closed."),
    "offer_expired": __("Sorry, this seat offer has expired."),
    "bad_code": __("That check-in code doesn't match an event happening now."),
}


def error_text(error: EventError) -> str:
    limit = error.limit or 0
    text = ERRORS.get(error.reason, __("This event can no longer be changed."))
    return str(text).format(limit=limit, days=limit // (24 * 60))


def expired() -> str:
    return _("This dialog has expired. Send /newevent to start again.")


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
    return str(MEMBER_ERRORS.get(error.reason, STALE))


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

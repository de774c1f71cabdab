"""The words of trainings on the Telegram side: refusals and error texts for members and for
coordinators, and the small labels (durations, short dates, button labels) both sides share."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date, format_time

from bot.i18n import _, ngettext
from bot.services.events import EventError
from bot.services.trainings.rules import OPTIONS_MAX, TrainingError
from handlers.composer import TextRule
from handlers.events.texts import error_text as event_error_text

LABEL_MAX: Final = 40  # characters of a name or title on a button
DURATION_MIN: Final = 15  # minutes: a shorter session is surely a typo
EVENT_REASONS: Final = frozenset(
    {"title_empty", "title_too_long", "description_too_long", "place_too_long", "bad_url"}
)


def gone() -> str:
    return _("This training can no longer be changed.")


def no_such_training() -> str:
    return _("This training no longer exists.")


def duration_label(minutes: int) -> str:
    """ "1 hour", "90 minutes" → "1 h 30 min", in the reader's language."""
    hours, rest = divmod(minutes, 60)
    if not rest:
        return ngettext("{count} hour", "{count} hours", hours).format(count=hours)
    if not hours:
        return ngettext("{count} minute", "{count} minutes", rest).format(count=rest)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)


def short_when(moment: datetime, locale: str, zone: str) -> str:
    """ "Mar 14, 2099, 6:30 PM" in the reader's locale and zone (lists of sessions)."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{format_date(local, 'medium', locale=locale)}, {format_time(local, 'short', locale=locale)}"


def button_label(text: str) -> str:
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 1] + "…"


def markup(builder: InlineKeyboardBuilder, *sizes: int) -> InlineKeyboardMarkup | None:
    if not list(builder.buttons):
        return None
    builder.adjust(*(sizes or (1,)))
    return builder.as_markup()


def signup_error_text(error: TrainingError) -> str:
    """Why a member's sign-up, answer or cancellation was refused."""
    texts = {
        "not_found": _("This training no longer exists."),
        "cancelled": _("This training was cancelled."),
        "closed": _("Sign-ups for this training are closed."),
        "deadline_passed": _("The sign-up deadline for this training has passed."),
        "already_signed_up": _("You are already signed up for this training."),
        "not_signed_up": _("You are not signed up for this training."),
        "answer_empty": _("Please type an answer."),
        "answer_too_long": _("That answer is too long (at most {limit} characters). Please shorten it."),
        "bad_option": _("Please choose one of the buttons."),
        "answers_count": _("The questions of this training have changed. Please sign up again."),
    }
    return texts.get(error.reason, _("This button is no longer active.")).format(limit=error.limit)


def error_text(error: TrainingError | EventError) -> str:
    """A refused value or action, in words the coordinator can act on."""
    limit = error.limit or 0
    texts = {
        "trainer_empty": _("Please send the trainer's name."),
        "trainer_too_long": _(
            "That name is too long: at most {limit} characters. Please send a shorter one."
        ),
        "capacity_invalid": _("Please send a whole number of seats from 1 to {limit}."),
        "capacity_range": _("Please send a whole number of seats from 1 to {limit}."),
        "no_sessions": _("A training needs at least one session."),
        "too_many_sessions": _("A training can have at most {limit} sessions."),
        "session_past": _("That time has already passed. Please send a time in the future."),
        "duration_invalid": _("Please send a length from {low} to {high} minutes, for example 90 or 1:30."),
        "sessions_overlap": _("Two sessions overlap. Please send another time."),
        "deadline_after_start": _(
            "Sign-ups must close before the first session starts. Please send an earlier time."
        ),
        "deadline_in_past": _("That time has already passed. Please send a time in the future."),
        "question_empty": _("The question can't be empty. Please send it."),
        "question_too_long": _(
            "That question is too long: at most {limit} characters. Please send a shorter one."
        ),
        "options_count": _("Please send between 2 and {count} choices, one per line."),
        "option_empty": _("Please send between 2 and {count} choices, one per line."),
        "option_too_long": _("Each choice can have at most {limit} characters. Please send shorter ones."),
        "options_duplicate": _("Two choices are the same. Please send different ones."),
        "no_teaching_language": _("Please tick at least one language."),
        "message_empty": _("That looks empty. Please type your answer."),
        "message_too_long": _(
            "That message is too long: at most {limit} characters. Please send a shorter one."
        ),
        "cancelled": _("This training was cancelled."),
        "closed": _("Sign-ups for this training are closed."),
        "not_signed_up": _("This person is no longer signed up."),
    }
    if error.reason in texts:
        count = OPTIONS_MAX if error.reason == "option_empty" else limit  # an empty choice: the count
        return texts[error.reason].format(
            limit=limit, count=count, low=DURATION_MIN, high=limit or DURATION_MIN
        )
    if error.reason in EVENT_REASONS:  # title, description, place and link: worded as for events
        return event_error_text(EventError(error.reason, error.limit))
    return gone()


def text_rule(limit: int, too_long: str = "", empty: str = "", *, optional: bool = False) -> TextRule:
    """The kit's check of a typed text, refusing in the dialog's own words: `too_long` and
    `empty` are `error_text` reasons (else the kit's wording)."""
    words: dict[str, Any] = {}
    if too_long:
        words["too_long"] = lambda most, length: error_text(TrainingError(too_long, most))
    if empty:
        words["empty"] = lambda: error_text(TrainingError(empty))
    return TextRule(limit, optional=optional, **words)

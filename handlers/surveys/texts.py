"""The coordinator's survey texts shared by several handlers: kinds of question, refused values in
words, the status of a survey, numbers and percentages in the coordinator's locale, and long text
cut into messages that fit."""

from __future__ import annotations

from html import escape
from typing import Final

from babel.numbers import format_decimal, format_percent

from bot.i18n import _, __, format_when, ngettext
from bot.services.events import telegram_length
from bot.services.surveys.languages import version_for
from bot.services.surveys.rules import (
    OPTIONS_MAX,
    OPTIONS_MIN,
    QUESTION_MAX,
    QUESTIONS_MAX,
    TEXT_MAX,
    TITLE_MAX,
    SurveyError,
)
from handlers.composer import TEXT_MAX as COMPOSER_TEXT_MAX
from handlers.composer import TextRule
from storage.models import Organization, Survey, SurveyQuestion, SurveyStatus
from storage.types import utcnow

TEXT_BUDGET = 3900  # stay clear of Telegram's 4096


def gone() -> str:
    return _("This survey can no longer be changed.")


def expired() -> str:
    return _("This dialog has expired. Send /poll or /newsurvey to start again.")


def kind_label(kind: str, question: SurveyQuestion | None = None) -> str:
    if kind in ("rating", "rating5", "rating10"):
        low, high = (0, 10) if kind == "rating10" else (1, 5)
        if question is not None:
            low, high = int(question.min_value or 0), int(question.max_value or 0)
        return _("⭐ Rating {low}–{high}").format(low=low, high=high)
    labels = {
        "single": _("🔘 One choice"),
        "multiple": _("☑️ Several choices"),
        "number": _("🔢 Number"),
        "text": _("✍️ Free text"),
        "yes_no": _("👍 Yes / no"),
    }
    return labels.get(kind, kind)


def yes_no(label: str) -> str:
    """The service's "yes"/"no" labels, in words."""
    return {"yes": _("Yes"), "no": _("No")}.get(label, label)


EMPTY: Final = __("That looks empty. Please type your answer.")
# A refused value in words (lazy: in the coordinator's language when said); "{limit}" is the
# error's own limit but where `LIMITS` names the rule's, "{low}"/"{high}" the options' bounds.
REFUSALS: Final = {
    "title_empty": EMPTY,
    "question_empty": EMPTY,
    "option_empty": EMPTY,
    "title_too_long": __("That title is too long: at most {limit} characters. Please send a shorter one."),
    "question_too_long": __(
        "That question is too long: at most {limit} characters. Please send a shorter one."
    ),
    "option_too_long": __(
        "An answer option can have at most {limit} characters. Please send that message again "
        "with shorter options."
    ),
    "options_count": __("A question needs from {low} to {high} answer options."),
    "options_duplicate": __("Each answer option must be different. Please send that message again."),
    "bad_bounds": __(
        "Please send the lowest and the highest number allowed, for example 0 100 (a dash leaves "
        "one side open: - 100), or press Skip."
    ),
    "bad_max_length": __("Please send a whole number from 1 to {limit}."),
    "too_many_questions": __("A survey can have at most {limit} questions."),
    "bad_times": __(
        "The closing time must be in the future and after the opening time. Please send a later time."
    ),
    "closed": __("This survey is closed."),
}
LIMITS: Final = {"bad_max_length": TEXT_MAX, "too_many_questions": QUESTIONS_MAX}


def error_text(error: SurveyError) -> str:
    """A refused value, in words the coordinator can act on."""
    if error.reason == "bad_translation":  # "рівно 3 варіанти", "рівно 5 варіантів": the count's own form
        count = int(error.limit or 0)
        return ngettext(
            "Please send exactly {count} option, one per line, in the same order.",
            "Please send exactly {count} options, one per line, in the same order.",
            count,
        ).format(count=count)
    text = REFUSALS.get(error.reason)
    if text is None:
        return gone()
    limit = LIMITS.get(error.reason, error.limit)
    return str(text).format(limit=limit, count=error.limit or 0, low=OPTIONS_MIN, high=OPTIONS_MAX)


def refused_as(reason: str, limit: int) -> TextRule:
    """The rule of a typed title or question: too long, it is refused in the dialog's own words."""
    return TextRule(limit, too_long=lambda limit, length: error_text(SurveyError(reason, limit)))


# How the dialogs' typed texts are checked (the composer kit's one validation: empty or invisible
# text, Telegram's limits, commands); the service then reads and checks what it needs.
TITLE_TEXT: Final = refused_as("title_too_long", TITLE_MAX)
QUESTION_TEXT: Final = refused_as("question_too_long", QUESTION_MAX)
ANY_TEXT: Final = TextRule(COMPOSER_TEXT_MAX)  # options (one per line), a number, a time


def number(value: float, locale: str) -> str:
    return format_decimal(value, locale=locale)


def percent(value: float, locale: str) -> str:
    return format_percent(value / 100, format="#,##0.#%", locale=locale)


def survey_title(survey: Survey, locale: str, organization: Organization) -> str:
    version = version_for(survey, locale, organization.default_language)
    return survey.translations.get(version, survey.title) if version != survey.language else survey.title


def status_line(survey: Survey, locale: str, zone: str) -> str:
    if survey.status == SurveyStatus.DRAFT:
        return _("📝 Draft, not published yet")
    if survey.status == SurveyStatus.CLOSED:
        when = format_when(survey.closed_at or survey.updated_at, locale, zone)
        return _("🔒 Closed on {when}").format(when=escape(when))
    if survey.opens_at is not None and survey.opens_at > utcnow():
        return _("🕒 Opens on {when}").format(when=escape(format_when(survey.opens_at, locale, zone)))
    if survey.closes_at is None:
        return _("🟢 Open")
    return _("🟢 Open until {when}").format(when=escape(format_when(survey.closes_at, locale, zone)))


def reminder_text(minutes: int | None) -> str:
    if minutes is None:
        return _("no reminder")
    hours = minutes // 60
    return ngettext("{count} hour before closing", "{count} hours before closing", hours).format(count=hours)


def chunks(lines: list[str], budget: int = TEXT_BUDGET) -> list[str]:
    """Lines joined into messages that each fit in Telegram's limit (cut at line ends; measured in
    UTF-16 code units, as Telegram counts them)."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        length = telegram_length(line)
        if length > budget:
            line, length = line[: budget // 2 - 1] + "…", budget // 2
        if current and size + length + 1 > budget:
            messages.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += length + 1
    if current:
        messages.append("\n".join(current))
    return messages

"""The rules of a survey, free of any lookup: its limits (Telegram's among them), the refusals
(`SurveyError` and its reason codes), the checks of a title, a question, an audience and the
opening and closing times, and when a reminder falls."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypedDict, Unpack

from bot.services.audience import AUDIENCE_KEYS
from bot.services.refusal import Refusal
from storage.models import QuestionKind, Survey

KIND = "survey"  # outbox: the invitation (or the native poll)
REMINDER_KIND = "survey_reminder"
POLL_STOP_KIND = "poll_stop"  # outbox: stopPoll on one sent copy of a native poll, once it closes
TITLE_MAX = 300
QUESTION_MAX = 300  # Telegram: poll question 1-300 characters
OPTION_MAX = 100  # Telegram: option text 1-100 characters
OPTIONS_MIN, OPTIONS_MAX = 2, 12  # Telegram allows up to 12 options
QUESTIONS_MAX = 50
TEXT_MAX = 1000
TEXT_DEFAULT = 1000
REMINDER_MAX = 28 * 24 * 60
REMINDER_MIN_GAP = timedelta(hours=1)  # a reminder comes at least this long after the opening
RATING_SCALES = ((1, 5), (0, 10))
NUMBER_LIMIT = 1e12
MIN_GROUP = 5  # attributed breakdowns: smaller groups are suppressed
# "organization": only for a survey reaching several organizations (a super-admin's).
BREAKDOWNS = ("language", "residence_country", "origin_country", "organization")
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.YES_NO)


class SurveyError(Refusal):
    """A refused survey operation; `reason` is a stable code the handlers translate.

    Building: "title_empty", "title_too_long", "question_empty", "question_too_long",
    "options_count", "option_empty", "option_too_long", "options_duplicate", "bad_scale",
    "bad_bounds", "bad_max_length", "bad_kind", "bad_translation", "bad_audience",
    "too_many_questions", "bad_reminder", "bad_times", "no_questions", "not_a_poll".
    State: "not_found", "not_editable", "not_open" (draft or not yet open), "closed", "submitted",
    "stale_question" (not the question being answered: an old button or forged data),
    "incomplete", "anonymous" (no breakdown of an anonymous survey).
    Answers: "required", "not_a_number", "out_of_range", "not_whole", "text_empty",
    "text_too_long", "bad_option", "choose_one", "not_yes_no".
    `limit` is the maximum (or bounds) for the "…_too_long"/"…_range"/"…count" reasons.
    """


checked_line = SurveyError.checked_line  # one line of typed text, or SurveyError(empty | too_long)


def checked_options(options: Sequence[str] | None) -> list[str]:
    options = list(options or [])
    if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        raise SurveyError("options_count", (OPTIONS_MIN, OPTIONS_MAX))
    cleaned = [checked_line(option, OPTION_MAX, "option_empty", "option_too_long") for option in options]
    if len({option.casefold() for option in cleaned}) != len(cleaned):
        raise SurveyError("options_duplicate")
    return cleaned


def _number_or_none(value: Any, reason: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SurveyError(reason)
    return float(value)


class QuestionSettings(TypedDict, total=False):
    """A question's settings besides its kind and text, as `validate_question` and `add_question`
    take them (each optional): its options (choices), its translations ({language: {"text",
    "options"}}), a number's or rating's bounds, a written answer's length."""

    options: Sequence[str] | None
    translations: dict[str, dict[str, Any]] | None
    min_value: float | None
    max_value: float | None
    max_length: int | None


SETTINGS_KEYS: Final = tuple(QuestionSettings.__annotations__)


def question_settings(entry: dict[str, Any]) -> QuestionSettings:
    """The settings of a question kept as JSON (the dialog's draft: [] for no options)."""
    fields: dict[str, Any] = {key: entry.get(key) for key in SETTINGS_KEYS}
    fields["options"] = fields["options"] or None
    return fields  # type: ignore[return-value]


def validate_question(
    kind: QuestionKind | str, text: str, **given: Unpack[QuestionSettings]
) -> dict[str, Any]:
    """The question's stored fields, cleaned; raises `SurveyError`."""
    options, translations = given.get("options"), given.get("translations")
    min_value, max_value, max_length = given.get("min_value"), given.get("max_value"), given.get("max_length")
    try:
        kind = QuestionKind(kind)
    except ValueError:
        raise SurveyError("bad_kind") from None
    fields: dict[str, Any] = {
        "kind": kind,
        "text": checked_line(text, QUESTION_MAX, "question_empty", "question_too_long"),
        "options": [],
        "min_value": None,
        "max_value": None,
        "max_length": None,
    }
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        fields["options"] = checked_options(options)
    elif options:
        raise SurveyError("bad_kind")
    if kind == QuestionKind.RATING:
        scale = (1 if min_value is None else min_value, 5 if max_value is None else max_value)
        if scale not in RATING_SCALES:
            raise SurveyError("bad_scale", RATING_SCALES)
        fields["min_value"], fields["max_value"] = float(scale[0]), float(scale[1])
    elif kind == QuestionKind.NUMBER:
        low, high = _number_or_none(min_value, "bad_bounds"), _number_or_none(max_value, "bad_bounds")
        if low is not None and high is not None and low > high:
            raise SurveyError("bad_bounds")
        fields["min_value"], fields["max_value"] = low, high
    elif kind == QuestionKind.TEXT:
        length = TEXT_DEFAULT if max_length is None else max_length
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= TEXT_MAX:
            raise SurveyError("bad_max_length", TEXT_MAX)
        fields["max_length"] = length
    cleaned_translations: dict[str, dict[str, Any]] = {}
    for language, version in (translations or {}).items():
        if not isinstance(language, str) or not 2 <= len(language) <= 8 or not isinstance(version, dict):
            raise SurveyError("bad_translation")
        entry: dict[str, Any] = {
            "text": checked_line(version.get("text"), QUESTION_MAX, "question_empty", "question_too_long")
        }
        if fields["options"]:
            translated = checked_options(version.get("options"))
            if len(translated) != len(fields["options"]):
                raise SurveyError("bad_translation")
            entry["options"] = translated
        cleaned_translations[language] = entry
    fields["translations"] = cleaned_translations
    return fields


def validate_audience(audience: dict[str, Any] | None) -> dict[str, Any]:
    audience = dict(audience or {})
    if set(audience) - set(AUDIENCE_KEYS):
        raise SurveyError("bad_audience")
    return audience


def validate_times(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> None:
    if closes_at is not None and (closes_at <= now or (opens_at is not None and closes_at <= opens_at)):
        raise SurveyError("bad_times")


def reminder_time(survey: Survey) -> datetime | None:
    if survey.reminder_before_minutes is None or survey.closes_at is None:
        return None
    if survey.native_poll and survey.anonymous:
        return None  # Telegram tells nobody who voted in an anonymous poll: no one to skip
    remind_at = survey.closes_at - timedelta(minutes=survey.reminder_before_minutes)
    if survey.opens_at is not None and remind_at < survey.opens_at + REMINDER_MIN_GAP:
        return None  # open for less than the reminder's lead: it would come with (or before) the invitation
    return remind_at

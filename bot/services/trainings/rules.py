"""The rules of a training that need no database: the limits, the refusal type, the validation of
every value a coordinator or a member types, and which language version of the title a member gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from bot.services import events as event_service
from bot.services.events import EventError, telegram_length
from bot.services.refusal import Refusal
from bot.services.text import fold
from bot.services.versions import title_and_description
from bot.services.versions import version_for as version_for  # re-exported: trainings.version_for
from storage.models import SignupStatus, TrainingStatus

NOTICE_KIND = "training_notice"  # outbox kind of every training notice
MUTE_TOPIC = "trainings"  # members who muted this interest get no "published" notices
TRAINER_MAX = 200
SESSIONS_MAX = 20
DURATION_MAX = 12 * 60  # minutes
QUESTIONS_MAX = 5
QUESTION_MAX = 200
OPTIONS_MAX = 10
OPTION_MAX = 100
ANSWER_MAX = 300
MESSAGE_MAX = 3500  # with the heading the message stays under Telegram's 4096
SOON = timedelta(hours=24)  # a promotion this close to a session says so
FEEDBACK_DAYS = 7  # the feedback survey stays open this long
SESSION_REMINDERS = [1440, 60]
TAKING = (TrainingStatus.OPEN, TrainingStatus.CLOSED)  # sessions go on; seats can move
HOLDING = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


def N_(message: str) -> str:
    """Marks a message for extraction; translated later, per language."""
    return message


FEEDBACK_RATING = N_("How would you rate this training?")
FEEDBACK_COMMENT = N_("Anything you would like to tell the trainer or the organizers?")


class TrainingError(Refusal):
    """A refused training operation; `reason` is a stable code the handlers translate.

    Validation: the events reasons ("title_empty", "title_too_long", "description_too_long",
    "place_too_long", "bad_url", "bad_timezone", "bad_audience", "bad_language") and
    "capacity_invalid", "trainer_too_long", "no_sessions", "too_many_sessions", "session_past",
    "duration_invalid", "sessions_overlap", "deadline_after_start", "deadline_in_past",
    "too_many_questions", "question_empty", "question_too_long", "options_count",
    "option_empty", "option_too_long", "options_duplicate", "message_empty", "message_too_long".
    Answers: "answers_count", "answer_empty", "answer_too_long", "bad_option".
    State: "not_found", "not_editable", "cancelled", "closed", "deadline_passed",
    "already_signed_up", "not_signed_up", "not_a_session".
    `limit` is the maximum for the "…_too_long", "too_many_…" and "…_invalid" reasons.
    """


# -- validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInput:
    starts_at: datetime
    duration_minutes: int
    place: str | None = None
    online_url: str | None = None


_line = TrainingError.checked_line  # one line of typed text, or TrainingError(empty | too_long)


def validate_capacity(value: int | str | None) -> int:
    try:
        capacity = event_service.validate_capacity(value)
    except EventError:
        capacity = None
    if capacity is None:
        raise TrainingError("capacity_invalid", event_service.CAPACITY_MAX)
    return capacity


def validate_questions(questions: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """At most five questions of up to 200 characters; each a choice of 2–10 options of up to 100
    characters, or (no options) a free text answer."""
    questions = list(questions or [])
    if len(questions) > QUESTIONS_MAX:
        raise TrainingError("too_many_questions", QUESTIONS_MAX)
    cleaned = []
    for question in questions:
        text = _line(question.get("text"), QUESTION_MAX, "question_empty", "question_too_long")
        options = [
            _line(option, OPTION_MAX, "option_empty", "option_too_long")
            for option in question.get("options") or []
        ]
        if len(options) == 1 or len(options) > OPTIONS_MAX:
            raise TrainingError("options_count", OPTIONS_MAX)
        if len({fold(option) for option in options}) != len(options):
            raise TrainingError("options_duplicate")
        cleaned.append({"text": text, "options": options})
    return cleaned


def validate_answer(question: dict[str, Any], raw: str | None) -> str:
    """One eligibility answer: a choice (its text, or its number 1, 2, …, as typed or from a
    button) returned as the option's own text, or a free text line of up to 300 characters."""
    options: list[str] = question.get("options") or []
    if not options:
        return _line(raw, ANSWER_MAX, "answer_empty", "answer_too_long")
    typed = fold(raw or "")
    if not typed:
        raise TrainingError("answer_empty")
    for number, option in enumerate(options, start=1):
        if typed in (fold(option), str(number)):
            return option
    raise TrainingError("bad_option")


def validate_answers(questions: Sequence[dict[str, Any]], answers: Sequence[str]) -> list[str]:
    if len(answers) != len(questions):
        raise TrainingError("answers_count", len(questions))
    return [validate_answer(question, answer) for question, answer in zip(questions, answers, strict=True)]


def validate_sessions(sessions: Sequence[SessionInput], now: datetime) -> list[SessionInput]:
    """1–20 sessions in the future, 1 minute – 12 hours long, not overlapping; sorted by start."""
    if not sessions:
        raise TrainingError("no_sessions")
    if len(sessions) > SESSIONS_MAX:
        raise TrainingError("too_many_sessions", SESSIONS_MAX)
    cleaned = []
    for item in sorted(sessions, key=lambda s: s.starts_at):
        if item.starts_at.tzinfo is None:
            raise ValueError("naive datetime")
        if item.starts_at <= now:
            raise TrainingError("session_past")
        if isinstance(item.duration_minutes, bool) or not 1 <= int(item.duration_minutes) <= DURATION_MAX:
            raise TrainingError("duration_invalid", DURATION_MAX)
        try:
            place = event_service.validate_place(item.place)
            url = event_service.validate_url(item.online_url)
        except EventError as error:
            raise TrainingError(error.reason, error.limit) from None
        cleaned.append(SessionInput(item.starts_at, int(item.duration_minutes), place, url))
    for before, after in pairwise(cleaned):
        if before.starts_at + timedelta(minutes=before.duration_minutes) > after.starts_at:
            raise TrainingError("sessions_overlap")
    return cleaned


FIELDS = (
    "title",
    "description",
    "language",
    "teaching_languages",
    "trainer",
    "capacity",
    "signup_deadline",
    "timezone",
    "questions",
    "translations",
    "audience",
    "sessions",
)


def validate_training(now: datetime, **fields: Any) -> dict[str, Any]:
    """The fields of a new training (`create_training`'s keywords; title, capacity and sessions
    required) validated and normalized; writes nothing. Without a deadline, sign-ups close when
    the first session starts."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not training fields: {sorted(unknown)}")
    try:
        cleaned: dict[str, Any] = {
            "title": event_service.validate_title(fields.get("title") or ""),
            "description": event_service.validate_description(fields.get("description")),
            "timezone": event_service.validate_timezone(fields.get("timezone") or "UTC"),
            "translations": event_service.validate_translations(fields.get("translations")),
            "audience": event_service.validate_audience(fields.get("audience")),
        }
    except EventError as error:
        raise TrainingError(error.reason, error.limit) from None
    language = fields.get("language") or "en"
    teaching = list(dict.fromkeys(fields.get("teaching_languages") or [language]))
    if any(not isinstance(code, str) or not 2 <= len(code) <= 8 for code in [language, *teaching]):
        raise TrainingError("bad_language")
    cleaned["language"], cleaned["teaching_languages"] = language, teaching
    trainer = fields.get("trainer")
    cleaned["trainer"] = (
        _line(trainer, TRAINER_MAX, "trainer_too_long", "trainer_too_long")
        if trainer and trainer.strip()
        else ""
    )
    cleaned["capacity"] = validate_capacity(fields.get("capacity"))
    cleaned["questions"] = validate_questions(fields.get("questions"))
    sessions = validate_sessions(fields.get("sessions") or [], now)
    cleaned["sessions"] = sessions
    deadline = fields.get("signup_deadline")
    if deadline is not None:
        if deadline.tzinfo is None:
            raise ValueError("naive datetime")
        if deadline > sessions[0].starts_at:
            raise TrainingError("deadline_after_start")
        if deadline <= now:
            raise TrainingError("deadline_in_past")
    cleaned["signup_deadline"] = deadline or sessions[0].starts_at
    return cleaned


def validate_message(text: str | None) -> str:
    """A coordinators' message to the participants: not empty, short enough for one Telegram message."""
    message = (text or "").strip()
    if not message:
        raise TrainingError("message_empty")
    if telegram_length(message) > MESSAGE_MAX:
        raise TrainingError("message_too_long", MESSAGE_MAX)
    return message


# -- languages ---------------------------------------------------------------------------------


# (title, description) of a training in a language version (`version_for` picks the member's).
training_text = title_and_description

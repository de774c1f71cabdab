"""The steps of /newtraining: the question each step asks (with its buttons, one function per step
in `QUESTIONS`), the draft kept in the FSM data and the pure helpers that read and change it, and
the preview text.

The draft is a plain dict under the FSM key "training" (in the database: a restart loses nothing):
title, description, language, zone, teaching, trainer, sessions (each starts_at ISO, duration in
minutes, place or online_url), capacity, deadline, questions, translations and audience; plus the
half-answered values of the step in progress (pending_start, pending_duration, pending_question).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape
from typing import Any, Final

from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, format_when, language_name
from bot.services import events as event_rules
from bot.services.schedule_math import parse_clock
from bot.services.text import TextRejected, clean_line
from bot.services.trainings.rules import (
    OPTION_MAX,
    OPTIONS_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    SESSIONS_MAX,
    TRAINER_MAX,
    TrainingError,
    validate_questions,
)
from handlers.composer import Turn
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.states import DraftStates
from handlers.trainings.texts import duration_label, markup, short_when

DURATIONS: Final = (60, 90, 120, 180)  # minutes offered as buttons
Draft = dict[str, Any]


def expired() -> str:
    return _("This dialog has expired. Send /newtraining to start again.")


def locale() -> str:
    return I18n.get_current().current_locale


# -- the draft -----------------------------------------------------------------------------------


def moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def token(when: datetime) -> str:
    """The minute of `when`, carried by a confirmation button (an older echo cannot confirm)."""
    return str(int(when.timestamp()) // 60)


def parse_duration(text: str) -> int | None:
    """ "90" (minutes), "1:30", "1h30", "2h" → minutes; None if not a duration."""
    stripped = text.strip().lower().removesuffix("min").strip()
    if stripped.isdigit() and len(stripped) <= 4:
        return int(stripped)
    return parse_clock(stripped)


def sessions(draft: Draft) -> list[dict[str, Any]]:
    return list(draft.get("sessions") or [])


def first_start(draft: Draft) -> datetime | None:
    starts = [moment(item["starts_at"]) for item in sessions(draft)]
    return min((when for when in starts if when), default=None)


def overlapping(draft: Draft, starts_at: datetime, minutes: int) -> int | None:
    """The number (1-based) of a session the new one overlaps, if any."""
    ends_at = starts_at + timedelta(minutes=minutes)
    for number, item in enumerate(sessions(draft), start=1):
        other = moment(item["starts_at"])
        assert other is not None
        if starts_at < other + timedelta(minutes=int(item["duration"])) and other < ends_at:
            return number
    return None


def clean(text: str, limit: int, empty: str, too_long: str) -> str:
    try:
        return clean_line(text, limit)
    except TextRejected as error:
        raise TrainingError(empty if error.reason == "empty" else too_long, limit) from None


def question(text: str, options_text: str | None) -> dict[str, Any]:
    """A question with its choices (one per line), checked by the service's rules."""
    options = [line for line in (options_text or "").splitlines() if line.strip()]
    if options_text is not None and len(options) < 2:
        raise TrainingError("options_count", OPTIONS_MAX)
    return validate_questions([{"text": text, "options": options}])[0]


# -- the questions -------------------------------------------------------------------------------


class Question:
    """The buttons under a step's question, as its function adds them (`TrainingDraft` data), or a
    whole `keyboard` of its own."""

    def __init__(self) -> None:
        self.builder = InlineKeyboardBuilder()
        self.keyboard: InlineKeyboardMarkup | None = None

    def button(self, text: str, action: str, value: str = "") -> None:
        self.builder.button(text=text, callback_data=TrainingDraft(action=action, value=value))


Asker = Callable[[Draft, Question], str]
QUESTIONS: Final[dict[str, Asker]] = {}


def asks(step: State) -> Callable[[Asker], Asker]:
    """Register the function that words `step`'s question (and adds its buttons)."""

    def register(function: Asker) -> Asker:
        QUESTIONS[str(step.state)] = function
        return function

    return register


async def ask(turn: Turn, step: State, draft: Draft) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    await turn.state.set_state(step)
    question = Question()
    text = QUESTIONS[str(step.state)](draft, question)
    await turn.say(text, question.keyboard or markup(question.builder))


async def close_question(turn: Turn) -> None:
    """A question answered with one of its buttons: its buttons go."""
    if turn.answer is not None and turn.message is not None and turn.message.reply_markup is not None:
        await turn.message.edit_reply_markup(reply_markup=None)


async def go_on(turn: Turn, draft: Draft, step: State) -> None:
    """The question is answered: it is closed, the draft kept, and the next step's question asked."""
    await close_question(turn)
    await turn.state.update_data(training=draft)
    await ask(turn, step, draft)


def language_picker(selected: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in SHIPPED_LANGUAGES:
        mark = "✅" if code in selected else "▫️"
        builder.button(
            text=f"{mark} {language_name(code)}", callback_data=TrainingDraft(action="lang", value=code)
        )
    builder.button(text=_("Done"), callback_data=TrainingDraft(action="lang_done"))
    builder.adjust(*[2] * (len(SHIPPED_LANGUAGES) // 2), 1)
    return builder.as_markup()


def questions_text(draft: Draft) -> str:
    lines = []
    for number, item in enumerate(draft.get("questions") or [], start=1):
        options = item.get("options") or []
        kind = " / ".join(escape(option) for option in options) if options else _("free text answer")
        lines.append(f"{number}. {escape(item['text'])} <i>({kind})</i>")
    return "\n".join(lines)


def session_line(number: int, item: dict[str, Any], zone: str) -> str:
    starts_at = moment(item["starts_at"])
    assert starts_at is not None
    where = (
        f"📍 {escape(item['place'])}" if item.get("place") else f"🔗 {escape(item.get('online_url') or '')}"
    )
    when = short_when(starts_at, locale(), zone)
    return f"{number}. {escape(when)} · {escape(duration_label(int(item['duration'])))} · {where}"


def session_list(draft: Draft) -> str:
    zone = draft.get("zone", "UTC")
    ordered = sorted(sessions(draft), key=lambda item: item["starts_at"])
    lines = [session_line(number, item, zone) for number, item in enumerate(ordered, start=1)]
    return _("🗓 <b>Sessions</b>") + "\n" + "\n".join(lines)


@asks(DraftStates.title)
def _title(draft: Draft, question: Question) -> str:
    return _(
        "🎓 <b>New training</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
        "Send /cancel to stop."
    ).format(limit=event_rules.TITLE_MAX)


@asks(DraftStates.description)
def _description(draft: Draft, question: Question) -> str:
    question.button(_("Skip"), "skip", "description")
    return _("Describe the training for members (at most {limit} characters), or press Skip.").format(
        limit=event_rules.DESCRIPTION_MAX
    )


@asks(DraftStates.teaching)
def _teaching(draft: Draft, question: Question) -> str:
    question.keyboard = language_picker(list(draft.get("teaching") or []))
    return _("Which language or languages is it taught in? Tick them, then press Done.")


@asks(DraftStates.trainer)
def _trainer(draft: Draft, question: Question) -> str:
    return _("Who is the trainer? Send their name (at most {limit} characters).").format(limit=TRAINER_MAX)


@asks(DraftStates.session_start)
def _session_start(draft: Draft, question: Question) -> str:
    return _(
        "Session {number}: when does it start? Send the date and time in your time zone ({zone}), "
        "for example 2027-03-14 18:30 or 14.03.2027 18:30."
    ).format(number=len(sessions(draft)) + 1, zone=escape(draft.get("zone", "UTC")))


@asks(DraftStates.session_duration)
def _session_duration(draft: Draft, question: Question) -> str:
    for minutes in DURATIONS:
        question.button(duration_label(minutes), "dur", str(minutes))
    return _("How long is the session? Press a button or send the length, for example 90 or 1:30.")


@asks(DraftStates.session_place)
def _session_place(draft: Draft, question: Question) -> str:
    if sessions(draft):
        question.button(_("Same place as the previous session"), "same")
    return _(
        "Where does the session take place? Send an address, or a link (https://…) for an online session."
    )


@asks(DraftStates.session_more)
def _session_more(draft: Draft, question: Question) -> str:
    if len(sessions(draft)) < SESSIONS_MAX:
        question.button(_("➕ Add another session"), "more")
    question.button(_("Done"), "sessions_done")
    return session_list(draft) + "\n\n" + _("Add another session, or press Done.")


@asks(DraftStates.capacity)
def _capacity(draft: Draft, question: Question) -> str:
    return _("How many seats are there? Send a number (at least 1).")


@asks(DraftStates.deadline)
def _deadline(draft: Draft, question: Question) -> str:
    first = first_start(draft)
    assert first is not None
    question.button(_("Skip"), "skip", "deadline")
    return _(
        "Until when can members sign up? Send a date and time before the first session ({when}), "
        "or press Skip to take sign-ups until it starts."
    ).format(when=escape(format_when(first, locale(), draft.get("zone", "UTC"), "words")))


@asks(DraftStates.questions)
def _questions(draft: Draft, question: Question) -> str:
    listed = questions_text(draft)
    if len(draft.get("questions") or []) < QUESTIONS_MAX:
        question.button(_("➕ Add a question"), "q_add")
    question.button(_("Done") if listed else _("No questions"), "q_done")
    if listed:
        return (
            _("Questions asked at sign-up:")
            + "\n"
            + listed
            + "\n\n"
            + _("Add another question, or press Done.")
        )
    return _(
        "Do you want to ask members something when they sign up, for example “Which organization "
        "are you with?” (at most {limit} questions)?"
    ).format(limit=QUESTIONS_MAX)


@asks(DraftStates.question_text)
def _question_text(draft: Draft, question: Question) -> str:
    return _("Send the question (at most {limit} characters).").format(limit=QUESTION_MAX)


@asks(DraftStates.question_options)
def _question_options(draft: Draft, question: Question) -> str:
    question.button(_("Free text answer"), "free")
    return _(
        "Send the choices, one per line (2 to {count}, each at most {limit} characters), or press "
        "“Free text answer”."
    ).format(count=OPTIONS_MAX, limit=OPTION_MAX)


@asks(DraftStates.translations)
def _translations(draft: Draft, question: Question) -> str:
    """The languages to translate the title and description into (the kit asks for the texts)."""
    done = draft.get("translations") or {}
    text = _("Add a translation of the title and description? Members who use that language will see it.")
    if done:
        text += "\n" + _("Translated: {languages}").format(
            languages=", ".join(language_name(code) for code in done)
        )
    for code in SHIPPED_LANGUAGES:
        if code != draft.get("language"):
            question.button(("✅ " if code in done else "") + language_name(code), "tr", code)
    question.button(_("Done") if done else _("No translations"), "tr_done")
    question.keyboard = markup(question.builder, *[2] * ((len(SHIPPED_LANGUAGES) - 1) // 2), 1, 1)
    return text


@asks(DraftStates.audience)
def _audience(draft: Draft, question: Question) -> str:
    question.button(_("Everyone"), "aud", "all")
    question.button(_("Choose…"), "aud", "choose")
    return _("Who should be told about this training?")


# -- the preview ---------------------------------------------------------------------------------


def preview_text(draft: Draft) -> str:
    """The whole training as the coordinator entered it (every typed value escaped)."""
    zone = draft.get("zone", "UTC")
    lines = [f"🎓 <b>{escape(draft.get('title', ''))}</b>"]
    if draft.get("description"):
        lines += ["", escape(draft["description"])]
    lines += [
        "",
        _("🗣 Taught in: {languages}").format(
            languages=", ".join(language_name(code) for code in draft.get("teaching") or [])
        ),
        _("👤 Trainer: {name}").format(name=escape(draft.get("trainer", ""))),
        _("🎟 Seats: {count}").format(count=draft.get("capacity")),
    ]
    deadline = moment(draft.get("deadline"))
    if deadline is not None:
        lines.append(_("⏳ Sign up until {when}").format(when=escape(short_when(deadline, locale(), zone))))
    lines += ["", session_list(draft)]
    if draft.get("questions"):
        lines += ["", _("❓ <b>Questions at sign-up</b>"), questions_text(draft)]
    if draft.get("translations"):
        lines += [
            "",
            _("🌐 Translated: {languages}").format(
                languages=", ".join(language_name(code) for code in draft["translations"])
            ),
        ]
    return "\n".join(lines)

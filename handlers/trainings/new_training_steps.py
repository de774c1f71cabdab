"""The steps of /newtraining (`STEPS`, by state): the question each step asks, one function per
step with the buttons it answers to (`asks`, here), and how it takes a typed answer (`takes`, in
`new_training` and `new_training_sessions`); asking a step's question, `answer` (a refusal in
words, or the next step) and `go_on` (close the question answered, ask the next one). The draft and
its helpers are in `training_draft`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Final

from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, format_when, language_name, language_names, languages_first, zone_city
from bot.services import events as event_rules
from bot.services.dates import DateError
from bot.services.events import EventError
from bot.services.trainings.rules import (
    OPTION_MAX,
    OPTIONS_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    SESSIONS_MAX,
    TRAINER_MAX,
    TrainingError,
)
from handlers.composer import TEXT_MAX, TextRule, Turn, date_error_text, echo_choice
from handlers.composer.suggest import SUGGEST
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.states import DraftStates
from handlers.trainings.texts import duration_label, error_text, markup, text_rule
from handlers.trainings.training_draft import (
    Draft,
    first_start,
    locale,
    questions_text,
    session_list,
    sessions,
)

DURATIONS: Final = (60, 90, 120, 180)  # minutes offered as buttons


# -- the step table ------------------------------------------------------------------------------


class Question:
    """The buttons under a step's question, as its function adds them (`TrainingDraft` data), or a
    whole `keyboard` of its own."""

    def __init__(self, suggestions: bool = False) -> None:
        self.builder = InlineKeyboardBuilder()
        self.keyboard: InlineKeyboardMarkup | None = None
        self.suggestions = suggestions  # a translation server is set (💡 Suggest translations)

    def button(self, text: str, action: str, value: str = "") -> None:
        self.builder.button(text=text, callback_data=TrainingDraft(action=action, value=value))


Asker = Callable[[Draft, Question], str]  # words a step's question and adds its buttons
Show = Callable[[Turn, Draft], Awaitable[None]]  # a step that shows more than a question (the preview)
EDITING: Final = "editing"  # draft key: the steps of the field ✏️ Edit reopened (state names)
Take = Callable[[Turn, Draft, str], Awaitable[State | None]]  # the next step (None: asked already)


@dataclass(frozen=True)
class Typed:
    """How a step takes a typed answer: the kit's check (`rule`), then `take`."""

    rule: TextRule
    take: Take


@dataclass
class Step:
    """One step of the dialog: its question, the button actions that count while it waits (any
    other is stale), and how it takes a typed answer (`takes`), if it does."""

    question: Asker | None = None
    buttons: frozenset[str] = frozenset()
    typed: Typed | None = None
    show: Show | None = None


STEPS: Final[dict[str, Step]] = {}  # by state name


def step_of(state: State) -> Step:
    return STEPS.setdefault(str(state.state), Step())


def asks(state: State, *buttons: str) -> Callable[[Asker], Asker]:
    """Register the function that words `state`'s question, and the `buttons` it answers to."""

    def register(function: Asker) -> Asker:
        step = step_of(state)
        step.question, step.buttons = function, frozenset(buttons)
        return function

    return register


# -- asking and answering --------------------------------------------------------------------------


async def ask(turn: Turn, state: State, draft: Draft) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    await turn.state.set_state(state)
    show = step_of(state).show
    if show is not None:
        await show(turn, draft)
        return
    question, asker = Question(turn.ctx.translator is not None), step_of(state).question
    assert asker is not None, state
    await turn.say(asker(draft, question), question.keyboard or markup(question.builder))


async def close_question(turn: Turn, choice: str | None = None) -> None:
    """A question answered with one of its buttons: its buttons go, the choice echoed (the kit's)."""
    await echo_choice(turn, choice)


async def go_on(turn: Turn, draft: Draft, step: State, choice: str | None = None) -> None:
    """The question is answered: it is closed (`choice` echoed, else the pressed button's text),
    the draft kept, and the next step's question asked; once a field ✏️ Edit reopened is done (a
    step outside its own), the preview again."""
    await close_question(turn, choice)
    if draft.get(EDITING) and str(step.state) not in draft[EDITING]:
        step = DraftStates.preview
    await turn.state.update_data(training=draft)
    await ask(turn, step, draft)


Refused = TrainingError | EventError | DateError
ANY_TEXT: Final = text_rule(TEXT_MAX)  # a value the step parses itself (a date, a number, a place)


def takes(state: State, rule: TextRule = ANY_TEXT) -> Callable[[Take], Take]:
    """Register how `state`'s step takes a typed answer (after `rule`, the kit's check)."""

    def register(function: Take) -> Take:
        step_of(state).typed = Typed(rule, function)
        return function

    return register


def refusal_text(error: Refused) -> str:
    """A refused answer in words the coordinator can act on."""
    return date_error_text(error) if isinstance(error, DateError) else error_text(error)


async def answer(turn: Turn, draft: Draft, taking: Awaitable[State | None]) -> None:
    """A step's answer (typed or a button): refused in words, or taken and the next question asked."""
    try:
        following = await taking
    except (TrainingError, EventError, DateError) as error:
        await turn.say(refusal_text(error))
        return
    if following is not None:
        await go_on(turn, draft, following)


# -- the questions -------------------------------------------------------------------------------


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


@asks(DraftStates.title)
def _title(draft: Draft, question: Question) -> str:
    return _(
        "🎓 <b>New training</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
        "Send /cancel to stop."
    ).format(limit=event_rules.TITLE_MAX)


@asks(DraftStates.description, "skip")
def _description(draft: Draft, question: Question) -> str:
    question.button(_("Skip"), "skip", "description")
    return _("Describe the training for members (at most {limit} characters), or press Skip.").format(
        limit=event_rules.DESCRIPTION_MAX
    )


@asks(DraftStates.teaching, "lang", "lang_done")
def _teaching(draft: Draft, question: Question) -> str:
    question.keyboard = language_picker(list(draft.get("teaching") or []))
    return _("Which language or languages is it taught in? Tick them, then press Done.")


@asks(DraftStates.trainer)
def _trainer(draft: Draft, question: Question) -> str:
    return _("Who is the trainer? Send their name (at most {limit} characters).").format(limit=TRAINER_MAX)


@asks(DraftStates.session_start, "start_ok", "start_change")
def _session_start(draft: Draft, question: Question) -> str:
    return _(
        "Session {number}: when does it start? Send the date and time in your time zone ({zone}), "
        "for example 2027-03-14 18:30 or 14.03.2027 18:30."
    ).format(number=len(sessions(draft)) + 1, zone=escape(zone_city(draft.get("zone", "UTC"), locale())))


@asks(DraftStates.session_duration, "dur")
def _session_duration(draft: Draft, question: Question) -> str:
    for minutes in DURATIONS:
        question.button(duration_label(minutes), "dur", str(minutes))
    return _("How long is the session? Press a button or send the length, for example 90 or 1:30.")


@asks(DraftStates.session_place, "same")
def _session_place(draft: Draft, question: Question) -> str:
    if sessions(draft):
        question.button(_("Same place as the previous session"), "same")
    return _(
        "Where does the session take place? Send an address, or a link (https://…) for an online session."
    )


@asks(DraftStates.session_more, "more", "sessions_done")
def _session_more(draft: Draft, question: Question) -> str:
    if len(sessions(draft)) < SESSIONS_MAX:
        question.button(_("➕ Add another session"), "more")
    question.button(_("Done"), "sessions_done")
    return session_list(draft) + "\n\n" + _("Add another session, or press Done.")


@asks(DraftStates.capacity)
def _capacity(draft: Draft, question: Question) -> str:
    return _("How many seats are there? Send a number (at least 1).")


@asks(DraftStates.deadline, "skip")
def _deadline(draft: Draft, question: Question) -> str:
    first = first_start(draft)
    assert first is not None
    question.button(_("Skip"), "skip", "deadline")
    return _(
        "Until when can members sign up? Send a date and time before the first session ({when}), "
        "or press Skip to take sign-ups until it starts."
    ).format(when=escape(format_when(first, locale(), draft.get("zone", "UTC"), "words")))


@asks(DraftStates.questions, "q_add", "q_done")
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


@asks(DraftStates.question_options, "free")
def _question_options(draft: Draft, question: Question) -> str:
    question.button(_("Free text answer"), "free")
    return _(
        "Send the choices, one per line (2 to {count}, each at most {limit} characters), or press "
        "“Free text answer”."
    ).format(count=OPTIONS_MAX, limit=OPTION_MAX)


@asks(DraftStates.translations, "tr", "tr_done")
def _translations(draft: Draft, question: Question) -> str:
    """The languages to translate the title and description into (the kit asks for the texts)."""
    done = draft.get("translations") or {}
    text = _("Add a translation of the title and description? Members who use that language will see it.")
    if done:
        text += "\n" + _("Translated: {languages}").format(languages=language_names(done))
    missing = False
    for code in languages_first(*(draft.get("teaching") or [])):  # the languages it is taught in first
        if code != draft.get("language"):
            question.button(("✅ " if code in done else "") + language_name(code), "tr", code)
            missing = missing or code not in done
    if question.suggestions and missing:
        question.button(_("💡 Suggest translations"), SUGGEST)
    question.button(_("Done") if done else _("No translations"), "tr_done")
    question.keyboard = markup(question.builder, *[2] * ((len(SHIPPED_LANGUAGES) - 1) // 2), 1, 1)
    return text


@asks(DraftStates.audience, "aud", "aud_i", "aud_l")
def _audience(draft: Draft, question: Question) -> str:
    question.button(_("Everyone"), "aud", "all")
    question.button(_("Choose…"), "aud", "choose")
    return _("Who should be told about this training?")

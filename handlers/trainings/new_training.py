"""/newtraining: the command and the typed answers. One handler takes every typed step through the
step table `TYPED`: the text is checked by the kit (`read_text`: empty or invisible text, the
step's limit, a text Telegram cut), then by the step's own rule; a refused answer gets a message and
the step waits for a corrected value, a taken one is saved in the draft and the next question is
asked (`go_on`). The buttons are in `draft`, the audience in `audience`, translations, the preview,
Publish and Discard on the kit (`composer`). Nothing is written to the database before Publish."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from copy import deepcopy
from datetime import datetime
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, format_when
from bot.services import events as event_rules
from bot.services.dates import DateError, parse_local_datetime
from bot.services.events import EventError
from bot.services.trainings.rules import (
    DURATION_MAX,
    QUESTION_MAX,
    TRAINER_MAX,
    TrainingError,
    validate_capacity,
)
from handlers.composer import TEXT_MAX, TextRule, Turn, message_turn, read_text, remember_part
from handlers.composer.text import command_text, is_long_part
from handlers.events.texts import date_error_text, parse_place
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.composer import COMPOSER, UNDO_KEY
from handlers.trainings.managed import COORDINATOR
from handlers.trainings.new_training_steps import STEPS, Take, Typed, ask, go_on, step_of
from handlers.trainings.states import DraftStates as S
from handlers.trainings.texts import DURATION_MIN, error_text, text_rule
from handlers.trainings.training_draft import (
    Draft,
    checked_question,
    clean,
    expired,
    first_start,
    moment,
    overlapping,
    parse_duration,
    saved_draft,
    sessions,
    token,
)
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

Refused = TrainingError | EventError | DateError
ANY_TEXT: Final = text_rule(TEXT_MAX)  # a value the step parses itself (a date, a number, a place)


def takes(state: State, rule: TextRule = ANY_TEXT) -> Callable[[Take], Take]:
    """Register how `state`'s step takes a typed answer (after `rule`, the kit's check)."""

    def register(function: Take) -> Take:
        step_of(state).typed = Typed(rule, function)
        return function

    return register


def refusal_text(error: Refused) -> str:
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


async def dialog_draft(message: Message, state: FSMContext) -> Draft | None:
    """The draft a typed text belongs to; None after saying the dialog has expired."""
    draft = await saved_draft(state)
    if draft is None:
        await state.clear()
        await message.answer(expired())
    return draft


@router.message(Command("newtraining"), flags=COORDINATOR)
async def new_training(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(None)
    await state.update_data(training={"zone": ctx.zone, "language": ctx.locale})
    await ask(message_turn(message, ctx, state, bot), S.title, {})


# -- the steps -----------------------------------------------------------------------------------


@takes(S.title, text_rule(event_rules.TITLE_MAX, "title_too_long", "title_empty"))
async def _title(turn: Turn, draft: Draft, text: str) -> State:
    draft["title"] = event_rules.validate_title(text)
    return S.description


@takes(S.description, text_rule(event_rules.DESCRIPTION_MAX, "description_too_long"))
async def _description(turn: Turn, draft: Draft, text: str) -> State:
    draft["description"] = event_rules.validate_description(text)
    return S.teaching


@takes(S.trainer, text_rule(TRAINER_MAX, "trainer_too_long", "trainer_empty"))
async def _trainer(turn: Turn, draft: Draft, text: str) -> State:
    draft["trainer"] = clean(text, TRAINER_MAX, "trainer_empty", "trainer_too_long")
    return S.session_start


@takes(S.session_start)
async def _session_start(turn: Turn, draft: Draft, text: str) -> None:
    when = parse_local_datetime(text, draft["zone"], utcnow()).utc
    draft["pending_start"] = when.isoformat()
    await turn.state.update_data(training=draft)
    await confirm_start(turn, when, draft["zone"])


@takes(S.session_duration)
async def _session_duration(turn: Turn, draft: Draft, text: str) -> State:
    return await duration_taken(turn, draft, parse_duration(text))


@takes(S.session_place)
async def _session_place(turn: Turn, draft: Draft, text: str) -> State:
    place, url = parse_place(text)
    if place is None and url is None:
        raise TrainingError("message_empty")  # "That looks empty."
    return session_taken(draft, place, url)


@takes(S.capacity)
async def _capacity(turn: Turn, draft: Draft, text: str) -> State:
    draft["capacity"] = validate_capacity(text)
    return S.deadline


@takes(S.deadline)
async def _deadline(turn: Turn, draft: Draft, text: str) -> State:
    deadline = parse_local_datetime(text, draft["zone"], utcnow()).utc
    first = first_start(draft)
    if first is None:
        raise TrainingError("no_sessions")
    if deadline >= first:
        raise TrainingError("deadline_after_start")
    draft["deadline"] = deadline.isoformat()
    when = format_when(deadline, turn.ctx.locale, draft["zone"], "words")
    await turn.say(_("✅ Sign-ups close on {when}.").format(when=escape(when)))
    return S.questions


@takes(S.question_text, text_rule(QUESTION_MAX, "question_too_long", "question_empty"))
async def _question_text(turn: Turn, draft: Draft, text: str) -> State:
    draft["pending_question"] = checked_question(text, None)["text"]
    return S.question_options


@takes(S.question_options, text_rule(TEXT_MAX, empty="option_empty"))
async def _question_options(turn: Turn, draft: Draft, text: str) -> State:
    asked = checked_question(draft.get("pending_question", ""), text)
    draft.pop("pending_question", None)
    draft["questions"] = [*(draft.get("questions") or []), asked]
    return S.questions


@takes(S.translation_description)
async def _retired_step(turn: Turn, draft: Draft, text: str) -> State:
    """A dialog an older version left typing a translated description: back to the languages."""
    draft.pop("tr_language", None)
    draft.pop("tr_title", None)
    return S.translations


# -- sessions: start (confirmed), length, place ----------------------------------------------------


async def confirm_start(turn: Turn, when: datetime, zone: str) -> None:
    words = format_when(when, turn.ctx.locale, zone, "words")
    builder = InlineKeyboardBuilder()
    # The moment this message shows rides on its button: an older echo cannot confirm a newer time.
    builder.button(text=_("✅ Correct"), callback_data=TrainingDraft(action="start_ok", value=token(when)))
    builder.button(text=_("✏️ Change"), callback_data=TrainingDraft(action="start_change"))
    builder.adjust(2)
    await turn.say(
        _("The session starts on {when}. Is that right?").format(when=escape(words)), builder.as_markup()
    )


async def duration_taken(turn: Turn, draft: Draft, minutes: int | None) -> State:
    """The length of the session being added (typed or a button), unless it overlaps another."""
    if minutes is None or not DURATION_MIN <= minutes <= DURATION_MAX:
        raise TrainingError("duration_invalid", DURATION_MAX)
    starts_at = moment(draft.get("pending_start"))
    if starts_at is None:
        return S.session_start
    overlapped = overlapping(draft, starts_at, minutes)
    if overlapped is not None:
        draft.pop("pending_start", None)
        await turn.say(
            _("This session overlaps session {number}. Please send another start time.").format(
                number=overlapped
            )
        )
        return S.session_start
    draft["pending_duration"] = minutes
    return S.session_place


def session_taken(draft: Draft, place: str | None, url: str | None) -> State:
    """The session being added is complete (its place typed, or the previous one's)."""
    starts_at, minutes = draft.pop("pending_start", None), draft.pop("pending_duration", None)
    if not starts_at or not minutes:
        return S.session_start
    item = {"starts_at": starts_at, "duration": int(minutes), "place": place, "online_url": url}
    draft["sessions"] = sorted([*sessions(draft), item], key=lambda entry: entry["starts_at"])
    return S.session_more


# -- the answers ----------------------------------------------------------------------------------

TYPED_STATES: Final = [name for name, step in STEPS.items() if step.typed is not None]
WAITING_STATES: Final = [  # the steps answered with buttons (the kit takes the translation items)
    name for name, step in STEPS.items() if step.typed is None and name != COMPOSER.translating.state
]


@router.message(StateFilter(*TYPED_STATES), F.text, flags=COORDINATOR)
async def answer_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    draft, current = await dialog_draft(message, state), await state.get_state() or ""
    step = STEPS[current].typed
    if draft is None or step is None:
        return
    text, before = await read_text(message, state, step.rule), deepcopy(draft)
    if text is None:
        return
    turn = message_turn(message, ctx, state, bot)
    await answer(turn, draft, step.take(turn, draft, text))
    if is_long_part(message):  # its continuation, if Telegram cut it, undoes this step
        await state.update_data({UNDO_KEY: {"step": current, "draft": before}})
        await remember_part(state, message, COMPOSER.name)


@router.message(StateFilter(*WAITING_STATES), F.text, flags=COORDINATOR)
async def text_at_a_button_step(message: Message, state: FSMContext) -> None:
    if await dialog_draft(message, state) is None:
        return
    if (message.text or "").startswith("/"):
        await message.answer(command_text())
    else:
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


@router.message(StateFilter(*S.__all_states__), flags=COORDINATOR)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

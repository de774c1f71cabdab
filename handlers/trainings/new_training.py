"""/newtraining: the command, and every text typed while the dialog waits: a step that takes a
typed answer (`STEPS`) gets it after the kit's check (`read_text`: empty or invisible text, the
step's limit, a text Telegram cut) and its own; a refused answer gets a message and the step waits
for a corrected value, a taken one is saved in the draft and the next question is asked. The steps
of the title, description, trainer, seats, deadline and questions are here; the sessions' in
`new_training_sessions`. Nothing is written to the database before Publish (`composer`)."""

from __future__ import annotations

from copy import deepcopy
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message

from bot.context import Context
from bot.i18n import _, format_when
from bot.policy import Action
from bot.services import events as event_rules
from bot.services.dates import parse_local_datetime
from bot.services.trainings.rules import QUESTION_MAX, TRAINER_MAX, TrainingError, validate_capacity
from handlers.composer import TEXT_MAX, Turn, message_turn, read_text, remember_part, staff_dialog
from handlers.composer.text import answered_a_command, is_long_part
from handlers.trainings.composer import COMPOSER, UNDO_KEY
from handlers.trainings.managed import COORDINATOR
from handlers.trainings.new_training_steps import STEPS, answer, ask, takes
from handlers.trainings.states import DraftStates as S
from handlers.trainings.texts import text_rule
from handlers.trainings.training_draft import Draft, checked_question, clean, dialog_draft, first_start
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@staff_dialog(router, "newtraining", Action.MANAGE_TRAININGS, publishes=True)
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


@takes(S.capacity)
async def _capacity(turn: Turn, draft: Draft, text: str) -> State:
    draft["capacity"] = validate_capacity(text)
    return S.deadline


@takes(S.deadline)
async def _deadline(turn: Turn, draft: Draft, text: str) -> State:
    deadline = parse_local_datetime(text, draft["zone"], utcnow(), language=turn.ctx.locale).utc
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


# -- texts while the dialog waits --------------------------------------------------------------


@router.message(StateFilter(*S.__all_states__), F.text, flags=COORDINATOR)
async def text_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    """A typed answer, taken by its step (`STEPS`), or a text where buttons are awaited. (The kit's
    router, before this one, takes the translated texts.)"""
    draft, current = await dialog_draft(message, state), await state.get_state() or ""
    if draft is None or current not in STEPS:
        return
    typed = STEPS[current].typed
    if typed is None:
        if not await answered_a_command(message):
            await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    text, before = await read_text(message, state, typed.rule), deepcopy(draft)
    if text is None:
        return
    turn = message_turn(message, ctx, state, bot)
    await answer(turn, draft, typed.take(turn, draft, text))
    if is_long_part(message):  # its continuation, if Telegram cut it, undoes this step
        await state.update_data({UNDO_KEY: {"step": current, "draft": before}})
        await remember_part(state, message, COMPOSER.name)


@router.message(StateFilter(*S.__all_states__), flags=COORDINATOR)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

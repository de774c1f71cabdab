"""The buttons of the /newtraining steps, one handler per action: skips, the teaching languages,
session confirmations, lengths and places, questions and translations. The audience, the preview,
Publish and Discard are in `publish`.

A button counts only in the step it belongs to (its state filter); any other `TrainingDraft`
press ends in `publish.stale`, after the rights middleware has refused it to anyone who may not
manage trainings."""

from __future__ import annotations

from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import SHIPPED_LANGUAGES
from bot.services.dates import DateError
from bot.services.trainings.rules import SESSIONS_MAX, TrainingError
from handlers.events.texts import date_error_text
from handlers.fallback import stale_button, toast
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.managed import COORDINATOR
from handlers.trainings.new_training import save_duration, save_session
from handlers.trainings.new_training_steps import (
    ask,
    language_picker,
    moment,
    save_translation,
    sessions,
    token,
)
from handlers.trainings.states import DraftStates
from handlers.trainings.texts import error_text
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)

SKIP_TO: Final = {
    "description": DraftStates.teaching,
    "deadline": DraftStates.questions,
    "tr_description": DraftStates.translations,
}


def draft_button(action: str, *values: str) -> Any:
    """The filter of one action's buttons (with one of `values`, when given)."""
    condition = F.action == action
    return TrainingDraft.filter(condition & F.value.in_(values) if values else condition)


async def current_draft(state: FSMContext, callback_answer: CallbackAnswer) -> dict[str, Any] | None:
    """The draft being written; None (the button is stale) when the dialog is gone."""
    draft = dict((await state.get_data()).get("training") or {})
    if not draft.get("zone"):
        stale_button(callback_answer)
        return None
    return draft


async def answered(query: CallbackQuery) -> None:
    """The question is answered: its buttons go."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


async def _next(bot: Bot, chat_id: int, state: FSMContext, draft: dict[str, Any], step: State) -> None:
    await state.update_data(training=draft)
    await ask(bot, chat_id, state, step, draft)


# -- moving on ----------------------------------------------------------------------------------


@router.callback_query(draft_button("skip", "description"), DraftStates.description, flags=COORDINATOR)
@router.callback_query(draft_button("skip", "deadline"), DraftStates.deadline, flags=COORDINATOR)
@router.callback_query(
    draft_button("skip", "tr_description"), DraftStates.translation_description, flags=COORDINATOR
)
async def skip(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Skip an optional step (the description, the deadline, a translated description)."""
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    await answered(query)
    if callback_data.value == "tr_description":
        save_translation(draft, None)
    await _next(bot, query.from_user.id, state, draft, SKIP_TO[callback_data.value])


# Buttons that only lead to the next question: action → the next step.
FORWARD: Final[dict[str, State]] = {
    "sessions_done": DraftStates.capacity,
    "q_add": DraftStates.question_text,
    "q_done": DraftStates.translations,
    "tr_done": DraftStates.audience,
}


@router.callback_query(draft_button("sessions_done"), DraftStates.session_more, flags=COORDINATOR)
@router.callback_query(draft_button("q_add"), DraftStates.questions, flags=COORDINATOR)
@router.callback_query(draft_button("q_done"), DraftStates.questions, flags=COORDINATOR)
@router.callback_query(draft_button("tr_done"), DraftStates.translations, flags=COORDINATOR)
async def forward(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Done with the sessions, a question to add, done with the questions or the translations."""
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    await answered(query)
    await _next(bot, query.from_user.id, state, draft, FORWARD[callback_data.action])


# -- teaching languages -------------------------------------------------------------------------


@router.callback_query(draft_button("lang", *SHIPPED_LANGUAGES), DraftStates.teaching, flags=COORDINATOR)
async def toggle_language(
    query: CallbackQuery, callback_data: TrainingDraft, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    chosen, value = list(draft.get("teaching") or []), callback_data.value
    draft["teaching"] = [code for code in chosen if code != value] if value in chosen else [*chosen, value]
    await state.update_data(training=draft)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=language_picker(draft["teaching"]))


@router.callback_query(draft_button("lang_done"), DraftStates.teaching, flags=COORDINATOR)
async def languages_done(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    if not draft.get("teaching"):
        toast(callback_answer, error_text(TrainingError("no_teaching_language")), alert=True)
        return
    await answered(query)
    await _next(bot, query.from_user.id, state, draft, DraftStates.trainer)


# -- sessions -----------------------------------------------------------------------------------


@router.callback_query(draft_button("start_ok"), DraftStates.session_start, flags=COORDINATOR)
async def start_confirmed(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The echoed start is right (the button carries the moment it showed)."""
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    pending = moment(draft.get("pending_start"))
    if pending is None or token(pending) != callback_data.value:
        stale_button(callback_answer)
        return
    await answered(query)
    following = DraftStates.session_duration
    if pending <= utcnow():
        draft.pop("pending_start", None)
        await bot.send_message(query.from_user.id, date_error_text(DateError("past")))
        following = DraftStates.session_start
    await _next(bot, query.from_user.id, state, draft, following)


@router.callback_query(draft_button("start_change"), DraftStates.session_start, flags=COORDINATOR)
async def start_changed(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    await answered(query)
    draft.pop("pending_start", None)
    await _next(bot, query.from_user.id, state, draft, DraftStates.session_start)


@router.callback_query(draft_button("dur"), DraftStates.session_duration, flags=COORDINATOR)
async def duration_chosen(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    if not callback_data.value.isdigit():
        stale_button(callback_answer)
        return
    await answered(query)
    await save_duration(bot, query.from_user.id, state, draft, int(callback_data.value))


@router.callback_query(draft_button("same"), DraftStates.session_place, flags=COORDINATOR)
async def same_place(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    await answered(query)
    previous = sessions(draft)[-1] if sessions(draft) else None
    if previous is None:
        stale_button(callback_answer)
        return
    await save_session(
        bot, query.from_user.id, state, draft, previous.get("place"), previous.get("online_url")
    )


@router.callback_query(draft_button("more"), DraftStates.session_more, flags=COORDINATOR)
async def another_session(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    await answered(query)
    if len(sessions(draft)) >= SESSIONS_MAX:
        stale_button(callback_answer)
        return
    await _next(bot, query.from_user.id, state, draft, DraftStates.session_start)


# -- questions and translations -----------------------------------------------------------------


@router.callback_query(draft_button("free"), DraftStates.question_options, flags=COORDINATOR)
async def free_text_answer(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    """The question being added takes a typed answer instead of choices."""
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    await answered(query)
    question = draft.pop("pending_question", None)
    if question:
        draft["questions"] = [*(draft.get("questions") or []), {"text": question, "options": []}]
    await _next(bot, query.from_user.id, state, draft, DraftStates.questions)


@router.callback_query(draft_button("tr", *SHIPPED_LANGUAGES), DraftStates.translations, flags=COORDINATOR)
async def translate(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    if callback_data.value == draft.get("language"):
        stale_button(callback_answer)
        return
    await answered(query)
    draft["tr_language"] = callback_data.value
    await _next(bot, query.from_user.id, state, draft, DraftStates.translation_title)

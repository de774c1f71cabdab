"""The steps of one question in the creation dialogs: its text (the poll's question), its kind, its
options, a number's bounds, a written answer's length, whether it may be skipped, and another
question or not; and the poll's one answer or several.

A typed value is checked as the service will store it (`bot.services.surveys.drafts`) and refused
with a message the coordinator can act on; the dialog then waits for a corrected value.
"""

from __future__ import annotations

from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.policy import Action, rights
from bot.services.surveys.drafts import check_question, checked_line, more_options, parse_bounds
from bot.services.surveys.rules import QUESTION_MAX, QUESTIONS_MAX, TEXT_DEFAULT, SurveyError
from handlers.fallback import toast
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.dialog import advance, button_step, hide_buttons, step_button, typed_step
from handlers.surveys.states import SurveyDialogStates as States
from handlers.surveys.steps import ask, options_reply
from handlers.surveys.texts import error_text
from storage.models import QuestionKind

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

RATING_SCALES: Final = {"rating5": (1, 5), "rating10": (0, 10)}


# -- typed ----------------------------------------------------------------------------------------


@router.message(StateFilter(States.question, States.text), F.text, flags=rights(Action.RUN_SURVEYS))
async def question_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    """The poll's question, or the text of a survey's question."""
    if (found := await typed_step(message, state)) is None:
        return
    step, draft = found
    current = dict(draft.get("current") or {})
    try:
        current["text"] = checked_line(
            message.text or "", QUESTION_MAX, "question_empty", "question_too_long"
        )
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    draft["current"] = current
    await advance(bot, message.chat.id, ctx, state, step, draft)


@router.message(StateFilter(States.options), F.text, flags=rights(Action.RUN_SURVEYS))
async def options_typed(message: Message, state: FSMContext) -> None:
    """More options (one per line); the dialog stays at this step until Done."""
    if (found := await typed_step(message, state)) is None:
        return
    _step, draft = found
    current = dict(draft.get("current") or {})
    try:
        current["options"] = more_options(list(current.get("options") or []), message.text or "")
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    draft["current"] = current
    await state.update_data(survey_draft=draft)
    await options_reply(message, current["options"])


@router.message(StateFilter(States.bounds), F.text, flags=rights(Action.RUN_SURVEYS))
async def bounds_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    if (found := await typed_step(message, state)) is None:
        return
    step, draft = found
    current = dict(draft.get("current") or {})
    try:
        current["min_value"], current["max_value"] = parse_bounds(message.text or "")
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    await _limit_set(message, ctx, state, bot, step, draft, current)


@router.message(StateFilter(States.max_length), F.text, flags=rights(Action.RUN_SURVEYS))
async def max_length_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    if (found := await typed_step(message, state)) is None:
        return
    step, draft = found
    current = dict(draft.get("current") or {})
    text = (message.text or "").strip()
    current["max_length"] = int(text) if text.isdigit() and len(text) < 6 else 0
    await _limit_set(message, ctx, state, bot, step, draft, current)


async def _limit_set(
    message: Message,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    step: str,
    draft: dict[str, Any],
    current: dict[str, Any],
) -> None:
    """A number's bounds or a text's length, checked with the question as the service will."""
    try:
        check_question({**current, "text": current.get("text") or "?"})
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    draft["current"] = current
    await advance(bot, message.chat.id, ctx, state, step, draft)


# -- buttons --------------------------------------------------------------------------------------


@router.callback_query(step_button("kind"), flags=rights(Action.RUN_SURVEYS))
async def kind_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    value = callback_data.value
    current: dict[str, object] = {"kind": "rating" if value in RATING_SCALES else value}
    if value in RATING_SCALES:
        current["min_value"], current["max_value"] = RATING_SCALES[value]
    draft["current"] = current
    await advance(bot, query.from_user.id, ctx, state, step, draft)


@router.callback_query(step_button("opt_done"), flags=rights(Action.RUN_SURVEYS))
async def options_done(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    current = dict(draft.get("current") or {})
    try:
        check_question({**current, "text": current.get("text") or "?"})
    except SurveyError as error:
        toast(callback_answer, error_text(error), alert=True)
        return
    await hide_buttons(query)
    await advance(bot, query.from_user.id, ctx, state, step, draft)


@router.callback_query(step_button("skip_bounds"), flags=rights(Action.RUN_SURVEYS))
async def bounds_skipped(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A number without bounds."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    current = dict(draft.get("current") or {})
    current["min_value"] = current["max_value"] = None
    draft["current"] = current
    await advance(bot, query.from_user.id, ctx, state, step, draft)


@router.callback_query(step_button("maxlen_default"), flags=rights(Action.RUN_SURVEYS))
async def default_length_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A written answer of the default length."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    current = dict(draft.get("current") or {})
    current["max_length"] = TEXT_DEFAULT
    draft["current"] = current
    await advance(bot, query.from_user.id, ctx, state, step, draft)


@router.callback_query(step_button("optional"), flags=rights(Action.RUN_SURVEYS))
async def optional_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The question is complete: it joins the draft's questions."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    chat_id = query.from_user.id
    current = dict(draft.get("current") or {})
    current["optional"] = callback_data.value == "yes"
    try:
        draft["questions"] = [*draft.get("questions", []), check_question(current)]
    except SurveyError as error:
        await bot.send_message(chat_id, error_text(error))
        await ask(bot, chat_id, state, "kind", draft)
        return
    draft["current"] = {}
    if len(draft["questions"]) >= QUESTIONS_MAX:
        await bot.send_message(chat_id, error_text(SurveyError("too_many_questions")))
        await state.update_data(survey_draft=draft)
        await ask(bot, chat_id, state, "anonymous", draft)  # the settings come next
        return
    await advance(bot, chat_id, ctx, state, step, draft)


@router.callback_query(step_button("more"), flags=rights(Action.RUN_SURVEYS))
async def more_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Another question, or on to the survey's settings."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    _step, draft = found
    await hide_buttons(query)
    await state.update_data(survey_draft=draft)
    following = "kind" if callback_data.value == "add" else "anonymous"
    await ask(bot, query.from_user.id, state, following, draft)


@router.callback_query(step_button("multiple"), flags=rights(Action.RUN_SURVEYS))
async def multiple_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The poll's one answer or several: its question is complete."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    current = dict(draft.get("current") or {})
    current["kind"] = str(QuestionKind.MULTIPLE if callback_data.value == "yes" else QuestionKind.SINGLE)
    draft["questions"] = [check_question(current)]
    await advance(bot, query.from_user.id, ctx, state, step, draft)

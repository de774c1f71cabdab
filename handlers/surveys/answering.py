"""A member answering a survey, one question at a time: ▶️ Start (or continue), a tap on an option,
a rating or yes/no, ticking several options then Done, Skip for an optional question, and typed
numbers and texts. Back and Submit are in `review`.

A button counts only for the question being answered (`member_screens.progress`): an older one, or
forged data, stores nothing.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.surveys.responses import answer, start_or_resume
from bot.services.surveys.rules import SurveyError
from bot.views.surveys import SurveyAction
from handlers.fallback import stale_button
from handlers.surveys.member_screens import (
    Progress,
    answer_error_text,
    member_survey,
    progress,
    refused,
    registered,
    screen,
    show_current,
    submitted_text,
)
from handlers.surveys.states import AnsweringStates
from storage.models import QuestionKind, SurveyQuestion
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)

BUTTON_KINDS = (QuestionKind.SINGLE, QuestionKind.YES_NO, QuestionKind.RATING)
TYPED_KINDS = (QuestionKind.NUMBER, QuestionKind.TEXT)


@router.callback_query(SurveyAction.filter(F.action == "start"), flags=rights(Action.PUBLIC))
async def start(
    query: CallbackQuery,
    callback_data: SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The current question (the first, or where they left off) as a new message."""
    if (place := await progress(query, callback_data, ctx, state, callback_answer, bot)) is None:
        return
    await state.set_state(AnsweringStates.answering)
    await state.update_data(survey_id=place.survey.id)
    text, keyboard = await screen(ctx, place.survey, place.member, place.response, place.current)
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(SurveyAction.filter(F.action == "answer"), flags=rights(Action.PUBLIC))
async def answer_tapped(
    query: CallbackQuery,
    callback_data: SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """One choice, a rating, or yes/no (`value` 1/0)."""
    if (place := await progress(query, callback_data, ctx, state, callback_answer, bot)) is None:
        return
    current, value = place.current, callback_data.value
    kind = QuestionKind(current.kind) if current is not None else None
    if current is None or kind not in BUTTON_KINDS or (kind == QuestionKind.YES_NO and value not in (0, 1)):
        stale_button(callback_answer)
        return
    await _store(
        query, ctx, state, callback_answer, bot, place, bool(value) if kind == QuestionKind.YES_NO else value
    )


@router.callback_query(SurveyAction.filter(F.action == "done"), flags=rights(Action.PUBLIC))
async def choices_done(
    query: CallbackQuery,
    callback_data: SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Done under a multiple choice: `value` is the selection, a bit per option."""
    if (place := await progress(query, callback_data, ctx, state, callback_answer, bot)) is None:
        return
    if (current := _selection_of(place, callback_data, callback_answer)) is None:
        return
    value = callback_data.value
    chosen = [index for index in range(len(current.options)) if value & (1 << index)]
    await _store(query, ctx, state, callback_answer, bot, place, chosen)


@router.callback_query(SurveyAction.filter(F.action == "skip"), flags=rights(Action.PUBLIC))
async def skipped(
    query: CallbackQuery,
    callback_data: SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Skip ⏭ (the service refuses it for a required question)."""
    if (place := await progress(query, callback_data, ctx, state, callback_answer, bot)) is None:
        return
    if place.current is None:
        stale_button(callback_answer)
        return
    await _store(query, ctx, state, callback_answer, bot, place, None)


def _selection_of(
    place: Progress, callback_data: SurveyAction, callback_answer: CallbackAnswer
) -> SurveyQuestion | None:
    """The multiple-choice question a selection (`value`, a bit per option) belongs to; None (a
    stale button) for another kind of question or bits beyond its options."""
    current, value = place.current, callback_data.value
    if current is None or current.kind != QuestionKind.MULTIPLE or not 0 <= value < 1 << len(current.options):
        stale_button(callback_answer)
        return None
    return current


async def _store(
    query: CallbackQuery,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
    place: Progress,
    value: Any,
) -> None:
    """The answer to the current question; the next one (or the review) replaces the message."""
    assert place.current is not None
    try:
        following = await answer(ctx.session, place.response, place.current, value, place.now)
    except SurveyError as error:
        await refused(error, state, callback_answer)
        return
    await show_current(query, bot, ctx, state, place, following)


@router.callback_query(SurveyAction.filter(F.action == "toggle"), flags=rights(Action.PUBLIC))
async def option_toggled(
    query: CallbackQuery,
    callback_data: SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A multiple-choice option ticked or unticked: only the keyboard changes (`value` is the
    selection after the tap); nothing is stored until Done."""
    if (place := await progress(query, callback_data, ctx, state, callback_answer, bot)) is None:
        return
    if (current := _selection_of(place, callback_data, callback_answer)) is None:
        return
    _text, keyboard = await screen(
        ctx, place.survey, place.member, place.response, current, callback_data.value
    )
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=keyboard)
        except TelegramBadRequest as error:  # a double tap: the keyboard already shows it
            if "not modified" not in str(error):
                raise


# -- typed answers ---------------------------------------------------------------------------------


@router.message(
    AnsweringStates.answering,
    F.chat.type == "private",
    F.text,
    ~F.text.startswith("/"),
    flags=rights(Action.PUBLIC),
)
async def typed_answer(message: Message, ctx: Context, state: FSMContext) -> None:
    """A number or a text for the current question (a question with buttons is shown again)."""
    member = ctx.member
    survey = await member_survey(ctx.session, ctx.organization_id, (await state.get_data()).get("survey_id"))
    if member is None or not registered(member) or survey is None:
        await state.clear()
        await message.answer(_("This survey no longer exists."))
        return
    now = utcnow()
    try:
        response, current = await start_or_resume(ctx.session, survey, member, now)
    except SurveyError as error:
        await state.clear()
        if error.reason == "submitted":
            await message.answer(await submitted_text(ctx, survey, member))
        else:
            await message.answer(answer_error_text(error))
        return
    if current is None or current.kind not in TYPED_KINDS:
        text, keyboard = await screen(ctx, survey, member, response, current)
        hint = _("Please tap one of the buttons below.")
        await message.answer(f"<i>{escape(hint)}</i>\n\n{text}", reply_markup=keyboard)
        return
    raw = message.text or ""
    try:
        following = await answer(ctx.session, response, current, raw, now)
    except SurveyError as error:
        if error.reason == "closed":
            await state.clear()
        await message.answer(answer_error_text(error, current, raw))
        return
    text, keyboard = await screen(ctx, survey, member, response, following)
    await message.answer(text, reply_markup=keyboard)


@router.message(AnsweringStates.answering, F.chat.type == "private", ~F.text, flags=rights(Action.PUBLIC))
async def not_text(message: Message) -> None:
    await message.answer(_("Please type your answer as text."))

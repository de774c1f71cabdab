"""◀ Back (from a question, or from the review before Submit) and ✅ Submit: the answers are final
after that, and a second attempt shows them (attributed surveys) or only says it was done."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.policy import Action, rights
from bot.services.surveys.building import questions_of
from bot.services.surveys.languages import reading_version
from bot.services.surveys.responses import back, submit
from bot.services.surveys.rules import SurveyError
from bot.views import surveys as view
from handlers.fallback import stale_button
from handlers.surveys.member_screens import progress, refused, show, show_current

router: Final[Router] = Router(name=__name__)


@router.callback_query(view.SurveyAction.filter(F.action == "back"), flags=rights(Action.PUBLIC))
async def went_back(
    query: CallbackQuery,
    callback_data: view.SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The previous question, with its stored answer shown."""
    if (place := await progress(query, callback_data, ctx, state, callback_answer, bot)) is None:
        return
    questions = await questions_of(ctx.session, place.survey.id or 0)
    expected = place.current.position if place.current is not None else len(questions)
    if expected == 0:
        stale_button(callback_answer)
        return
    try:
        current = await back(ctx.session, place.response, place.now, expected)
    except SurveyError as error:
        await refused(error, state, callback_answer)
        return
    await show_current(query, bot, ctx, state, place, current)


@router.callback_query(view.SurveyAction.filter(F.action == "submit"), flags=rights(Action.PUBLIC))
async def submitted(
    query: CallbackQuery,
    callback_data: view.SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Submit under the review (only there: every question answered or skipped)."""
    if (place := await progress(query, callback_data, ctx, state, callback_answer, bot)) is None:
        return
    if place.current is not None:
        stale_button(callback_answer)
        return
    try:
        await submit(ctx.session, place.response, place.now)
    except SurveyError as error:
        await refused(error, state, callback_answer)
        return
    await state.clear()
    questions = await questions_of(ctx.session, place.survey.id or 0)
    version = reading_version(
        place.survey, questions, place.member.language, ctx.organization.default_language
    )
    await show(query, bot, view.thanks(place.survey, version), None)

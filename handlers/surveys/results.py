"""A survey opened from /results (or 🔄 Refresh): its live results (text, then a chart per choice
or rating question) with the buttons to read, break down, export, close, extend or duplicate it;
a draft shows its card instead."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from handlers.composer import button_turn
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.composer import show_card
from handlers.surveys.lookups import ON_SURVEY
from handlers.surveys.views import show_results
from storage.models import Survey, SurveyStatus

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyManage.filter(F.action == "open"), flags=ON_SURVEY)
async def open_survey(
    query: CallbackQuery,
    survey: Survey,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    if survey.status == SurveyStatus.DRAFT:
        await show_card(button_turn(query, ctx, state, bot, callback_answer), survey)
    else:
        await show_results(bot, query.from_user.id, ctx, survey)

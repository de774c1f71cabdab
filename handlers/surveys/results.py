"""A survey opened from /results (or 🔄 Refresh): its live results (text, then a chart per choice
or rating question) with the buttons to read, break down, export, close, extend or duplicate it;
a draft shows its card instead."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.policy import Action, rights
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import survey_named
from handlers.surveys.views import send_draft, show_results
from storage.models import SurveyStatus

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyManage.filter(F.action == "open"), flags=rights(Action.RUN_SURVEYS))
async def open_survey(
    query: CallbackQuery, callback_data: SurveyManage, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    if (survey := await survey_named(ctx, callback_answer, callback_data.id)) is None:
        return
    if survey.status == SurveyStatus.DRAFT:
        await send_draft(bot, query.from_user.id, ctx, survey, ctx.zone)
    else:
        await show_results(bot, query.from_user.id, ctx, survey)

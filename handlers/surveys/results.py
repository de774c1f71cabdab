"""A survey opened from /results (or 🔄 Refresh): its live results (text, then a chart per choice
or rating question) with the buttons to read, break down, export, close, extend or duplicate it;
a draft shows its card instead."""

from __future__ import annotations

from typing import Final

from aiogram import Router

from handlers.composer import Turn
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.composer import show_card
from handlers.surveys.lookups import results_button
from handlers.surveys.views import show_results
from storage.models import Survey, SurveyStatus

router: Final[Router] = Router(name=__name__)


@results_button(router, "open")
async def open_survey(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    if survey.status == SurveyStatus.DRAFT:
        await show_card(turn, survey)
    else:
        await show_results(turn, survey)

"""📄 CSV and 📗 XLSX exports of a survey's responses (or a native poll's votes), sent as files.
Anonymous surveys carry no member data in either."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.surveys.exports import export_rows_csv, export_xlsx
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import published_named
from handlers.surveys.texts import survey_title, yes_no

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyManage.filter(F.action == "csv"), flags=rights(Action.RUN_SURVEYS))
async def export_csv(
    query: CallbackQuery, callback_data: SurveyManage, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    if (survey := await published_named(ctx, callback_answer, callback_data.id)) is None:
        return
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(await export_rows_csv(ctx.session, survey), filename=f"survey-{survey.id}.csv"),
        caption=_("📄 Responses to “{title}”").format(
            title=escape(survey_title(survey, ctx.locale, ctx.organization))
        ),
    )


@router.callback_query(SurveyManage.filter(F.action == "xlsx"), flags=rights(Action.RUN_SURVEYS))
async def export_workbook(
    query: CallbackQuery, callback_data: SurveyManage, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    """The responses and a summary per question, headings and yes/no in the coordinator's language."""
    if (survey := await published_named(ctx, callback_answer, callback_data.id)) is None:
        return
    data = await export_xlsx(ctx.session, survey, language=ctx.locale, translate=yes_no, headings=_headings())
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(data, filename=f"survey-{survey.id}.xlsx"),
        caption=_("📗 Responses to “{title}”").format(
            title=escape(survey_title(survey, ctx.locale, ctx.organization))
        ),
    )


def _headings() -> dict[str, str]:
    return {
        "question": _("Question"),
        "answer": _("Answer"),
        "count": _("Count"),
        "percent": _("Percent"),
        "answered": _("Answered"),
        "average": _("Average"),
        "minimum": _("Minimum"),
        "maximum": _("Maximum"),
    }

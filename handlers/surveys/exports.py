"""📄 CSV and 📗 XLSX exports of a survey's responses (or a native poll's votes), sent as files.
Anonymous surveys carry no member data in either."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery

from bot.context import Context
from bot.i18n import _
from bot.services.surveys.exports import export_rows_csv, export_xlsx
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import ON_SURVEY
from handlers.surveys.texts import survey_title, yes_no
from storage.models import Survey

router: Final[Router] = Router(name=__name__)


@router.callback_query(SurveyManage.filter(F.action == "csv"), flags=ON_SURVEY)
async def export_csv(query: CallbackQuery, survey: Survey, ctx: Context, bot: Bot) -> None:
    data = await export_rows_csv(ctx.session, survey)
    await _send(query, survey, ctx, bot, data, "csv", _("📄 Responses to “{title}”"))


@router.callback_query(SurveyManage.filter(F.action == "xlsx"), flags=ON_SURVEY)
async def export_workbook(query: CallbackQuery, survey: Survey, ctx: Context, bot: Bot) -> None:
    """The responses and a summary per question, headings and yes/no in the coordinator's language."""
    data = await export_xlsx(ctx.session, survey, language=ctx.locale, translate=yes_no, headings=_headings())
    await _send(query, survey, ctx, bot, data, "xlsx", _("📗 Responses to “{title}”"))


async def _send(
    query: CallbackQuery, survey: Survey, ctx: Context, bot: Bot, data: bytes, kind: str, caption: str
) -> None:
    title = escape(survey_title(survey, ctx.locale, ctx.organization))
    document = BufferedInputFile(data, filename=f"survey-{survey.id}.{kind}")
    await bot.send_document(query.from_user.id, document, caption=caption.format(title=title))


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

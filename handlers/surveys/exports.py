"""📄 CSV and 📗 XLSX exports of a survey's responses (or a native poll's votes), sent as files.
Anonymous surveys carry no member data in either."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Router
from aiogram.types import BufferedInputFile

from bot.i18n import _
from bot.services import audit
from bot.services.surveys.exports import export_rows_csv, export_xlsx
from handlers.composer import Turn
from handlers.surveys.callbacks import SurveyManage
from handlers.surveys.lookups import results_button
from handlers.surveys.texts import survey_title, yes_no
from storage.models import Survey

router: Final[Router] = Router(name=__name__)


@results_button(router, "csv")
async def export_csv(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    data = await export_rows_csv(turn.ctx.session, survey)
    await _send(turn, survey, data, "csv", _("📄 Responses to “{title}”"))


@results_button(router, "xlsx")
async def export_workbook(turn: Turn, survey: Survey, button: SurveyManage) -> None:
    """The responses and a summary per question, headings and yes/no in the coordinator's language."""
    ctx = turn.ctx
    data = await export_xlsx(ctx.session, survey, language=ctx.locale, translate=yes_no, headings=_headings())
    await _send(turn, survey, data, "xlsx", _("📗 Responses to “{title}”"))


async def _send(turn: Turn, survey: Survey, data: bytes, kind: str, caption: str) -> None:
    title = escape(survey_title(survey, turn.ctx.locale, turn.ctx.organization))
    audit.exported(
        turn.ctx.session, "survey", turn.ctx.user_id, survey.organization_id, survey_id=survey.id, format=kind
    )
    document = BufferedInputFile(data, filename=f"survey-{survey.id}.{kind}")
    await turn.bot.send_document(turn.chat_id, document, caption=caption.format(title=title))


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

"""Exports: the responses as CSV (one row per submitted response), an XLSX workbook (the CSV's rows
and a summary per question), and the votes of a non-anonymous native poll as CSV.

The responses sheet is the CSV itself, so both exports always hold the same rows and columns:
anonymous surveys carry no member data in either (rows in the random order of their keys), and
every text cell is already neutralized against formula injection (`spreadsheet_cell`). Numbers
become numeric cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import spreadsheets
from bot.services.audience import PAGE, spreadsheet_cell
from bot.services.surveys.building import questions_of
from bot.services.surveys.results import results
from bot.services.surveys.tally import QuestionResult
from storage import models


def cell_text(question: models.SurveyQuestion, value: Any) -> str:
    if value is None:
        return ""
    if question.kind == models.QuestionKind.YES_NO:
        return "yes" if value else "no"
    if question.kind == models.QuestionKind.SINGLE:
        return spreadsheet_cell(question.options[value])
    if question.kind == models.QuestionKind.MULTIPLE:
        return spreadsheet_cell("; ".join(question.options[index] for index in value))
    if question.kind == models.QuestionKind.TEXT:
        return spreadsheet_cell(str(value))
    return str(value)


async def export_csv(session: AsyncSession, survey: models.Survey) -> bytes:
    """One row per submitted response (UTF-8 with BOM for Excel). Attributed surveys carry the
    member id and name; anonymous ones no member data, rows in random order."""
    questions = await questions_of(session, survey.id or 0)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    member_columns = [] if survey.anonymous else ["member_id", "name"]
    writer.writerow(
        [
            "response",
            *member_columns,
            "submitted_at",
            *(spreadsheet_cell(f"Q{q.position + 1}. {q.text}") for q in questions),
        ]
    )
    query = (
        select(models.SurveyResponse, models.Member.display_name)
        .outerjoin(models.Member, col(models.Member.id) == col(models.SurveyResponse.member_id))
        .where(
            models.SurveyResponse.survey_id == survey.id,
            models.SurveyResponse.status == models.ResponseStatus.SUBMITTED,
        )
        .order_by(col(models.SurveyResponse.respondent_key))
    )
    responses = (await session.exec(query)).all()
    answers: dict[int, dict[int, Any]] = {}
    ids = [response.id for response, _ in responses]
    for start in range(0, len(ids), PAGE):
        rows = await session.exec(
            select(
                models.SurveyAnswer.response_id, models.SurveyAnswer.question_id, models.SurveyAnswer.value
            ).where(col(models.SurveyAnswer.response_id).in_(ids[start : start + PAGE]))
        )
        for response_id, question_id, value in rows.all():
            answers.setdefault(response_id, {})[question_id] = value
    for number, (response, name) in enumerate(responses, start=1):
        given = answers.get(response.id or 0, {})
        member = [] if survey.anonymous else [response.member_id, spreadsheet_cell(name or "")]
        submitted = response.submitted_at
        when = submitted.date().isoformat() if survey.anonymous and submitted else (submitted or "")
        writer.writerow(
            [
                number,
                *member,
                when.isoformat() if isinstance(when, datetime) else when,
                *(cell_text(q, given.get(q.id or 0)) for q in questions),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


NUMERIC_KINDS = (models.QuestionKind.NUMBER, models.QuestionKind.RATING)
_text = spreadsheets.text


async def export_votes_csv(session: AsyncSession, survey: models.Survey) -> bytes:
    """A native poll's votes, one row per voter (non-anonymous polls; anonymous ones: header only,
    since Telegram tells nobody who voted)."""
    questions = await questions_of(session, survey.id or 0)
    options = questions[0].options if questions else []
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["vote"] if survey.anonymous else ["vote", "member_id", "name"]
    writer.writerow([*header, spreadsheet_cell(questions[0].text if questions else survey.title)])
    if not survey.anonymous:
        rows = (
            await session.exec(
                select(models.PollVote.member_id, models.Member.display_name, models.PollVote.option_ids)
                .join(models.Member, col(models.Member.id) == col(models.PollVote.member_id))
                .where(models.PollVote.survey_id == survey.id)
                .order_by(col(models.PollVote.id))
            )
        ).all()
        for number, (member_id, name, option_ids) in enumerate(rows, start=1):
            chosen = "; ".join(options[index] for index in option_ids if 0 <= index < len(options))
            writer.writerow([number, member_id, spreadsheet_cell(name or ""), spreadsheet_cell(chosen)])
    return buffer.getvalue().encode("utf-8-sig")


async def export_rows_csv(session: AsyncSession, survey: models.Survey) -> bytes:
    """The CSV of a survey: one row per response, or per vote for a native poll."""
    return await (export_votes_csv if survey.native_poll else export_csv)(session, survey)


async def export_xlsx(
    session: AsyncSession,
    survey: models.Survey,
    *,
    language: str | None = None,
    translate: Callable[[str], str] = str,
    headings: dict[str, str] | None = None,
) -> bytes:
    """A workbook with two sheets: "Responses" (the CSV's rows) and "Summary" (per question: the
    counts and percentages of each option, averages, how many answered), labels in `language`.
    `translate` turns the service's "yes"/"no" labels into words; `headings` names the summary's
    columns (keys: question, answer, count, percent, answered, average, minimum, maximum)."""
    names = {
        "question": "Question",
        "answer": "Answer",
        "count": "Count",
        "percent": "Percent",
        "answered": "Answered",
        "average": "Average",
        "minimum": "Minimum",
        "maximum": "Maximum",
        **(headings or {}),
    }
    from openpyxl.styles import Font  # here: a heavy import only exports need

    workbook = spreadsheets.new_workbook()
    rows = spreadsheets.csv_rows(await export_rows_csv(session, survey))
    questions = await questions_of(session, survey.id or 0)
    numeric = {
        len(rows[0]) - len(questions) + index
        for index, question in enumerate(questions)
        if question.kind in NUMERIC_KINDS
    }
    numeric |= {0} | ({1} if rows and len(rows[0]) > 1 and rows[0][1] == "member_id" else set())
    spreadsheets.add_sheet(workbook, "Responses", rows, lambda _row, column: column in numeric)
    summary = workbook.create_sheet("Summary")
    outcome = await results(session, survey, language=language)
    summary.append([_text(names[key]) for key in ("question", "answer", "count", "percent")])
    for cell in summary[1]:
        cell.font = Font(bold=True)
    for result in outcome.questions:
        _summary_rows(summary, result, names, translate, Font(bold=True))
    return spreadsheets.workbook_bytes(workbook)


def _summary_rows(
    sheet: Any, result: QuestionResult, names: dict[str, str], translate: Callable[[str], str], bold: Any
) -> None:
    title = _text(f"Q{result.position + 1}. {result.text}")
    sheet.append([title, _text(names["answered"]), result.answered, None])
    sheet.cell(sheet.max_row, 1).font = bold
    labels = (
        [translate(label) for label in result.labels]
        if result.kind == models.QuestionKind.YES_NO
        else result.labels
    )
    for label, count, percent in zip(labels, result.counts, result.percentages, strict=True):
        sheet.append([None, _text(label), count, round(percent / 100, 4)])
        sheet.cell(sheet.max_row, 4).number_format = "0.0%"
    for key, value in (("average", result.average), ("minimum", result.minimum), ("maximum", result.maximum)):
        if value is not None:
            sheet.append([None, _text(names[key]), value, None])

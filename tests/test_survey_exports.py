"""Survey exports against a real database: the XLSX workbook holds what the CSV holds (numbers as
numbers, no formula), a summary per question, no member data for anonymous surveys; the votes of a
native poll as CSV; and the dialog's helpers (checks, building, translating, discarding a draft)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import surveys as service
from bot.services.surveys import SurveyError
from bot.services.surveys.drafts import (
    build_survey,
    count_audience,
    delete_draft,
    more_options,
    parse_bounds,
    set_translation,
)
from bot.services.surveys.exports import export_rows_csv, export_xlsx
from storage.models import SurveyQuestion, SurveyStatus
from tests.helpers import organization
from tests.test_surveys import CLOSES, NOW, add_members, answer_all, survey_open_to


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_xlsx_matches_the_csv_and_summarizes_each_question(session: AsyncSession) -> None:
    survey, members = await survey_open_to(session, 2)
    await answer_all(session, survey, members[0])  # Lyon, Jobs+Language, 8, 3.5, =HYPERLINK, yes
    await answer_all(session, survey, members[1], [2, [1], 0, 12, None, "no"])
    expected = csv_rows(await export_rows_csv(session, survey))

    labels = {"yes": "Oui", "no": "Non"}
    data = await export_xlsx(
        session,
        survey,
        language="fr",
        translate=lambda label: labels.get(label, label),
        headings={"answer": "Réponse"},
    )
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Responses", "Summary"]
    sheet = workbook["Responses"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [["" if value is None else str(value) for value in row] for row in rows] == expected
    by_member = {row[1]: row for row in rows[1:]}
    first = by_member[members[0].id]
    assert first[4:] == ["Lyon", "Jobs; Language", 8, 3.5, '\'=HYPERLINK("x")', "yes"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)  # no formula anywhere

    summary = list(workbook["Summary"].iter_rows(values_only=True))
    assert summary[0] == ("Question", "Réponse", "Count", "Percent")
    assert summary[1:5] == [
        ("Q1. Ville ?", "Answered", 2, None),
        (None, "Paris", 0, 0.0),
        (None, "Lyon", 1, 0.5),
        (None, "Autre", 1, 0.5),
    ]
    assert (None, "Oui", 1, 0.5) in summary and (None, "Non", 1, 0.5) in summary
    assert (None, "Average", 7.75, None) in summary  # years abroad: 3.5 and 12


async def test_anonymous_exports_carry_no_member_data(session: AsyncSession) -> None:
    survey, members = await survey_open_to(session, 2, anonymous=True)
    for member in members:
        await answer_all(session, survey, member)
    rows = csv_rows(await export_rows_csv(session, survey))
    assert rows[0][:2] == ["response", "submitted_at"] and len(rows) == 3
    workbook = load_workbook(io.BytesIO(await export_xlsx(session, survey)))
    sheet = [list(row) for row in workbook["Responses"].iter_rows(values_only=True)]
    assert sheet[0][:2] == ["response", "submitted_at"] and len(sheet[0]) == 2 + 6  # no member column
    cells = {str(cell) for row in sheet for cell in row}
    for member in members:
        assert member.display_name not in cells and str(member.telegram_id) not in cells


async def test_native_poll_votes_as_csv_and_anonymous_polls_name_nobody(session: AsyncSession) -> None:
    org = await organization(session, "fr")
    members = await add_members(session, org, 3)
    poll = await service.create_survey(session, org.id or 0, "Day?", NOW, closes_at=CLOSES, native_poll=True)
    await service.add_question(session, poll, "multiple", "Day?", options=["=Sat", "Sun"])
    await service.open_survey(session, poll, org, NOW)
    for index, member in enumerate(members):
        await service.record_poll_delivery(session, poll, f"p{index}", member.telegram_id or 0)
    await service.record_poll_vote(session, "p0", members[0].id or 0, [0, 1], NOW)
    await service.record_poll_vote(session, "p2", members[2].id or 0, [1], NOW)
    await session.commit()
    rows = csv_rows(await export_rows_csv(session, poll))
    assert rows == [
        ["vote", "member_id", "name", "Day?"],
        ["1", str(members[0].id), members[0].display_name, "'=Sat; Sun"],
        ["2", str(members[2].id), members[2].display_name, "Sun"],
    ]
    poll.anonymous = True
    assert csv_rows(await export_rows_csv(session, poll)) == [["vote", "Day?"]]


def test_options_and_bounds_typed_in_the_dialog() -> None:
    assert more_options(["Paris"], "Lyon\n\n  Dakar ") == ["Paris", "Lyon", "Dakar"]
    for options, text, reason in [
        ([], "x" * 101, "option_too_long"),
        (["Paris"], "paris", "options_duplicate"),
        (["a"], "\n".join(str(n) for n in range(12)), "options_count"),
        ([], " \n ", "option_empty"),
    ]:
        with pytest.raises(SurveyError) as refused:
            more_options(options, text)
        assert refused.value.reason == reason
    assert parse_bounds("0 100") == (0, 100)
    assert parse_bounds("-5..2,5") == (-5, 2.5)
    assert parse_bounds("- 10") == (None, 10)
    for text in ("10 0", "many", "1 2 3", "nan 1"):
        with pytest.raises(SurveyError):
            parse_bounds(text)


async def test_a_dialog_becomes_a_draft_that_is_translated_or_discarded(session: AsyncSession) -> None:
    org = await organization(session, "fr")
    await add_members(session, org, 2, language="fr")
    await add_members(session, org, 1, first_tg=3000, language="en")
    answers = {
        "mode": "survey",
        "title": "Besoins",
        "language": "fr",
        "anonymous": True,
        "audience": {"languages": ["fr"]},
        "closes_at": CLOSES.isoformat(),
        "reminder": 120,
        "questions": [
            {"kind": "single", "text": "Ville ?", "options": ["Paris", "Lyon"], "optional": False},
            {
                "kind": "number",
                "text": "Âge ?",
                "options": [],
                "min_value": 0,
                "max_value": 120,
                "optional": True,
            },
        ],
    }
    assert await count_audience(session, org.id or 0, answers["audience"]) == 2
    survey = await build_survey(session, org.id or 0, answers, NOW, None)
    assert (survey.status, survey.anonymous, survey.reminder_before_minutes) == (
        SurveyStatus.DRAFT,
        True,
        120,
    )
    with pytest.raises(SurveyError, match="bad_translation"):
        await set_translation(
            session,
            survey,
            "en",
            "Needs",
            [{"text": "City?", "options": ["Paris", "Lyon", "Nice"]}, {"text": "Age?"}],
        )
    await set_translation(
        session, survey, "en", "Needs", [{"text": "City?", "options": ["Paris", "Lyon"]}, {"text": "Age?"}]
    )
    questions = await service.questions_of(session, survey.id or 0)
    assert survey.translations == {"en": "Needs"}
    assert [q.translations for q in questions] == [
        {"en": {"text": "City?", "options": ["Paris", "Lyon"]}},
        {"en": {"text": "Age?"}},
    ]
    await delete_draft(session, survey)
    await session.commit()
    assert (await session.exec(select(SurveyQuestion))).all() == []

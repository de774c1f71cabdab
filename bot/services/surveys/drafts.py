"""What the coordinator's dialogs need around the survey services: step-by-step checks of typed
values (with the same `SurveyError` reasons the service raises), the audience's size, turning the
dialog's answers into a survey, translating a draft, the closing time of a draft copy and
discarding a draft.

The dialog keeps its answers as plain JSON in the FSM data (see `handlers/surveys/steps.py`); every
question is checked with `validate_question`, so what the dialog accepts the service stores."""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import count_members
from bot.services.rows import delete_rows
from bot.services.surveys.building import add_question, create_survey, questions_of
from bot.services.surveys.closing import extend
from bot.services.surveys.rules import (
    OPTION_MAX,
    OPTIONS_MAX,
    SETTINGS_KEYS,
    TITLE_MAX,
    SurveyError,
    checked_line,
    question_settings,
    validate_question,
)
from storage.models import QuestionKind, Survey, SurveyStatus

# A question as the dialog keeps it (JSON), besides whether it may be skipped.
DRAFT_KEYS = ("kind", "text", "options", "min_value", "max_value", "max_length")


def check_title(text: str | None) -> str:
    return checked_line(text, TITLE_MAX, "title_empty", "title_too_long")


def more_options(options: list[str], text: str) -> list[str]:
    """The options so far plus those typed in `text` (one per line). The whole message is refused
    (`SurveyError`) if a line is too long, repeats an option, or the total would pass 12."""
    typed = [line for line in (text or "").splitlines() if line.strip()]
    if not typed:
        raise SurveyError("option_empty", OPTION_MAX)
    added = [checked_line(line, OPTION_MAX, "option_empty", "option_too_long") for line in typed]
    combined = [*options, *added]
    if len(combined) > OPTIONS_MAX:
        raise SurveyError("options_count", (2, OPTIONS_MAX))
    if len({option.casefold() for option in combined}) != len(combined):
        raise SurveyError("options_duplicate")
    return combined


def parse_bounds(text: str) -> tuple[float | None, float | None]:
    """Bounds of a number question, typed as "0 100" (or "0;100", "0..100"); "-" leaves one open:
    "- 100" has no minimum. Raises `SurveyError("bad_bounds")`."""
    cleaned = unicodedata.normalize("NFKC", text).replace("..", " ").replace(";", " ")
    parts = cleaned.split()
    if len(parts) != 2:
        raise SurveyError("bad_bounds")
    bounds: list[float | None] = []
    for part in parts:
        if part in {"-", "–", "—", "*"}:
            bounds.append(None)
            continue
        try:
            value = float(part.replace(",", "."))
        except ValueError:
            raise SurveyError("bad_bounds") from None
        if not math.isfinite(value) or abs(value) > 1e12:
            raise SurveyError("bad_bounds")
        bounds.append(value)
    low, high = bounds
    if low is not None and high is not None and low > high:
        raise SurveyError("bad_bounds")
    return low, high


def check_question(entry: dict[str, Any]) -> dict[str, Any]:
    """A question of the dialog, validated as the service will store it (JSON-safe)."""
    fields = validate_question(entry["kind"], entry.get("text") or "", **question_settings(entry))
    cleaned = {name: fields[name] for name in DRAFT_KEYS}
    cleaned["kind"] = str(cleaned["kind"])
    cleaned["optional"] = bool(entry.get("optional"))
    return cleaned


async def count_audience(session: AsyncSession, organization_id: int, audience: dict[str, Any]) -> int:
    """How many members a survey with this audience invites (as `open_survey` will count them)."""
    return await count_members(session, organization_id, audience, None)


async def build_survey(
    session: AsyncSession,
    organization_id: int,
    answers: dict[str, Any],
    now: datetime,
    created_by_member_id: int | None,
) -> Survey:
    """The draft survey (with its questions) the dialog's answers describe. The caller commits."""

    def moment(key: str) -> datetime | None:
        value = answers.get(key)
        return datetime.fromisoformat(value) if value else None

    native = answers.get("mode") == "poll"
    questions = answers.get("questions") or []
    survey = await create_survey(
        session,
        organization_id,
        questions[0]["text"] if native and questions else answers.get("title") or "",
        now,
        language=answers.get("language") or "en",
        anonymous=bool(answers.get("anonymous")),
        audience=answers.get("audience") or {},
        opens_at=moment("opens_at"),
        closes_at=moment("closes_at"),
        reminder_before_minutes=None if native else answers.get("reminder", 1440),
        native_poll=native,
        created_by_member_id=created_by_member_id,
    )
    for entry in questions:
        fields = question_settings(entry)
        await add_question(
            session, survey, entry["kind"], entry["text"], optional=bool(entry.get("optional")), **fields
        )
    return survey


def translation_items(survey: Survey, questions: list[Any]) -> list[tuple[str, int]]:
    """What a translation asks for, in order: ("title", -1), then per question ("text", i) and,
    for choice questions, ("options", i)."""
    items: list[tuple[str, int]] = [("title", -1)]
    for index, question in enumerate(questions):
        items.append(("text", index))
        if question.options:
            items.append(("options", index))
    return items


async def set_translation(
    session: AsyncSession, survey: Survey, language: str, title: str, versions: list[dict[str, Any]]
) -> None:
    """Store a draft's translation into `language`: its title and, per question (in order), the
    text and options. Validated like the originals; raises `SurveyError`."""
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")
    questions = await questions_of(session, survey.id or 0)
    if language == survey.language or len(versions) != len(questions):
        raise SurveyError("bad_translation")
    checked = []
    for question, version in zip(questions, versions, strict=True):
        settings = question_settings({key: getattr(question, key) for key in SETTINGS_KEYS})
        settings["translations"] = {language: version}
        checked.append(validate_question(question.kind, question.text, **settings)["translations"][language])
    survey.translations = {**survey.translations, language: check_title(title)}
    session.add(survey)
    for question, entry in zip(questions, checked, strict=True):
        question.translations = {**question.translations, language: entry}
        session.add(question)
    await session.flush()


async def set_copy_closing(session: AsyncSession, survey: Survey, closes_at: datetime, now: datetime) -> None:
    """The closing time of a draft (a duplicate has none until the coordinator gives one)."""
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")
    if survey.closes_at is not None and closes_at <= survey.closes_at:
        survey.closes_at = None  # a draft's time is not a promise to anyone: it may move earlier
    await extend(session, survey, closes_at, now)


async def delete_draft(session: AsyncSession, survey: Survey) -> None:
    """A draft simply goes (nobody was invited, nobody answered)."""
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")
    await delete_rows(session, await questions_of(session, survey.id or 0), [survey])


def is_choice(kind: str) -> bool:
    return kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)

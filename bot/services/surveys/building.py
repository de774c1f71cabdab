"""A survey and its questions: creating a draft, adding questions, reading them back, and
duplicating a survey into a new draft."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Unpack

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.rows import reloaded, saved
from bot.services.surveys.rules import (
    QUESTIONS_MAX,
    REMINDER_MAX,
    TITLE_MAX,
    QuestionSettings,
    SurveyError,
    checked_line,
    validate_audience,
    validate_question,
    validate_times,
)
from storage.models import QuestionKind, Survey, SurveyQuestion, SurveyStatus
from storage.types import ROW_ID_MAX


async def create_survey(
    session: AsyncSession,
    organization_id: int,
    title: str,
    now: datetime,
    *,
    language: str = "en",
    translations: dict[str, str] | None = None,
    anonymous: bool = False,
    audience: dict[str, Any] | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    reminder_before_minutes: int | None = 1440,
    native_poll: bool = False,
    created_by_member_id: int | None = None,
) -> Survey:
    """A draft survey (questions are added with `add_question`)."""
    title = checked_line(title, TITLE_MAX, "title_empty", "title_too_long")
    cleaned = {
        lang: checked_line(text, TITLE_MAX, "title_empty", "title_too_long")
        for lang, text in (translations or {}).items()
    }
    if reminder_before_minutes is not None and not 1 <= reminder_before_minutes <= REMINDER_MAX:
        raise SurveyError("bad_reminder", REMINDER_MAX)
    validate_times(opens_at, closes_at, now)
    survey = Survey(
        organization_id=organization_id,
        title=title,
        language=language,
        translations=cleaned,
        anonymous=anonymous,
        audience=validate_audience(audience),
        opens_at=opens_at,
        closes_at=closes_at,
        reminder_before_minutes=reminder_before_minutes,
        native_poll=native_poll,
        created_by_member_id=created_by_member_id,
        created_at=now,
        updated_at=now,
    )
    return await saved(session, survey)


async def get_survey(session: AsyncSession, survey_id: int) -> Survey:
    survey = await reloaded(session, Survey, survey_id)
    if survey is None:
        raise SurveyError("not_found")
    return survey


async def questions_of(session: AsyncSession, survey_id: int) -> list[SurveyQuestion]:
    result = await session.exec(
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey_id)
        .order_by(col(SurveyQuestion.position))
    )
    return list(result.all())


async def question_in(session: AsyncSession, survey: Survey, question_id: int) -> SurveyQuestion | None:
    """The survey's question with this id; None for an id from callback data that is forged, beyond
    the database's integers or another survey's."""
    if not 0 < question_id <= ROW_ID_MAX:
        return None
    question = await session.get(SurveyQuestion, question_id)
    return question if question is not None and question.survey_id == survey.id else None


async def add_question(
    session: AsyncSession,
    survey: Survey,
    kind: QuestionKind | str,
    text: str,
    *,
    optional: bool = False,
    **settings: Unpack[QuestionSettings],
) -> SurveyQuestion:
    """Append a question to a draft survey."""
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")
    fields = validate_question(kind, text, **settings)
    count = int(
        (
            await session.exec(
                select(func.count()).select_from(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id)
            )
        ).one()
    )
    if count >= QUESTIONS_MAX or (survey.native_poll and count >= 1):
        raise SurveyError("too_many_questions", 1 if survey.native_poll else QUESTIONS_MAX)
    if survey.native_poll and fields["kind"] not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        raise SurveyError("not_a_poll")
    return await saved(
        session, SurveyQuestion(survey_id=survey.id or 0, position=count, optional=optional, **fields)
    )


async def duplicate(
    session: AsyncSession, survey: Survey, now: datetime, created_by_member_id: int | None = None
) -> Survey:
    """A new draft with the same settings and questions, no answers and no dates."""
    copy = Survey(
        organization_id=survey.organization_id,
        title=survey.title,
        language=survey.language,
        translations=dict(survey.translations),
        anonymous=survey.anonymous,
        audience=dict(survey.audience),
        reminder_before_minutes=survey.reminder_before_minutes,
        native_poll=survey.native_poll,
        created_by_member_id=created_by_member_id or survey.created_by_member_id,
        created_at=now,
        updated_at=now,
    )
    await saved(session, copy)
    for question in await questions_of(session, survey.id or 0):
        session.add(
            SurveyQuestion(
                survey_id=copy.id or 0,
                position=question.position,
                kind=question.kind,
                text=question.text,
                translations=dict(question.translations),
                options=list(question.options),
                min_value=question.min_value,
                max_value=question.max_value,
                max_length=question.max_length,
                optional=question.optional,
            )
        )
    await session.flush()
    return copy

"""The row access the survey services share: a question by position, a response by its key, the
survey read `FOR SHARE`, the lock every change to a response starts with, and insert-or-ignore.

Serialization. Every change to a response starts with `UPDATE survey_responses SET seq = seq + 1
... RETURNING` (`lock_response`: the row lock on PostgreSQL, the write lock on SQLite, as in
`events`), then reads the survey `FOR SHARE` (`survey_for_share`), so a double tap is serialized and
closing waits for submissions in flight. Lock order everywhere: response, then survey, then
participation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.surveys.rules import SurveyError
from storage.models import ResponseStatus, Survey, SurveyQuestion, SurveyResponse, SurveyStatus


def insert_ignore(dialect: str, table: Any) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


async def question_at(session: AsyncSession, survey_id: int, position: int) -> SurveyQuestion | None:
    return (
        await session.exec(
            select(SurveyQuestion).where(
                SurveyQuestion.survey_id == survey_id, SurveyQuestion.position == position
            )
        )
    ).first()


async def response_by_key(session: AsyncSession, survey_id: int, key: str) -> SurveyResponse | None:
    return (
        await session.exec(
            select(SurveyResponse)
            .where(SurveyResponse.survey_id == survey_id, SurveyResponse.respondent_key == key)
            .execution_options(populate_existing=True)
        )
    ).first()


async def survey_for_share(session: AsyncSession, survey_id: int) -> Survey:
    survey = (
        await session.exec(
            select(Survey)
            .where(Survey.id == survey_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
    ).first()
    if survey is None:
        raise SurveyError("not_found")
    return survey


def ensure_open(survey: Survey, now: datetime) -> None:
    if survey.status == SurveyStatus.CLOSED or (survey.closes_at is not None and survey.closes_at <= now):
        raise SurveyError("closed")
    if survey.status != SurveyStatus.OPEN or (survey.opens_at is not None and survey.opens_at > now):
        raise SurveyError("not_open")


async def lock_response(session: AsyncSession, response: SurveyResponse) -> tuple[int, ResponseStatus]:
    """The first statement of every change to a response (`response` takes its new `seq`)."""
    row = (
        await (await session.connection()).execute(
            update(SurveyResponse)
            .where(col(SurveyResponse.id) == response.id)
            .values(seq=col(SurveyResponse.seq) + 1)
            .returning(col(SurveyResponse.position), col(SurveyResponse.status), col(SurveyResponse.seq))
        )
    ).first()
    if row is None:
        raise SurveyError("not_found")
    set_committed_value(response, "seq", int(row[2]))
    return int(row[0]), ResponseStatus(row[1])


def upsert(dialect: str, table: Any, keys: list[str], **values: Any) -> Any:
    """INSERT `values`, or on a row with the same `keys` already there, UPDATE the other values."""
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(table).values(**values)
    changed = {name: statement.excluded[name] for name in values if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=changed)

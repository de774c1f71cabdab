"""The row access the survey services share: a question by position, a response by its key, the survey
read `FOR SHARE`, the lock every change to a response starts with, insert-or-ignore, and the
statements of every answer (the member's place, the move on, the answer kept), built once.

Serialization. Every change to a response is one UPDATE of its row that bumps `seq` (the row lock on
PostgreSQL, the write lock on SQLite, as in `events`) while the survey is read `FOR SHARE`, so a
double tap is serialized and closing waits for submissions in flight. The usual way is one guarded
UPDATE (`move_on`, on PostgreSQL `answer_at_once` with the answer's row; `mark_submitted`) that
applies only in the state the caller read (the position being answered, or the `seq` its reads were
made at) while the survey takes answers (`takes_answers`, its row `FOR SHARE` in the same statement:
survey, then response). When it changes nothing, the caller takes the careful way to find out why:
`lock_response` (`UPDATE … SET seq = seq + 1 … RETURNING`), then `survey_for_share` (response, then
survey). Shared locks do not conflict and nothing holding a response waits for a survey's row in any
other mode, so the two orders cannot deadlock; the participation comes last everywhere."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, and_, bindparam, delete, func, or_, update
from sqlalchemy import select as sa_select  # rows, where sqlmodel's select of one column gives scalars
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.surveys.rules import SurveyError
from storage.models import (
    ResponseStatus,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)


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


def takes_answers(survey_id: int, now: datetime) -> ColumnElement[bool]:
    """`ensure_open` as a condition of a statement, the survey's row read `FOR SHARE`."""
    return (
        select(Survey.id)
        .where(
            Survey.id == survey_id,
            Survey.status == SurveyStatus.OPEN,
            or_(col(Survey.opens_at).is_(None), col(Survey.opens_at) <= now),
            or_(col(Survey.closes_at).is_(None), col(Survey.closes_at) > now),
        )
        .with_for_update(read=True)
        .exists()
    )


# -- the statements of every answer, built once ----------------------------------------------------
# Each tap runs them with its values as parameters ("response", "survey", "now", …): building a
# statement (its clauses, the upsert's `excluded`) cost more than the loop's share of running it.


@cache
def _moved() -> Any:
    """The move from the question at position "at" to "target", guarded as the module says."""
    return (
        update(SurveyResponse)
        .where(
            col(SurveyResponse.id) == bindparam("response"),
            col(SurveyResponse.status) == ResponseStatus.IN_PROGRESS,
            col(SurveyResponse.position) == bindparam("at"),
            takes_answers(bindparam("survey"), bindparam("now")),  # type: ignore[arg-type]
        )
        .values(seq=col(SurveyResponse.seq) + 1, position=bindparam("target"))
        .returning(col(SurveyResponse.seq))
    )


def _moving(response: SurveyResponse, question: SurveyQuestion, now: datetime) -> dict[str, Any]:
    return {
        "response": response.id,
        "at": question.position,
        "target": question.position + 1,
        "survey": response.survey_id,
        "now": now,
    }


def _moved_to(response: SurveyResponse, seq: int, target: int) -> None:
    for name, value in {"seq": seq, "status": ResponseStatus.IN_PROGRESS, "position": target}.items():
        set_committed_value(response, name, value)


async def move_on(
    session: AsyncSession, response: SurveyResponse, question: SurveyQuestion, now: datetime
) -> bool:
    """To the question after `question` if it is the one being answered while the survey takes
    answers (False: nothing changed)."""
    connection = await session.connection()
    row = (await connection.execute(_moved(), _moving(response, question, now))).first()
    if row is None:
        return False
    _moved_to(response, int(row[0]), question.position + 1)
    return True


@cache
def _kept(dialect: str) -> Any:
    """The answer's row written or replaced (parameters: the row's columns)."""
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(SurveyAnswer)
    return statement.on_conflict_do_update(
        index_elements=["response_id", "question_id"], set_={"value": statement.excluded.value}
    )


@cache
def _removed() -> Any:
    return delete(SurveyAnswer).where(
        col(SurveyAnswer.response_id) == bindparam("response"),
        col(SurveyAnswer.question_id) == bindparam("question"),
    )


async def keep_answer(session: AsyncSession, response_id: int, question_id: int, value: Any) -> None:
    """The answer's row: written, replaced, or (None: skipped) removed."""
    connection = await session.connection()
    if value is None:
        await connection.execute(_removed(), {"response": response_id, "question": question_id})
        return
    row = {"response_id": response_id, "question_id": question_id, "value": value}
    await connection.execute(_kept(connection.dialect.name), row)


@cache
def _answered_at_once(removed: bool) -> Any:
    moved = _moved().cte("moved")
    answers = SurveyAnswer.__table__  # type: ignore[attr-defined]
    if removed:
        kept: Any = answers.delete().where(
            answers.c.response_id == bindparam("response"),
            answers.c.question_id == bindparam("question"),
            select(moved.c.seq).exists(),
        )
    else:
        rows = sa_select(
            bindparam("response", type_=Integer),
            bindparam("question", type_=Integer),
            bindparam("answer", type_=answers.c.value.type),
        )
        kept = postgresql.insert(answers).from_select(
            ["response_id", "question_id", "value"], rows.select_from(moved)
        )
        kept = kept.on_conflict_do_update(
            index_elements=["response_id", "question_id"], set_={"value": kept.excluded.value}
        )
    return sa_select(moved.c.seq).add_cte(kept.returning(answers.c.id).cte("kept"))


async def answer_at_once(
    session: AsyncSession, response: SurveyResponse, question: SurveyQuestion, value: Any, now: datetime
) -> bool:
    """PostgreSQL: `move_on` and the answer kept (None: removed) in one statement. False when
    nothing changed."""
    parameters = {**_moving(response, question, now), "question": question.id, "answer": value}
    row = (await session.exec(_answered_at_once(value is None), params=parameters)).first()
    if row is None:
        return False
    _moved_to(response, int(row[0]), question.position + 1)
    return True


Place = tuple[Survey | None, SurveyParticipation | None, SurveyResponse | None, SurveyQuestion | None]


@cache
def _place(anonymous: bool, share: bool) -> Any:
    key = col(SurveyParticipation.progress_token) if anonymous else bindparam("key", type_=String)
    statement = (
        select(Survey, SurveyParticipation, SurveyResponse, SurveyQuestion)
        .where(Survey.id == bindparam("survey"))
        .outerjoin(
            SurveyParticipation,
            and_(
                col(SurveyParticipation.survey_id) == Survey.id,
                col(SurveyParticipation.member_id) == bindparam("member"),
            ),
        )
        .outerjoin(
            SurveyResponse,
            and_(col(SurveyResponse.survey_id) == Survey.id, col(SurveyResponse.respondent_key) == key),
        )
        .outerjoin(
            SurveyQuestion,
            and_(
                col(SurveyQuestion.survey_id) == Survey.id,
                col(SurveyQuestion.position) == func.coalesce(col(SurveyResponse.position), 0),
            ),
        )
        .execution_options(populate_existing=True)
    )
    return statement.with_for_update(read=True, of=Survey) if share else statement  # type: ignore[arg-type]


async def place_of(session: AsyncSession, survey: Survey, member_id: int, *, share: bool) -> Place:
    """In one statement: the survey (read again; `FOR SHARE` if `share`), the member's
    participation, their response (by the key the survey's kind of anonymity gives it) and the
    question at the response's position (the first one when there is no response yet)."""
    parameters = {"survey": survey.id, "member": member_id, "key": f"m{member_id}"}
    row = (await session.exec(_place(survey.anonymous, share), params=parameters)).first()
    return (None, None, None, None) if row is None else tuple(row)  # type: ignore[return-value]


@cache
def _submitted() -> Any:
    """Submitted, from the `seq` "at_seq" with every question reached ("count"), guarded likewise."""
    return (
        update(SurveyResponse)
        .where(
            col(SurveyResponse.id) == bindparam("response"),
            col(SurveyResponse.status) == ResponseStatus.IN_PROGRESS,
            col(SurveyResponse.seq) == bindparam("at_seq"),
            col(SurveyResponse.position) >= bindparam("count"),
            takes_answers(bindparam("survey"), bindparam("now")),  # type: ignore[arg-type]
        )
        .values(
            seq=col(SurveyResponse.seq) + 1, status=ResponseStatus.SUBMITTED, submitted_at=bindparam("when")
        )
        .returning(col(SurveyResponse.seq))
    )


async def mark_submitted(
    session: AsyncSession, response: SurveyResponse, now: datetime, count: int, submitted_at: datetime
) -> bool:
    """Submit the response if nothing changed since its `seq` and it reached all `count`
    questions while the survey takes answers (False: nothing changed)."""
    parameters = {
        "response": response.id,
        "at_seq": response.seq,
        "count": count,
        "survey": response.survey_id,
        "now": now,
        "when": submitted_at,
    }
    row = (await (await session.connection()).execute(_submitted(), parameters)).first()
    if row is None:
        return False
    for name, value in {
        "seq": int(row[0]),
        "status": ResponseStatus.SUBMITTED,
        "submitted_at": submitted_at,
    }.items():
        set_committed_value(response, name, value)
    return True


@cache
def _participation_submitted(anonymous: bool) -> Any:
    who = (
        col(SurveyParticipation.progress_token) == bindparam("token")
        if anonymous
        else col(SurveyParticipation.member_id) == bindparam("member")
    )
    return (
        update(SurveyParticipation)
        .where(col(SurveyParticipation.survey_id) == bindparam("survey"), who)
        .values(submitted=True, progress_token=None)
    )


async def participation_submitted(session: AsyncSession, response: SurveyResponse) -> None:
    """The participation of the response's member says "submitted" and keeps no token. Anonymous
    responses (no member) find it by the token."""
    anonymous = response.member_id is None
    parameters = {
        "survey": response.survey_id,
        "token": response.respondent_key,
        "member": response.member_id,
    }
    await (await session.connection()).execute(_participation_submitted(anonymous), parameters)

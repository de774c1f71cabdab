"""A member's response: starting or resuming it, answering one question at a time, going back,
submitting, and reading the answers back.

Anonymity. An anonymous survey stores no link between a member and their answers once they have
submitted: the response carries a random `respondent_key` and no member id, no start time and a
submission time rounded to the day; the member's `SurveyParticipation` row (which says only
"started"/"submitted", and has no id or timestamps to correlate) holds that key as `progress_token`
while the member is answering, so they can resume after a restart, and the token is erased at
submission and when the survey closes. Residual: while a member is still answering, the token
links them to their partial answers.

Every change goes through the response's row lock first (a guarded UPDATE or `lock_response`: see `store`)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.surveys.answers import clean_answer
from bot.services.surveys.rules import SurveyError
from bot.services.surveys.settled import settled_questions
from bot.services.surveys.store import (
    answer_at_once,
    ensure_open,
    insert_ignore,
    keep_answer,
    lock_response,
    mark_submitted,
    move_on,
    participation_submitted,
    place_of,
    question_at,
    response_by_key,
    survey_for_share,
)
from storage import models


async def start_or_resume(
    session: AsyncSession,
    survey: models.Survey,
    member: models.Member,
    now: datetime,
    *,
    begin: bool = True,
) -> tuple[models.SurveyResponse, models.SurveyQuestion | None]:
    """The member's response and the question to show (None: all answered, Submit is next).

    Raises "not_started" when the member has not begun and `begin` is False (only ▶️ Start begins),
    "submitted" when the member already submitted (attributed surveys: show them
    `submitted_answers`), "closed"/"not_open" when the survey takes no answers. Resuming is one
    statement (`place_of`), beginning two more."""
    member_id = member.id or 0
    found_survey, participation, found, current = await place_of(session, survey, member_id, share=begin)
    if found_survey is None:
        raise SurveyError("not_found")
    survey = found_survey
    if participation is None and not begin:
        raise SurveyError("not_started")
    ensure_open(survey, now)
    if survey.native_poll:
        raise SurveyError("not_a_poll")
    if participation is None:
        # "a…" random tokens can never be mistaken for the "m<id>" keys of attributed surveys.
        token = "a" + secrets.token_urlsafe(24) if survey.anonymous else None
        connection = await session.connection()
        inserted = (
            await connection.execute(
                insert_ignore(connection.dialect.name, models.SurveyParticipation)
                .values(survey_id=survey.id, member_id=member_id, submitted=False, progress_token=token)
                .returning(col(models.SurveyParticipation.member_id))
            )
        ).first()
        if inserted is not None:
            response = models.SurveyResponse(
                survey_id=survey.id or 0,
                member_id=None if survey.anonymous else member_id,
                respondent_key=token or f"m{member_id}",
                started_at=None if survey.anonymous else now,
            )
            session.add(response)
            await session.flush()
            return response, current  # the first question
        # Begun at the same moment by another tap: theirs is the one.
        participation, found = await _participation(session, survey, member_id), None
    if participation.submitted:
        raise SurveyError("submitted")
    if found is None:
        key = participation.progress_token if survey.anonymous else f"m{member_id}"
        found = await response_by_key(session, survey.id or 0, key or "")
        if found is None:  # only if a token was erased on an open survey: never expected
            raise SurveyError("not_found")
        current = await question_at(session, survey.id or 0, found.position)
    return found, current


async def _participation(
    session: AsyncSession, survey: models.Survey, member_id: int
) -> models.SurveyParticipation:
    return (
        await session.exec(
            select(models.SurveyParticipation)
            .where(
                models.SurveyParticipation.survey_id == survey.id,
                models.SurveyParticipation.member_id == member_id,
            )
            .execution_options(populate_existing=True)
        )
    ).one()


def _settle(response: models.SurveyResponse, **values: Any) -> None:
    """What a statement just wrote to the locked response row, without reading it back."""
    for name, value in values.items():
        set_committed_value(response, name, value)


async def answer(
    session: AsyncSession,
    response: models.SurveyResponse,
    question: models.SurveyQuestion,
    raw_value: Any,
    now: datetime,
    questions: Sequence[models.SurveyQuestion] | None = None,
) -> models.SurveyQuestion | None:
    """Store the answer to the question being answered and move on; returns the next question
    (None: all answered, Submit is next). `raw_value` None or empty skips an optional question.
    The value is validated before anything is written. `questions`: the survey's, if the caller
    has them (else they come from `settled`: the survey, which has a response, is no draft).

    Under the response's lock: the move to the next question (`move_on`, only from the question
    answered while the survey takes answers) and the answer's upsert; on PostgreSQL, one
    statement (`answer_at_once`)."""
    if question.survey_id != response.survey_id:
        raise SurveyError("stale_question")
    value = clean_answer(question, raw_value)
    target = question.position + 1
    if questions is None:  # read first: the writers wait less
        questions = await settled_questions(session, response.survey_id)
    following = next((q for q in questions if q.position == target), None)
    if (await session.connection()).dialect.name == "postgresql":
        if await answer_at_once(session, response, question, value, now):
            return following
        moved = False
    else:
        moved = await move_on(session, response, question, now)
    if not moved:  # why not, the careful way
        position, status = await lock_response(session, response)
        if status == models.ResponseStatus.SUBMITTED:
            raise SurveyError("submitted")
        ensure_open(await survey_for_share(session, response.survey_id), now)
        if question.position != position:
            raise SurveyError("stale_question")
        await (await session.connection()).execute(  # taken between the two: move on after all
            update(models.SurveyResponse)
            .where(col(models.SurveyResponse.id) == response.id)
            .values(position=target)
        )
        _settle(response, position=target, status=status)
    await keep_answer(session, response.id or 0, question.id or 0, value)
    return following


async def back(
    session: AsyncSession, response: models.SurveyResponse, now: datetime, expected: int | None = None
) -> models.SurveyQuestion:
    """Go back to the previous question (its stored answer is kept until it is answered again).
    `expected`: the position the Back button was pressed at; another one (a double tap, an old
    message) raises "stale_question"."""
    position, status = await lock_response(session, response)
    if status == models.ResponseStatus.SUBMITTED:
        raise SurveyError("submitted")
    if expected is not None and position != expected:
        raise SurveyError("stale_question")
    ensure_open(await survey_for_share(session, response.survey_id), now)
    target = max(position - 1, 0)
    await (await session.connection()).execute(
        update(models.SurveyResponse)
        .where(col(models.SurveyResponse.id) == response.id)
        .values(position=target)
    )
    _settle(response, position=target, status=status)
    question = await question_at(session, response.survey_id, target)
    assert question is not None
    return question


@cache
def _answers() -> Any:
    return select(models.SurveyAnswer.question_id, models.SurveyAnswer.value).where(
        models.SurveyAnswer.response_id == bindparam("response")
    )


async def answers_of(session: AsyncSession, response_id: int) -> dict[int, Any]:
    """{question id: stored value} of one response."""
    result = await session.exec(_answers(), params={"response": response_id})
    return {question_id: value for question_id, value in result.all()}


@dataclass(frozen=True)
class Submitted:
    answers: dict[int, Any]  # question id -> value
    already: bool  # True: this was a second attempt; nothing changed


async def submit(session: AsyncSession, response: models.SurveyResponse, now: datetime) -> Submitted:
    """Make the answers final. A second attempt changes nothing and returns the submitted answers.

    The questions and answers are read first; the submission then applies only if the response
    is still at the `seq` it had (nothing changed since) and all are answered, in one statement
    (`mark_submitted`), followed by the participation's."""
    questions = await settled_questions(session, response.survey_id)
    answers = await answers_of(session, response.id or 0)
    # Anonymous responses are those without a member (see `start_or_resume`).
    anonymous = response.member_id is None
    submitted_at = now.replace(hour=0, minute=0, second=0, microsecond=0) if anonymous else now
    complete = not any(q.id not in answers and not q.optional for q in questions)
    submitted = models.ResponseStatus.SUBMITTED
    if not (complete and await mark_submitted(session, response, now, len(questions), submitted_at)):
        position, status = await lock_response(session, response)  # why not, the careful way
        if status == submitted:
            return Submitted(await answers_of(session, response.id or 0), True)
        ensure_open(await survey_for_share(session, response.survey_id), now)
        answers = await answers_of(session, response.id or 0)
        if position < len(questions) or any(q.id not in answers and not q.optional for q in questions):
            raise SurveyError("incomplete")
        await (await session.connection()).execute(  # changed between the reads: complete after all
            update(models.SurveyResponse)
            .where(col(models.SurveyResponse.id) == response.id)
            .values(status=submitted, submitted_at=submitted_at)
        )
        _settle(response, position=position, status=submitted, submitted_at=submitted_at)
    await participation_submitted(session, response)
    return Submitted(answers, False)


async def submitted_answers(
    session: AsyncSession, survey: models.Survey, member: models.Member
) -> dict[int, Any] | None:
    """An attributed survey's submitted answers of a member (None for anonymous surveys: unknowable)."""
    if survey.anonymous:
        return None
    response = await response_by_key(session, survey.id or 0, f"m{member.id}")
    if response is None or response.status != models.ResponseStatus.SUBMITTED:
        return None
    return await answers_of(session, response.id or 0)

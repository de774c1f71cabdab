"""Results over submitted responses (or a native poll's votes and totals), and a text question's
written answers page by page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import is_wide
from bot.services.surveys.breakdowns import add_groups, response_groups
from bot.services.surveys.building import questions_of
from bot.services.surveys.languages import question_text
from bot.services.surveys.rules import BREAKDOWNS, MIN_GROUP, SurveyError
from bot.services.surveys.tally import QuestionResult, SurveyResults, option_labels, tally_question
from storage import models


async def _poll_results(
    session: AsyncSession, survey: models.Survey, question: models.SurveyQuestion, language: str | None
) -> SurveyResults:
    result = QuestionResult(
        question.id or 0, 0, models.QuestionKind(question.kind), question_text(question, language or "")[0]
    )
    result.labels = option_labels(question, language)
    counts = [0] * len(question.options)
    if survey.anonymous:
        rows = (
            await session.exec(
                select(models.PollDelivery.option_counts, models.PollDelivery.voter_count).where(
                    models.PollDelivery.survey_id == survey.id
                )
            )
        ).all()
        voters = 0
        for option_counts, voter_count in rows:
            voters += voter_count
            for index, count in enumerate(option_counts[: len(counts)]):
                counts[index] += count
    else:
        votes = (
            await session.exec(
                select(models.PollVote.option_ids).where(models.PollVote.survey_id == survey.id)
            )
        ).all()
        voters = len(votes)
        for option_ids in votes:
            for index in option_ids:
                counts[index] += 1
    result.answered = voters
    result.counts = counts
    result.percentages = [round(100 * count / voters, 1) if voters else 0.0 for count in counts]
    return SurveyResults(survey.id or 0, voters, [result])


async def results(
    session: AsyncSession,
    survey: models.Survey,
    *,
    language: str | None = None,
    breakdown: str | None = None,
    min_group: int = MIN_GROUP,
) -> SurveyResults:
    """Counts and percentages per option (choice, yes/no, rating), averages (rating, number) and
    text answers, over submitted responses; labels in `language` when translated.

    `breakdown` (attributed surveys only: one of BREAKDOWNS; "organization" for a survey reaching
    several organizations) adds the same results per group of
    members; groups with fewer than `min_group` respondents are suppressed (counted, not shown), with
    as many of the smallest other groups as it takes for the suppressed ones to add up to `min_group`,
    and groups never list text answers."""
    if breakdown is not None and (survey.anonymous or breakdown not in BREAKDOWNS):
        raise SurveyError("anonymous" if survey.anonymous else "bad_breakdown")
    if breakdown == "organization" and not is_wide(survey.audience):
        raise SurveyError("bad_breakdown")
    questions = await questions_of(session, survey.id or 0)
    if survey.native_poll and questions:
        return await _poll_results(session, survey, questions[0], language)
    query = (
        select(models.SurveyResponse.id, models.SurveyAnswer.question_id, models.SurveyAnswer.value)
        .join(models.SurveyAnswer, col(models.SurveyAnswer.response_id) == col(models.SurveyResponse.id))
        .where(
            models.SurveyResponse.survey_id == survey.id,
            models.SurveyResponse.status == models.ResponseStatus.SUBMITTED,
        )
    )
    group_of = await response_groups(session, survey, breakdown) if breakdown else {}
    respondents = int(
        (
            await session.exec(
                select(func.count())
                .select_from(models.SurveyResponse)
                .where(
                    models.SurveyResponse.survey_id == survey.id,
                    models.SurveyResponse.status == models.ResponseStatus.SUBMITTED,
                )
            )
        ).one()
    )
    values: dict[int, list[Any]] = {question.id or 0: [] for question in questions}
    by_group: dict[str, dict[int, list[Any]]] = {}
    for response_id, question_id, value in (
        await session.exec(query.order_by(col(models.SurveyResponse.id)))
    ).all():
        values[question_id].append(value)
        if group_of:
            group = by_group.setdefault(group_of[response_id], {q.id or 0: [] for q in questions})
            group[question_id].append(value)
    overall = SurveyResults(
        survey.id or 0, respondents, [tally_question(q, values[q.id or 0], language) for q in questions]
    )
    if group_of:
        add_groups(overall, questions, group_of, by_group, min_group, language)
    return overall


async def text_answers(
    session: AsyncSession, question: models.SurveyQuestion, offset: int = 0, limit: int = 20
) -> tuple[list[str], int]:
    """A page of a text question's submitted answers and their total (for paginated lists)."""
    where = and_(
        models.SurveyAnswer.question_id == question.id,
        models.SurveyResponse.status == models.ResponseStatus.SUBMITTED,
    )
    base = select(models.SurveyAnswer.value).join(
        models.SurveyResponse, col(models.SurveyResponse.id) == col(models.SurveyAnswer.response_id)
    )
    total = int(
        (
            await session.exec(
                select(func.count())
                .select_from(models.SurveyAnswer)
                .join(
                    models.SurveyResponse,
                    col(models.SurveyResponse.id) == col(models.SurveyAnswer.response_id),
                )
                .where(where)
            )
        ).one()
    )
    order = col(models.SurveyResponse.respondent_key)  # random for anonymous surveys: no order leaks
    rows = (await session.exec(base.where(where).order_by(order).offset(offset).limit(limit))).all()
    return [str(value) for value in rows], total

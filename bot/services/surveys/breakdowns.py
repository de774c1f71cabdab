"""Results per group of members (language, country of residence, country of origin, and the
organization for a survey reaching several) of an attributed survey, with small groups suppressed
so that nobody's answers can be worked out."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import organizations_reached
from bot.services.suppression import hidden_groups
from bot.services.surveys.tally import SurveyResults, tally_question
from storage.models import Member, Membership, ResponseStatus, Survey, SurveyQuestion, SurveyResponse


async def response_groups(session: AsyncSession, survey: Survey, breakdown: str) -> dict[int, str]:
    """{submitted response id: its member's group} ("?" for a member who did not say). By
    "organization": the id of the organization the survey reached them through (of several, the one
    they joined first), so that every response is in one group."""
    submitted = (SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.SUBMITTED)
    if breakdown == "organization":
        rows = (
            await session.exec(
                select(SurveyResponse.id, Membership.organization_id)
                .join(Membership, col(Membership.member_id) == col(SurveyResponse.member_id))
                .where(*submitted, organizations_reached(survey.organization_id, survey.audience))
                .order_by(col(Membership.id).desc())
            )
        ).all()
        reached = {response_id: str(organization_id) for response_id, organization_id in rows}
        ids = (await session.exec(select(SurveyResponse.id).where(*submitted))).all()
        return {response_id: reached.get(response_id, "?") for response_id in ids}
    group_column = getattr(Member, breakdown)
    group_rows = (
        await session.exec(
            select(SurveyResponse.id, group_column)
            .join(Member, col(Member.id) == col(SurveyResponse.member_id))
            .where(*submitted)
        )
    ).all()
    return {response_id: value or "?" for response_id, value in group_rows}


def add_groups(
    overall: SurveyResults,
    questions: list[SurveyQuestion],
    group_of: dict[int, str],
    by_group: dict[str, dict[int, list[Any]]],
    min_group: int,
    language: str | None,
) -> None:
    """The shown groups' results (never their text answers) into `overall.groups`; the hidden ones
    counted, and merged into `overall.other` when together they reach `min_group` (that merged
    group is the overall results minus the shown ones: it tells nothing more about anybody)."""
    sizes: dict[str, int] = {}
    for group in group_of.values():
        sizes[group] = sizes.get(group, 0) + 1
    hidden = hidden_groups(sizes, min_group)
    merged: dict[int, list[Any]] = {q.id or 0: [] for q in questions}
    for group, size in sorted(sizes.items()):
        if group in hidden:
            overall.suppressed_groups += 1
            overall.suppressed_respondents += size
            for question_id, values in by_group.get(group, {}).items():
                merged[question_id] += values
            continue
        overall.groups[group] = _group_results(
            overall.survey_id, size, questions, by_group.get(group, {}), language
        )
    if hidden and overall.suppressed_respondents >= min_group:
        overall.other = _group_results(
            overall.survey_id, overall.suppressed_respondents, questions, merged, language
        )


def _group_results(
    survey_id: int,
    size: int,
    questions: list[SurveyQuestion],
    values: dict[int, list[Any]],
    language: str | None,
) -> SurveyResults:
    """One group's tallies, without its text answers."""
    tallies = [tally_question(q, values.get(q.id or 0, []), language) for q in questions]
    for tally in tallies:
        tally.texts = []
    return SurveyResults(survey_id, size, tallies)

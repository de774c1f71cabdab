"""Lists of surveys: the open ones a member may answer (`/surveys`), which they have begun, and the
coordinator's surveys of an organization page by page (`/results`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, exists, func, not_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.origins import member_organizations, reached
from storage.models import Member, Survey, SurveyParticipation, SurveyStatus
from storage.types import ROW_ID_MAX


def _wide() -> Any:
    """Surveys whose audience reaches other organizations (its JSON holds a "reach")."""
    return cast(Survey.audience, String).like('%"reach"%')


async def member_sees(session: AsyncSession, member_id: int | None, survey: Survey) -> bool:
    """May the member answer this survey: are they in an active organization it reaches (its own,
    or those of a confederation-wide reach)? The other filters of its audience are not re-applied:
    a member may answer a survey forwarded to them."""
    return await reached(session, member_id, survey.organization_id, survey.audience)


async def member_survey(session: AsyncSession, member_id: int | None, survey_id: Any) -> Survey | None:
    """The survey a button, a link or the dialog state names, if it is one this member answers here
    (of an organization it reaches them in; not a native poll)."""
    if not isinstance(survey_id, int) or not 0 < survey_id <= ROW_ID_MAX:
        return None
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.native_poll or not await member_sees(session, member_id, survey):
        return None
    return survey


async def open_surveys_for(session: AsyncSession, member: Member, now: datetime) -> list[Survey]:
    """Open surveys of the member's organizations, and confederation-wide ones reaching them, that
    they have not submitted (for `/surveys`)."""
    submitted = exists().where(
        SurveyParticipation.survey_id == Survey.id,
        SurveyParticipation.member_id == member.id,
        col(SurveyParticipation.submitted).is_(True),
    )
    result = await session.exec(
        select(Survey)
        .where(
            col(Survey.organization_id).in_(member_organizations(member.id)) | _wide(),
            Survey.status == SurveyStatus.OPEN,
            col(Survey.native_poll).is_(False),
            col(Survey.opens_at) <= now,
            (col(Survey.closes_at).is_(None)) | (col(Survey.closes_at) > now),
            not_(submitted),
        )
        .order_by(col(Survey.closes_at), col(Survey.id))
    )
    return [survey for survey in result.all() if await member_sees(session, member.id, survey)]


async def started_survey_ids(session: AsyncSession, member_id: int) -> set[int]:
    """The surveys the member has begun (submitted or not)."""
    result = await session.exec(
        select(SurveyParticipation.survey_id).where(SurveyParticipation.member_id == member_id)
    )
    return set(result.all())


@dataclass(frozen=True)
class SurveysPage:
    surveys: list[Survey]
    offset: int  # of the first one shown (moved back into the list when asked beyond its end)
    total: int


async def surveys_page(session: AsyncSession, organization_id: int, offset: int, size: int) -> SurveysPage:
    """A page of the organization's surveys, newest first (every status)."""
    where = Survey.organization_id == organization_id
    total = int((await session.exec(select(func.count()).select_from(Survey).where(where))).one())
    offset = max(0, min(offset, max(total - 1, 0)))
    surveys = (
        await session.exec(
            select(Survey).where(where).order_by(col(Survey.id).desc()).offset(offset).limit(size)
        )
    ).all()
    return SurveysPage(list(surveys), offset, total)

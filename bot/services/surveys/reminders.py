"""The reminder before a survey closes, to those of its audience who have not submitted: claimed
once by the scheduler, written to the outbox (kind "survey_reminder")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, not_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.row_locks import claim
from bot.services.surveys.building import get_survey
from bot.services.surveys.publish import audience_query, enqueue
from bot.services.surveys.rules import REMINDER_KIND
from storage.models import Member, Organization, Survey, SurveyParticipation, SurveyStatus


async def due_survey_reminders(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: for each open survey whose reminder time has come, claim it (once: `reminded_at`
    is set in the same `UPDATE … WHERE reminded_at IS NULL … RETURNING`, with `SKIP LOCKED` on
    PostgreSQL) and write a "survey_reminder" outbox row to every member of the audience who has
    not submitted. The claim and the rows commit together (the caller commits), so a crash loses
    neither and two instances never both remind. Returns the outbox rows written."""
    due = and_(
        Survey.status == SurveyStatus.OPEN,
        col(Survey.remind_at) <= now,
        col(Survey.reminded_at).is_(None),
        col(Survey.closes_at) > now,
    )
    still_due = [col(Survey.reminded_at).is_(None)]
    claimed = await claim(session, Survey, due, {"reminded_at": now}, recheck=still_due)
    total = 0
    for survey_id in sorted(claimed):
        survey = await get_survey(session, survey_id)
        organization = await session.get(Organization, survey.organization_id)
        assert organization is not None
        finished = exists().where(
            SurveyParticipation.survey_id == survey_id,
            SurveyParticipation.member_id == Member.id,
            col(SurveyParticipation.submitted).is_(True),
        )
        query = audience_query(survey).where(not_(finished))
        payload = {
            "survey_id": survey_id,
            "closes_at": survey.closes_at.isoformat() if survey.closes_at else None,
        }
        total += await enqueue(session, survey, organization, query, REMINDER_KIND, payload, now, now)
    return total

"""Opening a survey: its draft claimed once, and one outbox row (kind "survey", ref_id the survey)
per member of the audience, delivered from the opening time, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.audience import audience_members
from bot.services.outbox_rows import pending_row, speaker, write_rows
from bot.services.surveys.building import questions_of
from bot.services.surveys.languages import version_for
from bot.services.surveys.rules import CHOICE_KINDS, KIND, SurveyError, reminder_time, validate_times
from storage.models import Member, Organization, Survey, SurveyStatus


def audience_query(survey: Survey) -> Any:
    return audience_members(survey.organization_id, survey.audience, None)


async def enqueue(
    session: AsyncSession,
    survey: Survey,
    organization: Organization,
    query: Any,
    kind: str,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> int:
    """One outbox row of `kind` per member of `query` (see `audience_query`), in their version."""

    speaks_for = speaker(survey.organization_id, survey.audience)

    def row_for(recipient: Any) -> dict[str, Any]:
        member_id, chat_id, language, _zone = recipient
        to = (member_id, chat_id, version_for(survey, language, organization.default_language))
        return pending_row(kind, survey.id, to, payload, not_before, now, organization_id=speaks_for)

    return await write_rows(session, query, row_for)


async def open_survey(
    session: AsyncSession, survey: Survey, organization: Organization, now: datetime
) -> int:
    """Open a draft and invite its audience (delivered from `opens_at`). Returns the invitations."""
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")
    questions = await questions_of(session, survey.id or 0)
    if not questions:
        raise SurveyError("no_questions")
    if survey.native_poll and (len(questions) != 1 or questions[0].kind not in CHOICE_KINDS[:2]):
        raise SurveyError("not_a_poll")
    validate_times(survey.opens_at, survey.closes_at, now)
    # Claim the draft: of two Publish taps at once, the second finds it open and invites no one again.
    claimed = (
        await (await session.connection()).execute(
            update(Survey)
            .where(col(Survey.id) == survey.id, col(Survey.status) == SurveyStatus.DRAFT)
            .values(status=SurveyStatus.OPEN, updated_at=now)
            .returning(col(Survey.id))
        )
    ).first()
    if claimed is None:
        raise SurveyError("not_editable")
    survey.opens_at = max(survey.opens_at or now, now)
    survey.status = SurveyStatus.OPEN
    survey.remind_at = reminder_time(survey)
    survey.updated_at = now
    session.add(survey)
    await session.flush()
    payload: dict[str, Any] = {"survey_id": survey.id, "native_poll": survey.native_poll}
    if survey.native_poll:
        payload["question_id"] = questions[0].id
    invited = await enqueue(
        session, survey, organization, audience_query(survey), KIND, payload, survey.opens_at, now
    )
    author = await session.get(Member, survey.created_by_member_id) if survey.created_by_member_id else None
    audit.record(
        session,
        "broadcast.poll" if survey.native_poll else "broadcast.survey",
        actor_telegram_id=author.telegram_id if author else None,
        organization_id=survey.organization_id,
        details={"survey_id": survey.id, "recipients": invited},
    )
    return invited


async def publish(session: AsyncSession, survey: Survey, now: datetime) -> int:
    """Open a draft in its own organization (whose default language picks the version of members
    without one). Returns the invitations; the caller commits, then wakes the delivery engine."""
    organization = await session.get(Organization, survey.organization_id)
    if organization is None:
        raise SurveyError("not_found")
    return await open_survey(session, survey, organization, now)

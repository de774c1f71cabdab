"""Completing trainings and their feedback: after the last session a training becomes completed
and its attendees get a short survey (a rating 1–5 and an optional comment), run by
`bot.services.surveys`; coordinators see the average rating."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram.utils.i18n import I18n
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES
from bot.services import surveys as survey_service
from bot.services.events import effective_end
from bot.services.trainings.attendance import session_ids
from bot.services.trainings.lock import lock_training
from bot.services.trainings.notices import organization_of
from bot.services.trainings.queries import sessions_of
from bot.services.trainings.rules import FEEDBACK_COMMENT, FEEDBACK_DAYS, FEEDBACK_RATING, TAKING
from storage.models import (
    EventStatus,
    QuestionKind,
    Rsvp,
    SignupStatus,
    Survey,
    Training,
    TrainingSignup,
    TrainingStatus,
)


def feedback_questions(language: str) -> tuple[str, str]:
    """The feedback survey's two questions in `language` (English without an i18n context)."""
    i18n = I18n.get_current(no_error=True)
    if i18n is None:
        return FEEDBACK_RATING, FEEDBACK_COMMENT
    return i18n.gettext(FEEDBACK_RATING, locale=language), i18n.gettext(FEEDBACK_COMMENT, locale=language)


async def _feedback_recipients(session: AsyncSession, training_id: int) -> list[int]:
    """Attendees; when no attendance was recorded at all, the confirmed participants."""
    ids = await session_ids(session, training_id)
    attended = sorted(
        set(
            (
                await session.exec(
                    select(Rsvp.member_id).where(col(Rsvp.event_id).in_(ids), col(Rsvp.attended).is_(True))
                )
            ).all()
        )
    )
    if attended:
        return attended
    confirmed = await session.exec(
        select(TrainingSignup.member_id).where(
            TrainingSignup.training_id == training_id, TrainingSignup.status == SignupStatus.CONFIRMED
        )
    )
    return sorted(confirmed.all())


async def _send_feedback(session: AsyncSession, training: Training, now: datetime) -> Survey | None:
    organization = await organization_of(session, training)
    recipients = await _feedback_recipients(session, training.id or 0)
    if not recipients:
        return None
    translations = {lang: entry["title"] for lang, entry in training.translations.items()}
    survey = await survey_service.create_survey(
        session,
        training.organization_id,
        training.title,
        now,
        language=training.language,
        translations=translations,
        audience={"members": recipients},
        closes_at=now + timedelta(days=FEEDBACK_DAYS),
        created_by_member_id=training.created_by_member_id,
    )
    rating, comment = feedback_questions(training.language)
    languages = [lang for lang in SHIPPED_LANGUAGES if lang != training.language]
    rating_translations = {lang: {"text": feedback_questions(lang)[0]} for lang in languages}
    comment_translations = {lang: {"text": feedback_questions(lang)[1]} for lang in languages}
    await survey_service.add_question(
        session,
        survey,
        QuestionKind.RATING,
        rating,
        translations=rating_translations,
        min_value=1,
        max_value=5,
    )
    await survey_service.add_question(
        session, survey, QuestionKind.TEXT, comment, translations=comment_translations, optional=True
    )
    await survey_service.open_survey(session, survey, organization, now)
    return survey


async def send_due_feedback(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: trainings whose last session has ended become completed, and their attendees
    get the feedback survey (rating 1–5 and an optional comment). Idempotent: each training is
    completed once, under its lock. Returns how many trainings were completed; the caller commits."""
    candidates = (
        await session.exec(
            select(Training).where(col(Training.status).in_(TAKING)).order_by(col(Training.id))
        )
    ).all()
    completed = 0
    for training in candidates:
        sessions = [
            e for e in await sessions_of(session, training.id or 0) if e.status != EventStatus.CANCELLED
        ]
        if sessions and max(effective_end(event) for event in sessions) > now:
            continue
        locked = await lock_training(session, training.id or 0, col(Training.status).in_(TAKING))
        if locked is None:
            continue  # another instance completed it meanwhile
        await session.refresh(training)
        training.status = TrainingStatus.COMPLETED
        training.updated_at = now
        survey = await _send_feedback(session, training, now)
        training.feedback_survey_id = survey.id if survey else None
        session.add(training)
        await session.flush()
        completed += 1
    return completed


async def feedback_averages(session: AsyncSession, training: Training) -> tuple[float, int] | None:
    """(average rating, number of ratings) of the feedback survey, or None before any."""
    if training.feedback_survey_id is None:
        return None
    survey = await survey_service.get_survey(session, training.feedback_survey_id)
    results = await survey_service.results(session, survey)
    rating = next((q for q in results.questions if q.kind == QuestionKind.RATING), None)
    if rating is None or not rating.answered or rating.average is None:
        return None
    return rating.average, rating.answered

"""Creating a training (a draft and its session events, everything validated first), deleting a
draft, and publishing it: the sessions are published and the audience is told, each member after
their quiet hours."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as event_service
from bot.services.outbox_rows import write_notice
from bot.services.rows import delete_rows, saved
from bot.services.trainings.notices import NOTICES, audience_query
from bot.services.trainings.queries import fresh, sessions_of
from bot.services.trainings.rules import SESSION_REMINDERS, SessionInput, TrainingError, validate_training
from storage.models import Member, Organization, Training, TrainingStatus


async def create_training(
    session: AsyncSession,
    organization: Organization,
    creator: Member | None,
    *,
    title: str,
    description: str = "",
    language: str = "en",
    teaching_languages: Sequence[str] | None = None,
    trainer: str | None = None,
    capacity: int | str,
    signup_deadline: datetime | None = None,
    timezone: str = "UTC",
    questions: Sequence[dict[str, Any]] | None = None,
    translations: dict[str, dict[str, str]] | None = None,
    audience: dict[str, Any] | None = None,
    sessions: Sequence[SessionInput],
    now: datetime,
) -> Training:
    """A draft training and its draft session events. Everything is validated first: on
    TrainingError nothing was written."""
    values = validate_training(
        now,
        title=title,
        description=description,
        language=language,
        teaching_languages=list(teaching_languages or []),
        trainer=trainer,
        capacity=capacity,
        signup_deadline=signup_deadline,
        timezone=timezone,
        questions=questions,
        translations=translations,
        audience=audience,
        sessions=sessions,
    )
    items: list[SessionInput] = values.pop("sessions")
    training = Training(
        organization_id=organization.id or 0,
        created_by_member_id=creator.id if creator else None,
        status=TrainingStatus.DRAFT,
        created_at=now,
        updated_at=now,
        **values,
    )
    await saved(session, training)
    for item in items:
        event = await event_service.create_event(
            session,
            organization_id=organization.id or 0,
            title=training.title,
            description=training.description,
            language=training.language,
            translations=training.translations,
            starts_at=item.starts_at,
            ends_at=item.starts_at + timedelta(minutes=item.duration_minutes),
            timezone=training.timezone,
            place=item.place,
            online_url=item.online_url,
            reminder_offsets=SESSION_REMINDERS,
            created_by_member_id=training.created_by_member_id,
            now=now,
        )
        event.training_id = training.id
        session.add(event)
    await session.flush()
    return training


async def delete_draft(session: AsyncSession, training: Training) -> None:
    """A draft was never seen by members: it and its sessions can simply go."""
    if training.status != TrainingStatus.DRAFT:
        raise TrainingError("not_editable")
    await delete_rows(session, await sessions_of(session, training.id or 0), [training])


async def publish_training(
    session: AsyncSession, training: Training, organization: Organization, now: datetime
) -> int:
    """Open a draft for sign-ups: its sessions are published (reminders scheduled, no event notice)
    and a "published" notice goes to the audience, each member after their quiet hours. Returns how
    many members are notified."""
    training = await fresh(session, training)
    if training.status != TrainingStatus.DRAFT:
        raise TrainingError("not_editable")
    if training.organization_id != organization.id:
        raise ValueError("training of another organization")
    sessions = await sessions_of(session, training.id or 0)
    if not sessions:
        raise TrainingError("no_sessions")
    if any(event.starts_at <= now for event in sessions):
        raise TrainingError("session_past")
    if training.signup_deadline is not None and training.signup_deadline <= now:
        raise TrainingError("deadline_in_past")
    training.status = TrainingStatus.OPEN
    training.updated_at = now
    session.add(training)
    await session.flush()
    for event in sessions:
        await event_service.publish(session, event, organization, now, announce=False)
    closes = training.signup_deadline or sessions[0].starts_at  # quiet until then: better now than never
    audience = audience_query(training)
    return await write_notice(
        session, NOTICES, training, organization, "published", {}, audience, now, urgent_from=closes
    )

"""What members did in a period: events (answers, check-ins, new and returning attendees),
trainings (seats filled, waitlists, completion), surveys (response rates) and announcements (reach).

Events and surveys count when they start (open) in the period, trainings when one of their sessions
does, announcements when their sending starts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.stats.period import Period, Scope
from bot.services.suppression import Breakdown, breakdown
from storage.models import (
    Announcement,
    AnnouncementStatus,
    DeliveryStatus,
    Event,
    EventStatus,
    OutboxMessage,
    PollVote,
    ResponseStatus,
    Rsvp,
    RsvpStatus,
    SignupStatus,
    Survey,
    SurveyResponse,
    SurveyStatus,
    Training,
    TrainingSignup,
    TrainingStatus,
)

SURVEY_KIND = "survey"  # the outbox kind of survey invitations (bot.services.surveys.rules.KIND)
ANNOUNCEMENT_KIND = "announcement"


@dataclass
class EventStats:
    events: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # RSVP status → count
    checkins: int = 0
    going_past: int = 0  # "going" answers to events that have started
    going_attended: int = 0  # of those, checked in or ticked as attended
    # The period's attendees, "new" (their first event of the scope) and "returning", suppressed.
    attendees: Breakdown = field(default_factory=Breakdown)


@dataclass
class TrainingStats:
    trainings: int = 0
    capacity: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    finished_participants: int = 0  # confirmed in trainings whose sessions have all started
    completed: int = 0  # of those, present at every session


@dataclass
class SurveyStats:
    surveys: int = 0
    invited: int = 0  # invitations delivered
    responses: int = 0


@dataclass
class ReachStats:
    announcements: int = 0
    deliveries: Counter[str] = field(
        default_factory=Counter
    )  # "delivered" | "blocked" | "failed" | "waiting"


async def event_stats(
    session: AsyncSession, scope: Scope, period: Period, now: datetime, min_group: int
) -> EventStats:
    """Events (not training sessions, not cancelled) that start in the period."""
    in_period = (
        select(Event.id)
        .where(
            scope.where(Event.organization_id),
            col(Event.training_id).is_(None),
            Event.status == EventStatus.PUBLISHED,
            col(Event.starts_at) >= period.start,
            col(Event.starts_at) < period.end,
        )
        .subquery()
    )
    stats = EventStats(events=int((await session.exec(select(func.count()).select_from(in_period))).one()))
    rows = await session.exec(
        select(Rsvp.status, Rsvp.attended, Event.starts_at, func.count())
        .join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(col(Rsvp.event_id).in_(select(in_period.c.id)))
        .group_by(col(Rsvp.status), col(Rsvp.attended), col(Event.starts_at))
    )
    for status, attended, starts_at, count in rows.all():
        started = starts_at <= now
        stats.answers[str(status)] += count
        stats.checkins += count if attended else 0
        if status == RsvpStatus.GOING and started:
            stats.going_past += count
            stats.going_attended += count if attended else 0
    stats.attendees = breakdown(await _attendees(session, scope, period), min_group)
    return stats


async def _attendees(session: AsyncSession, scope: Scope, period: Period) -> Counter[str]:
    """The period's attendees: new (their first event of the scope) or returning (came before).
    One pass over attendance up to the period's end: whoever's last event is in the period came in
    it; their first one says which."""
    first, last = func.min(Event.starts_at), func.max(Event.starts_at)
    rows = await session.exec(
        select(first)
        .select_from(Rsvp)
        .join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(
            scope.where(Event.organization_id),
            col(Event.training_id).is_(None),
            col(Rsvp.attended).is_(True),
            col(Event.starts_at) < period.end,
        )
        .group_by(col(Rsvp.member_id))
        .having(last >= period.start)
    )
    return Counter("new" if moment >= period.start else "returning" for moment in rows.all())


async def training_stats(session: AsyncSession, scope: Scope, period: Period, now: datetime) -> TrainingStats:
    """Trainings (published, not cancelled) with a session in the period."""
    sessions = await session.exec(
        select(Event.training_id, func.min(Event.starts_at), func.max(Event.starts_at), func.count())
        .join(Training, col(Training.id) == col(Event.training_id))
        .where(
            scope.where(Training.organization_id),
            col(Training.status).in_([TrainingStatus.OPEN, TrainingStatus.CLOSED, TrainingStatus.COMPLETED]),
            col(Event.status) != EventStatus.CANCELLED,
        )
        .group_by(col(Event.training_id))
    )
    chosen: dict[int, tuple[datetime, int]] = {}
    for training_id, first, last, count in sessions.all():
        if first < period.end and last >= period.start:
            chosen[training_id] = (last, count)
    stats = TrainingStats(trainings=len(chosen))
    if not chosen:
        return stats
    capacities = await session.exec(select(func.sum(Training.capacity)).where(col(Training.id).in_(chosen)))
    stats.capacity = int(capacities.one() or 0)
    signups = await session.exec(
        select(TrainingSignup.status, func.count())
        .where(col(TrainingSignup.training_id).in_(chosen))
        .group_by(col(TrainingSignup.status))
    )
    by_status = {str(status): count for status, count in signups.all()}
    stats.confirmed = by_status.get(SignupStatus.CONFIRMED, 0)
    stats.waitlisted = by_status.get(SignupStatus.WAITLISTED, 0)
    finished = {training_id: count for training_id, (last, count) in chosen.items() if last <= now}
    if finished:
        await _completion(session, stats, finished)
    return stats


async def _completion(session: AsyncSession, stats: TrainingStats, sessions: dict[int, int]) -> None:
    """Confirmed participants of the finished trainings, and those present at every session."""
    confirmed = await session.exec(
        select(TrainingSignup.training_id, TrainingSignup.member_id).where(
            col(TrainingSignup.training_id).in_(sessions), TrainingSignup.status == SignupStatus.CONFIRMED
        )
    )
    participants = set(confirmed.all())
    stats.finished_participants = len(participants)
    present = await session.exec(
        select(Event.training_id, Rsvp.member_id, func.count())
        .join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(
            col(Event.training_id).in_(sessions),
            col(Event.status) != EventStatus.CANCELLED,
            col(Rsvp.attended).is_(True),
        )
        .group_by(col(Event.training_id), col(Rsvp.member_id))
    )
    stats.completed = sum(
        1
        for training_id, member_id, count in present.all()
        if (training_id, member_id) in participants and count >= sessions[training_id]
    )


async def survey_stats(session: AsyncSession, scope: Scope, period: Period) -> SurveyStats:
    """Surveys and quick polls opened in the period: invitations delivered, responses (votes)."""
    surveys = (
        await session.exec(
            select(Survey.id, Survey.native_poll).where(
                scope.where(Survey.organization_id),
                col(Survey.status).in_([SurveyStatus.OPEN, SurveyStatus.CLOSED]),
                func.coalesce(Survey.opens_at, Survey.created_at) >= period.start,
                func.coalesce(Survey.opens_at, Survey.created_at) < period.end,
            )
        )
    ).all()
    stats = SurveyStats(surveys=len(surveys))
    if not surveys:
        return stats
    ids = [survey_id for survey_id, _ in surveys]
    polls = [survey_id for survey_id, native in surveys if native]
    stats.invited = await _count(
        session,
        select(func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.kind == SURVEY_KIND,
            col(OutboxMessage.ref_id).in_(ids),
            OutboxMessage.status == DeliveryStatus.SENT,
        ),
    )
    stats.responses = await _count(
        session,
        select(func.count())
        .select_from(SurveyResponse)
        .where(col(SurveyResponse.survey_id).in_(ids), SurveyResponse.status == ResponseStatus.SUBMITTED),
    )
    if polls:
        stats.responses += await _count(
            session, select(func.count()).select_from(PollVote).where(col(PollVote.survey_id).in_(polls))
        )
    return stats


async def reach_stats(session: AsyncSession, scope: Scope, period: Period) -> ReachStats:
    """Announcements whose sending started in the period, and what became of each message."""
    sent = (
        select(Announcement.id)
        .where(
            scope.where(Announcement.organization_id),
            col(Announcement.status).in_([AnnouncementStatus.SENDING, AnnouncementStatus.SENT]),
            col(Announcement.started_at) >= period.start,
            col(Announcement.started_at) < period.end,
        )
        .subquery()
    )
    stats = ReachStats(announcements=await _count(session, select(func.count()).select_from(sent)))
    rows = await session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.kind == ANNOUNCEMENT_KIND, col(OutboxMessage.ref_id).in_(select(sent.c.id)))
        .group_by(col(OutboxMessage.status))
    )
    outcome = {
        DeliveryStatus.SENT: "delivered",
        DeliveryStatus.BLOCKED: "blocked",
        DeliveryStatus.UNREACHABLE: "blocked",
        DeliveryStatus.FAILED: "failed",
        DeliveryStatus.PENDING: "waiting",
        DeliveryStatus.SENDING: "waiting",
    }
    for status, count in rows.all():
        if (name := outcome.get(DeliveryStatus(status))) is not None:
            stats.deliveries[name] += count
    return stats


async def _count(session: AsyncSession, query: object) -> int:
    return int((await session.exec(query)).one() or 0)  # type: ignore[call-overload]

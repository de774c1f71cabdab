"""What the screens read: one event, the upcoming events page, the answer counts, the attendee list
and its CSV export, and a member's answers for `/mydata`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import spreadsheet_cell
from bot.services.events.rules import EventError
from storage.models import Event, EventStatus, Member, Membership, Organization, Rsvp, RsvpStatus


async def get_event(session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise EventError("not_found")
    return event


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    total: int
    answers: dict[int, RsvpStatus]  # the member's own answer per listed event


async def upcoming_events(
    session: AsyncSession,
    organization_id: int | None,
    member: Member | None,
    now: datetime,
    offset: int = 0,
    limit: int = 5,
    *,
    include_drafts: bool = False,
) -> EventPage:
    """Published events not yet over (drafts too for organizers), soonest first.

    `organization_id` None: every organization the member belongs to.
    """
    if organization_id is not None:
        organizations: Any = col(Event.organization_id) == organization_id
    elif member is not None:
        organizations = col(Event.organization_id).in_(
            select(Membership.organization_id).where(Membership.member_id == member.id)
        )
    else:
        raise ValueError("an organization or a member is needed")
    statuses = [EventStatus.PUBLISHED, EventStatus.DRAFT] if include_drafts else [EventStatus.PUBLISHED]
    where = and_(
        organizations,
        col(Event.status).in_(statuses),
        col(Event.training_id).is_(None),  # training sessions are listed with their training
        or_(col(Event.starts_at) > now, and_(col(Event.ends_at).is_not(None), col(Event.ends_at) > now)),
    )
    total = int((await session.exec(select(func.count()).select_from(Event).where(where))).one())
    events = list(
        (
            await session.exec(
                select(Event)
                .where(where)
                .order_by(col(Event.starts_at), col(Event.id))
                .offset(offset)
                .limit(limit)
            )
        ).all()
    )
    answers: dict[int, RsvpStatus] = {}
    if member is not None and events:
        result = await session.exec(
            select(Rsvp.event_id, Rsvp.status).where(
                Rsvp.member_id == member.id, col(Rsvp.event_id).in_([event.id for event in events])
            )
        )
        answers = {event_id: RsvpStatus(status) for event_id, status in result.all()}
    return EventPage(events, total, answers)


async def counts(session: AsyncSession, event_id: int) -> dict[RsvpStatus, int]:
    """Answers per status, every status present."""
    result = await session.exec(
        select(Rsvp.status, func.count()).where(Rsvp.event_id == event_id).group_by(Rsvp.status)
    )
    found = {RsvpStatus(status): int(count) for status, count in result.all()}
    return {status: found.get(status, 0) for status in RsvpStatus}


@dataclass(frozen=True)
class Attendee:
    member_id: int
    name: str | None
    username: str | None
    telegram_id: int | None
    language: str | None
    status: RsvpStatus
    seq: int
    attended: bool
    checked_in_at: datetime | None
    offered_until: datetime | None


_STATUS_ORDER = {
    status: index
    for index, status in enumerate(
        (RsvpStatus.GOING, RsvpStatus.OFFERED, RsvpStatus.MAYBE, RsvpStatus.WAITLISTED, RsvpStatus.NOT_GOING)
    )
}


async def attendees(
    session: AsyncSession, event_id: int, statuses: Sequence[RsvpStatus] | None = None
) -> list[Attendee]:
    """Answers with who gave them: going, offered, maybe, waitlisted, not going; tap order within."""
    query = (
        select(Rsvp, Member)
        .join(Member, col(Member.id) == col(Rsvp.member_id))
        .where(Rsvp.event_id == event_id)
        .order_by(col(Rsvp.seq))
    )
    if statuses:
        query = query.where(col(Rsvp.status).in_(statuses))
    rows = [
        Attendee(
            member_id=member.id or 0,
            name=member.display_name,
            username=member.username,
            telegram_id=member.telegram_id,
            language=member.language,
            status=RsvpStatus(answer.status),
            seq=answer.seq,
            attended=answer.attended,
            checked_in_at=answer.checked_in_at,
            offered_until=answer.offered_until,
        )
        for answer, member in (await session.exec(query)).all()
    ]
    return sorted(rows, key=lambda row: (_STATUS_ORDER[row.status], row.seq))


async def export_csv(session: AsyncSession, event_id: int) -> bytes:
    """One row per answer: name, language, status, seq, attended (UTF-8 with BOM for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "language", "status", "seq", "attended"])
    for row in await attendees(session, event_id):
        name = row.name or f"#{row.member_id}"
        writer.writerow(
            [
                spreadsheet_cell(name),
                row.language or "",
                str(row.status),
                row.seq,
                "yes" if row.attended else "",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


async def member_answers(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """The member's answers, for `/mydata`."""
    result = await session.exec(
        select(Rsvp, Event.title, Event.starts_at)
        .join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(Rsvp.member_id == member_id)
        .order_by(col(Event.starts_at))
    )
    return [
        {
            "event": title,
            "starts_at": starts_at.isoformat(),
            "answer": str(answer.status),
            "attended": answer.attended,
            "answered_at": answer.updated_at.isoformat(),
        }
        for answer, title, starts_at in result.all()
    ]


async def shown_event(session: AsyncSession, organization_id: int, event_id: int) -> Event | None:
    """The event as members may open it: of this organization and not a draft (a training
    session included: the caller decides what it shows of one); None otherwise."""
    event = await session.get(Event, event_id)
    if event is None or event.organization_id != organization_id or event.status == EventStatus.DRAFT:
        return None
    return event


async def event_with_organization(
    session: AsyncSession, event_id: int, organization_id: int
) -> tuple[Event, Organization] | None:
    """The event and its organization read afresh (for work that outlives its update)."""
    event = await session.get(Event, event_id)
    organization = await session.get(Organization, organization_id)
    if event is None or organization is None:
        return None
    return event, organization

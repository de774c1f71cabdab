"""What the screens read: one event, the upcoming events page, the answer counts, the attendee list
and its CSV export, and a member's answers for `/mydata`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import Integer, and_, bindparam, func, or_
from sqlalchemy import select as core_select
from sqlalchemy.orm import Session
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import spreadsheet_cell
from bot.services.events.checkin import CHECKIN_AFTER, CHECKIN_BEFORE
from bot.services.events.rules import DEFAULT_DURATION, EventError
from bot.services.origins import events_for
from bot.services.upcoming_cache import cache_of
from storage.models import Event, EventStatus, Member, Organization, Rsvp, RsvpStatus
from storage.types import ROW_ID_MAX, UTCDateTime


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


class ListedEvent(NamedTuple):
    """What a list of upcoming events shows of one: read as these columns, not as an `Event`
    (no ORM instance, no description, no reminder or audience JSON to decode)."""

    id: int
    organization_id: int
    status: EventStatus
    title: str
    language: str
    translations: dict[str, dict[str, str]]
    starts_at: datetime
    ends_at: datetime | None


_EVENTS, _RSVPS = Event.__table__.c, Rsvp.__table__.c  # type: ignore[attr-defined]
_LISTED = tuple(_EVENTS[name] for name in ListedEvent._fields)


@dataclass(frozen=True)
class UpcomingPage:
    events: list[ListedEvent]
    total: int
    answers: dict[int, RsvpStatus]  # the member's own answer per listed event


@cache
def _upcoming_page(of_organization: bool, include_drafts: bool) -> Any:
    """One page of the upcoming events, soonest first, in one statement built once (building it
    took longer than running it on SQLite): each row the event (`ListedEvent`'s columns), how many
    there are in all and the answer of the member `:member` (NULL when none). Bound: `:now`,
    `:member`, `:offset`, `:limit`, and `:organization` when `of_organization` (else what `:member`
    sees).

    The total is an uncorrelated scalar subquery (computed once) and the page walks
    `ix_events_listed` in start order, stopping after the page: on SQLite this is several times
    cheaper than a window count, which read and sorted every upcoming event (issue 15).

    A Core statement of the tables' columns: run on the session's connection, it skips the ORM's
    execution and result set-up; the statuses are plain bound values, not a list expanded into
    the cached SQL at every execution (together a third of the statement's CPU, issue 15)."""
    member = bindparam("member", type_=Integer())
    organizations = (
        _EVENTS.organization_id == bindparam("organization", type_=Integer())
        if of_organization
        else events_for(member)
    )
    published = _EVENTS.status == EventStatus.PUBLISHED
    now = bindparam("now", type_=UTCDateTime())
    upcoming = and_(
        organizations,
        or_(published, _EVENTS.status == EventStatus.DRAFT) if include_drafts else published,
        _EVENTS.training_id.is_(None),  # training sessions are listed with their training
        or_(_EVENTS.starts_at > now, and_(_EVENTS.ends_at.is_not(None), _EVENTS.ends_at > now)),
    )
    # correlate(None): the count reads its own `events`, not the outer query's row
    total = core_select(func.count()).select_from(Event.__table__).where(upcoming).correlate(None)
    return (
        core_select(*_LISTED, total.scalar_subquery().label("total"), _RSVPS.status)
        .outerjoin(Rsvp.__table__, and_(_RSVPS.event_id == _EVENTS.id, _RSVPS.member_id == member))
        .where(upcoming)
        .order_by(_EVENTS.starts_at, _EVENTS.id)
        .offset(bindparam("offset", type_=Integer()))
        .limit(bindparam("limit", type_=Integer()))
    )


async def upcoming_events(
    session: AsyncSession,
    organization_id: int | None,
    member: Member | None,
    now: datetime,
    offset: int = 0,
    limit: int = 5,
    *,
    include_drafts: bool = False,
) -> UpcomingPage:
    """Published events not yet over (drafts too for organizers), soonest first, with the member's
    own answer to each listed one.

    `organization_id` None: what the member sees (`origins.events_for`: every active organization
    they belong to, and the events open to every organization); their first page is read once
    while nothing it shows changes, where the engine has a page cache (`bot.services.upcoming_cache`).
    """
    if organization_id is None and member is None:
        raise ValueError("an organization or a member is needed")
    member_id = member.id if member is not None else None
    first_page = organization_id is None and offset <= 0 and not include_drafts
    cache = cache_of(session) if first_page and member_id is not None else None
    if cache is None or member_id is None:
        return await _read_upcoming(session, organization_id, member, now, offset, limit, include_drafts)
    kept = cache.get(member_id, limit, now)
    if kept is not None:
        return cast(UpcomingPage, kept)
    generation = cache.generation
    page = await _read_upcoming(session, None, member, now, 0, limit, False)
    await cache.keep(session, generation, member_id, limit, page)
    return page


async def _read_upcoming(
    session: AsyncSession,
    organization_id: int | None,
    member: Member | None,
    now: datetime,
    offset: int,
    limit: int,
    include_drafts: bool,
) -> UpcomingPage:
    statement = _upcoming_page(organization_id is not None, include_drafts)
    params = {
        "organization": organization_id,
        "member": member.id if member is not None else None,
        "now": now,
        "offset": max(0, offset),
        "limit": limit,
    }
    rows = await session.run_sync(_rows, statement, params)
    if not rows:  # none, or past the end (an old page button): then how many there are
        total = params["offset"] and await _count_upcoming(session, statement, params)
        return UpcomingPage([], total, {})
    width = len(ListedEvent._fields)
    events = [ListedEvent._make(row[:width]) for row in rows]
    answers = {row[0]: RsvpStatus(row[-1]) for row in rows if row[-1] is not None}
    return UpcomingPage(events, int(rows[0][width]), answers)


def _rows(session: Session, statement: Any, params: dict[str, Any]) -> Sequence[Any]:
    """The rows of a Core `statement`, on the session's connection in its transaction, after what
    the session holds unflushed (as the ORM's autoflush would): one hand-over to SQLAlchemy's
    greenlet for the flush, the connection and the statement."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params).all()


async def _count_upcoming(session: AsyncSession, statement: Any, params: dict[str, Any]) -> int:
    """How many upcoming events `statement` pages through (read on a page past the end)."""
    first = {**params, "offset": 0, "limit": 1}
    rows = await session.run_sync(_rows, statement, first)
    return int(rows[0][len(ListedEvent._fields)]) if rows else 0


def _checkin_still_open(now: datetime) -> Any:
    """Not over for the organizer: check-in still takes codes (until an hour after the end; an
    event without an end lasts DEFAULT_DURATION)."""
    return or_(
        and_(col(Event.ends_at).is_not(None), col(Event.ends_at) > now - CHECKIN_AFTER),
        and_(col(Event.ends_at).is_(None), col(Event.starts_at) > now - DEFAULT_DURATION - CHECKIN_AFTER),
    )


async def organizer_events(
    session: AsyncSession, organization_id: int, now: datetime, offset: int, limit: int, *, past: bool = False
) -> EventPage:
    """/myevents: drafts and events still taking check-in codes, soonest first (an event stays
    here during it and until check-in closes); with `past`, the published events after that,
    latest first, for their attendance."""
    base = and_(col(Event.organization_id) == organization_id, col(Event.training_id).is_(None))
    if past:
        where = and_(base, col(Event.status) == EventStatus.PUBLISHED, ~_checkin_still_open(now))
        order: tuple[Any, ...] = (col(Event.starts_at).desc(), col(Event.id).desc())
    else:
        statuses = (EventStatus.PUBLISHED, EventStatus.DRAFT)
        where = and_(base, col(Event.status).in_(statuses), _checkin_still_open(now))
        order = (col(Event.starts_at), col(Event.id))
    total = int((await session.exec(select(func.count()).select_from(Event).where(where))).one())
    events = list(
        (await session.exec(select(Event).where(where).order_by(*order).offset(offset).limit(limit))).all()
    )
    return EventPage(events, total, {})


async def checkin_window_open(session: AsyncSession, organization_id: int, now: datetime) -> bool:
    """Is any published event of the organization taking check-in codes right now?"""
    query = select(Event.id).where(
        col(Event.organization_id) == organization_id,
        col(Event.status) == EventStatus.PUBLISHED,
        col(Event.starts_at) <= now + CHECKIN_BEFORE,
        _checkin_still_open(now),
    )
    return (await session.exec(query.limit(1))).first() is not None


# Built once (every event card reads it): answers per status of the event `:event_id`.
_COUNTS = (
    select(Rsvp.status, func.count()).where(col(Rsvp.event_id) == bindparam("event_id")).group_by(Rsvp.status)
)


async def counts(session: AsyncSession, event_id: int) -> dict[RsvpStatus, int]:
    """Answers per status, every status present."""
    result = await session.exec(_COUNTS, params={"event_id": event_id})
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


# Built once (every tap on an event's buttons reads it): the event `:event_id` if the member
# `:member_id` may see it (one statement).
_SHOWN = select(Event).where(col(Event.id) == bindparam("event_id"), events_for(bindparam("member_id")))


async def shown_event(session: AsyncSession, member_id: int | None, event_id: int) -> Event | None:
    """The event as this member may open it: not a draft, of one of their organizations or open to
    every organization (a training session included: the caller decides what it shows of one);
    None otherwise (a forged id, another organization's closed event)."""
    if not 0 < event_id <= ROW_ID_MAX:
        return None
    event = (await session.exec(_SHOWN, params={"event_id": event_id, "member_id": member_id})).first()
    return None if event is None or event.status == EventStatus.DRAFT else event


async def event_with_organization(
    session: AsyncSession, event_id: int, organization_id: int
) -> tuple[Event, Organization] | None:
    """The event and its organization read afresh (for work that outlives its update)."""
    event = await session.get(Event, event_id)
    organization = await session.get(Organization, organization_id)
    if event is None or organization is None:
        return None
    return event, organization

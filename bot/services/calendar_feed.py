"""Members' private calendar feeds: a secret address (PUBLIC_URL/calendar/<token>.ics) that
Google Calendar, Outlook and Apple Calendar subscribe to, listing the events a member answered
Going or Maybe to and the sessions of the trainings they have a confirmed seat in.

Whoever knows the token reads that calendar, so the token is long and random, `renew_feed`
replaces it (the old address stops working at once), and /forget deletes it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    CalendarFeed,
    Event,
    EventStatus,
    Member,
    MemberStatus,
    Rsvp,
    RsvpStatus,
    SignupStatus,
    TrainingSignup,
)

HISTORY = timedelta(days=90)  # past events stay in the feed this long


def feed_url(public_url: str, token: str) -> str:
    """The address calendar apps subscribe to (PUBLIC_URL + /calendar/<token>.ics)."""
    return f"{public_url}/calendar/{token}.ics"


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 43 characters, 256 bits


async def feed_token(session: AsyncSession, member_id: int) -> str | None:
    feed = await session.get(CalendarFeed, member_id)
    return feed.token if feed else None


async def enable_feed(session: AsyncSession, member_id: int) -> str:
    """The member's token, made on first use."""
    feed = await session.get(CalendarFeed, member_id)
    if feed is None:
        feed = CalendarFeed(member_id=member_id, token=new_token())
        session.add(feed)
        await session.flush()
    return feed.token


async def renew_feed(session: AsyncSession, member_id: int) -> str:
    """A new token: the old address stops working."""
    feed = await session.get(CalendarFeed, member_id)
    if feed is None:
        return await enable_feed(session, member_id)
    feed.token = new_token()
    session.add(feed)
    await session.flush()
    return feed.token


async def disable_feed(session: AsyncSession, member_id: int) -> None:
    await session.exec(delete(CalendarFeed).where(col(CalendarFeed.member_id) == member_id))  # type: ignore[call-overload]


async def member_of_feed(session: AsyncSession, token: str) -> Member | None:
    """The member behind a token, if it is current and they are still a member."""
    if not token or len(token) > 64:
        return None
    row = (
        await session.exec(
            select(Member)
            .join(CalendarFeed, col(CalendarFeed.member_id) == col(Member.id))
            .where(col(CalendarFeed.token) == token)
        )
    ).first()
    if row is None or row.status in (MemberStatus.DELETED, MemberStatus.DECLINED):
        return None
    return row


async def feed_events(session: AsyncSession, member_id: int, now: datetime) -> list[Event]:
    """Published or cancelled events (cancelled ones show as cancelled) starting after
    `now - HISTORY`: answered Going or Maybe, or a session of a training with a confirmed seat."""
    answered = select(Rsvp.event_id).where(
        col(Rsvp.member_id) == member_id, col(Rsvp.status).in_([RsvpStatus.GOING, RsvpStatus.MAYBE])
    )
    trainings = select(TrainingSignup.training_id).where(
        col(TrainingSignup.member_id) == member_id, col(TrainingSignup.status) == SignupStatus.CONFIRMED
    )
    rows = await session.exec(
        select(Event)
        .where(
            col(Event.status).in_([EventStatus.PUBLISHED, EventStatus.CANCELLED]),
            col(Event.starts_at) >= now - HISTORY,
            or_(col(Event.id).in_(answered), col(Event.training_id).in_(trainings)),
        )
        .order_by(col(Event.starts_at))
    )
    return list(rows.all())

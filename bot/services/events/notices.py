"""Event notices (published, changed, cancelled, a seat offered, ...): each decision is an
`EventNotice` row, and its outbox rows (kind "event_notice", ref_id = the notice id) are written in
the caller's transaction (`outbox_rows.write_notice` with `NOTICES`), so the decision and the
messages commit together. Nothing here sends: the delivery engine renders each row in the member's
language and zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import count_members, reachable_members
from bot.services.events.rules import AFFECTED
from bot.services.outbox_rows import Notices, write_notice
from storage.models import Event, EventNotice, Member, Organization, Rsvp

NOTICE_KIND = "event_notice"  # outbox kind of every notice; reminders use "reminder"
MUTE_TOPIC = "events"  # members who muted this interest get no "published" notices
NOTICES = Notices(EventNotice, "event_id", NOTICE_KIND)


async def count_audience(session: AsyncSession, event: Event) -> int:
    """How many members publishing would notify (for the organizer's card)."""
    return await count_members(session, event.organization_id, event.audience, MUTE_TOPIC)


def answered(event: Event) -> Any:
    """Everyone whose answer is in AFFECTED, with their RSVP status (told of a change or a
    cancellation)."""
    return (
        reachable_members()
        .add_columns(Rsvp.status)
        .join(Rsvp, col(Rsvp.member_id) == col(Member.id))
        .where(Rsvp.event_id == event.id, col(Rsvp.status).in_(AFFECTED))
    )


async def notify_member(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    member_id: int,
    kind: str,
    details: dict[str, Any],
    now: datetime,
) -> None:
    """A notice to one member, at once (a seat offered or given, an offer expired); the decision
    is recorded even when they can no longer be told (blocked or gone)."""
    recipient = reachable_members().where(Member.id == member_id)
    recorded = {"member_id": member_id, **details}
    await write_notice(
        session, NOTICES, event, organization, kind, details, recipient, now, recorded=recorded
    )

"""Event notices (published, changed, cancelled, a seat offered, ...): each decision is an
`EventNotice` row, and its outbox rows (kind "event_notice", ref_id = the notice id) are written in
the caller's transaction, so the decision and the messages commit together. Nothing here sends:
the delivery engine renders each row in the member's language and zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import outbox_rows
from bot.services.audience import count_members, reachable_members
from bot.services.events.rules import AFFECTED
from storage.models import Event, EventNotice, Member, Organization, Rsvp

NOTICE_KIND = "event_notice"  # outbox kind of every notice; reminders use "reminder"
MUTE_TOPIC = "events"  # members who muted this interest get no "published" notices


async def count_audience(session: AsyncSession, event: Event) -> int:
    """How many members publishing would notify (for the organizer's card)."""
    return await count_members(session, event.organization_id, event.audience, MUTE_TOPIC)


async def write_notice(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    kind: str,
    details: dict[str, Any],
    now: datetime,
    recipients: Any,
    *,
    urgent_from: datetime | None = None,
    recorded: dict[str, Any] | None = None,
) -> int:
    """The notice (its row records `recorded`, by default `details`) and one outbox row for each
    of `recipients` (see `outbox_rows.write_notice`: a query of member id, chat id, language, zone,
    and optionally their RSVP status; each row waits for its member's morning at night, unless that
    is at or after `urgent_from`). Returns how many members are told."""
    notice = EventNotice(
        event_id=event.id or 0, kind=kind, details=details if recorded is None else recorded, created_at=now
    )
    return await outbox_rows.write_notice(
        session,
        notice,
        NOTICE_KIND,
        "event_id",
        event,
        organization,
        recipients,
        details,
        now,
        urgent_from=urgent_from,
    )


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
    recipients = reachable_members().where(Member.id == member_id)
    recorded = {"member_id": member_id, **details}
    await write_notice(session, event, organization, kind, details, now, recipients, recorded=recorded)

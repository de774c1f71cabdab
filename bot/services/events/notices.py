"""Event notices (published, changed, cancelled, a seat offered, ...): each decision is an
`EventNotice` row, and its outbox rows (kind "event_notice", ref_id = the notice id) are written in
the caller's transaction, so the decision and the messages commit together. Nothing here sends:
the delivery engine renders each row in the member's language and zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import audience_filter, count_members, member_pages
from bot.services.events.rules import AFFECTED, version_for
from bot.services.schedule_math import after_quiet_hours
from storage.models import (
    DeliveryStatus,
    Event,
    EventNotice,
    Member,
    Membership,
    MemberStatus,
    Organization,
    OutboxMessage,
    Rsvp,
)

NOTICE_KIND = "event_notice"  # outbox kind of every notice; reminders use "reminder"
MUTE_TOPIC = "events"  # members who muted this interest get no "published" notices


def notice_time(now: datetime, zone: str, organization: Organization, starts_at: datetime) -> datetime:
    """When a notice to a group of members may reach one of them: inside their quiet hours it waits
    for their morning, unless that morning is at or after the event's start (better now than
    never). One rule for "published", "changed" and "cancelled", so a change never overtakes the
    announcement it changes."""
    not_before = after_quiet_hours(now, zone, organization.quiet_start, organization.quiet_end)
    return now if not_before >= starts_at else not_before


def members_query(organization_id: int, audience: dict[str, Any]) -> Any:
    return (
        select(Member.id, Member.telegram_id, Member.language, Member.timezone)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(audience_filter(organization_id, audience, MUTE_TOPIC))
    )


async def count_audience(session: AsyncSession, event: Event) -> int:
    """How many members publishing would notify (for the organizer's card)."""
    return await count_members(session, event.organization_id, event.audience, MUTE_TOPIC)


def outbox_row(
    notice_id: int,
    recipient: Any,
    event: Event,
    organization: Organization,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> dict[str, Any]:
    """`recipient` is (member id, chat id, language, zone); `language` is the member's interface
    language (for the message chrome); the payload carries `version`, the language of the
    title/description they get, and their `timezone`."""
    member_id, chat_id, language, zone = recipient
    return {
        "kind": NOTICE_KIND,
        "ref_id": notice_id,
        "member_id": member_id,
        "chat_id": chat_id,
        "language": language or organization.default_language,
        "payload": {
            "event_id": event.id,
            **payload,
            "version": version_for(event, language, organization.default_language),
            "timezone": zone or organization.timezone,
        },
        "status": DeliveryStatus.PENDING,
        "not_before": not_before,
        "attempts": 0,
        "created_at": now,
    }


async def insert_outbox(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(insert(OutboxMessage), rows)


async def new_notice(
    session: AsyncSession, event_id: int, kind: str, details: dict[str, Any], now: datetime
) -> int:
    notice = EventNotice(event_id=event_id, kind=kind, details=details, created_at=now)
    session.add(notice)
    await session.flush()
    assert notice.id is not None
    return notice.id


def recipient_query() -> Any:
    return select(Member.id, Member.telegram_id, Member.language, Member.timezone).where(
        Member.status == MemberStatus.ACTIVE,
        col(Member.consent_at).is_not(None),
        col(Member.telegram_id).is_not(None),
    )


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
    of `recipients` (a query of member id, chat id, language, zone, and optionally their RSVP
    status, carried as "rsvp"). Each row waits for its member's morning at night, unless that is at
    or after `urgent_from` (see `notice_time`); without `urgent_from` it goes now. Returns how many
    members are told."""
    notice_id = await new_notice(session, event.id or 0, kind, details if recorded is None else recorded, now)
    total = 0
    async for page in member_pages(session, recipients):
        rows = []
        for row in page:
            payload = {"notice": kind, **({"rsvp": str(row[4])} if len(row) > 4 else {}), **details}
            zone = row[3] or organization.timezone
            not_before = now if urgent_from is None else notice_time(now, zone, organization, urgent_from)
            rows.append(outbox_row(notice_id, row[:4], event, organization, payload, not_before, now))
        await insert_outbox(session, rows)
        total += len(rows)
    return total


def answered(event: Event) -> Any:
    """Everyone whose answer is in AFFECTED, with their RSVP status (told of a change or a
    cancellation)."""
    return (
        recipient_query()
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
    recipients = recipient_query().where(Member.id == member_id)
    recorded = {"member_id": member_id, **details}
    await write_notice(session, event, organization, kind, details, now, recipients, recorded=recorded)


async def cancel_outbox(session: AsyncSession, *conditions: Any) -> int:
    result = await (await session.connection()).execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.PENDING, *conditions)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

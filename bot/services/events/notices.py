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
    *,
    kind: str,
    ref_id: int,
    recipient: Any,
    event: Event,
    organization: Organization,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> dict[str, Any]:
    """`language` is the member's interface language (for the message chrome); the payload
    carries `version`, the language of the title/description they get, and their `timezone`."""
    member_id, chat_id, language, zone = recipient
    return {
        "kind": kind,
        "ref_id": ref_id,
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


async def notify_answered(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    kind: str,
    details: dict[str, Any],
    now: datetime,
) -> int:
    """A notice to everyone whose answer is in AFFECTED, each with their RSVP status."""
    notice_id = await new_notice(session, event.id or 0, kind, details, now)
    query = (
        recipient_query()
        .add_columns(Rsvp.status)
        .join(Rsvp, col(Rsvp.member_id) == col(Member.id))
        .where(Rsvp.event_id == event.id, col(Rsvp.status).in_(AFFECTED))
    )
    total = 0
    async for page in member_pages(session, query):
        rows = [
            outbox_row(
                kind=NOTICE_KIND,
                ref_id=notice_id,
                recipient=row[:4],
                event=event,
                organization=organization,
                payload={"notice": kind, "rsvp": str(row[4]), **details},
                not_before=now,
                now=now,
            )
            for row in page
        ]
        await insert_outbox(session, rows)
        total += len(rows)
    return total


async def notify_member(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    member_id: int,
    kind: str,
    details: dict[str, Any],
    now: datetime,
) -> None:
    notice_id = await new_notice(session, event.id or 0, kind, {"member_id": member_id, **details}, now)
    recipient = (await session.exec(recipient_query().where(Member.id == member_id))).first()
    if recipient is None:  # blocked or gone: the decision is recorded, there is no one to tell
        return
    row = outbox_row(
        kind=NOTICE_KIND,
        ref_id=notice_id,
        recipient=recipient,
        event=event,
        organization=organization,
        payload={"notice": kind, **details},
        not_before=now,
        now=now,
    )
    await insert_outbox(session, [row])


async def cancel_outbox(session: AsyncSession, *conditions: Any) -> int:
    result = await (await session.connection()).execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.PENDING, *conditions)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

"""Sending announcements: audiences, each member's version, scheduling and the hand-over to the
outbox.

Nothing here sends: `enqueue_announcement` claims the announcement (once: a second Send tap, or the
scheduler's tick racing a tap, finds it claimed) and writes one outbox row per recipient in the
caller's transaction (the decision to send and the rows commit together); `bot.delivery` drains them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.announcements.status import CREATING
from bot.services.audience import audience_members, count_members
from bot.services.outbox_rows import pending_row, speaker, write_rows
from bot.services.refusal import Refusal
from bot.services.schedule_math import after_quiet_hours, next_local_time, parse_clock
from bot.services.versions import version_for
from storage.models import (
    Announcement,
    AnnouncementStatus,
    DeliveryStatus,
    Organization,
    OutboxMessage,
)
from storage.types import utcnow

KIND = "announcement"


class AnnouncementError(Refusal):
    """`reason`: "not_editable", "empty_audience", "not_found"."""


async def count_audience(session: AsyncSession, announcement: Announcement) -> int:
    return await count_members(
        session, announcement.organization_id, announcement.audience, announcement.category
    )


def text_for(announcement: Announcement, language: str) -> str:
    if language == announcement.language:
        return announcement.text
    return announcement.translations.get(language, announcement.text)


async def _claim(session: AsyncSession, announcement: Announcement, to: AnnouncementStatus) -> bool:
    """Move a draft or scheduled announcement to `to` in one conditional update: of two
    transactions claiming the same row, the second finds it claimed (PostgreSQL re-reads the row
    after the first commits; SQLite serializes writers) instead of queuing a second copy."""
    result = await (await session.connection()).execute(
        update(Announcement)
        .where(
            col(Announcement.id) == announcement.id,
            col(Announcement.status).in_([AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED]),
        )
        .values(status=to)
    )
    return int(result.rowcount or 0) == 1


async def enqueue_announcement(
    session: AsyncSession,
    announcement: Announcement,
    organization: Organization,
    now: datetime | None = None,
    *,
    tell_sender: bool = False,
) -> int:
    """Claim the announcement and write the outbox rows for every recipient; mark it as sending.
    With `tell_sender`, the caller also claims the status message (`status.CREATING`) and sends it.

    Idempotent: a row per chat is unique, so re-running after a crash adds only the missing ones.
    """
    previous = announcement.status
    if previous not in (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED):
        raise AnnouncementError("not_editable")
    await session.flush()  # the caller's last changes (the local time) go with the claim
    if not await _claim(session, announcement, AnnouncementStatus.SENDING):
        raise AnnouncementError("not_editable")
    now = now or utcnow()
    start = max(now, announcement.scheduled_at or now)
    local_minutes = parse_clock(announcement.local_time) if announcement.local_time else None
    default_language = organization.default_language
    speaks_for = speaker(announcement.organization_id, announcement.audience)

    def row_for(recipient: Any) -> dict[str, Any]:
        member_id, chat_id, language, zone = recipient
        zone = zone or organization.timezone
        if local_minutes is not None:
            not_before = next_local_time(start, zone, local_minutes)
        elif announcement.urgent:
            not_before = start
        else:
            not_before = after_quiet_hours(start, zone, organization.quiet_start, organization.quiet_end)
        to = (member_id, chat_id, version_for(announcement, language, default_language))
        return pending_row(KIND, announcement.id, to, {}, not_before, now, organization_id=speaks_for)

    audience = audience_members(announcement.organization_id, announcement.audience, announcement.category)
    total = await write_rows(session, audience, row_for)
    if total == 0:
        await (await session.connection()).execute(
            update(Announcement).where(col(Announcement.id) == announcement.id).values(status=previous)
        )
        raise AnnouncementError("empty_audience")
    announcement.status = AnnouncementStatus.SENDING
    announcement.recipients = total
    announcement.started_at = now
    if tell_sender:
        announcement.status_message_id = CREATING
    session.add(announcement)
    audit.record(
        session,
        "broadcast.announcement",
        actor_telegram_id=announcement.author_chat_id or None,
        organization_id=announcement.organization_id,
        details={"announcement_id": announcement.id, "recipients": total},
    )
    await session.flush()
    return total


async def schedule(session: AsyncSession, announcement: Announcement, at: datetime) -> None:
    if announcement.status not in (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED):
        raise AnnouncementError("not_editable")
    announcement.status = AnnouncementStatus.SCHEDULED
    announcement.scheduled_at = at
    session.add(announcement)
    await session.flush()


async def cancel(session: AsyncSession, announcement: Announcement) -> int:
    """Cancel a draft or scheduled announcement, or the rest of one being sent. Returns how many
    messages will not go out."""
    if announcement.status in (AnnouncementStatus.SENT, AnnouncementStatus.CANCELLED):
        raise AnnouncementError("not_editable")
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.kind) == KIND,
            col(OutboxMessage.ref_id) == announcement.id,
            col(OutboxMessage.status) == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED)
    )  # type: ignore[call-overload]
    announcement.status = AnnouncementStatus.CANCELLED
    announcement.finished_at = utcnow()
    session.add(announcement)
    await session.flush()
    return int(result.rowcount or 0)


async def due_scheduled(session: AsyncSession, now: datetime) -> list[Announcement]:
    """Scheduled announcements whose time has come; rows another process is releasing right now are
    skipped (PostgreSQL's SKIP LOCKED), not waited for."""
    result = await session.exec(
        select(Announcement)
        .where(Announcement.status == AnnouncementStatus.SCHEDULED, col(Announcement.scheduled_at) <= now)
        .with_for_update(skip_locked=True)
    )
    return list(result.all())


async def delivery_counts(session: AsyncSession, announcement_id: int) -> dict[DeliveryStatus, int]:
    result = await session.exec(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.kind == KIND, OutboxMessage.ref_id == announcement_id)
        .group_by(OutboxMessage.status)
    )
    return {DeliveryStatus(status): int(count) for status, count in result.all()}

"""An announcement before it goes out: the draft written from the organizer's message, its
translations, audience, topic and urgency, and the organization's scheduled or running ones."""

from __future__ import annotations

from typing import Any, Final

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Announcement, AnnouncementStatus

EDITABLE: Final = (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED)
LISTED: Final = 20


async def create_draft(session: AsyncSession, **columns: Any) -> Announcement:
    """A draft from the organizer's message: `columns` are the announcement's (organization,
    author, their chat, language and zone, the text as Telegram HTML, the media); the text is in
    the author's language."""
    announcement = Announcement(**columns, language=columns["author_language"])
    session.add(announcement)
    await session.flush()
    return announcement


async def delete_draft(session: AsyncSession, announcement: Announcement) -> None:
    """A draft simply goes: nobody saw it, nothing was queued."""
    await session.delete(announcement)
    await session.flush()


async def _save(session: AsyncSession, announcement: Announcement) -> None:
    session.add(announcement)
    await session.flush()


async def set_text(session: AsyncSession, announcement: Announcement, text: str) -> None:
    announcement.text = text
    await _save(session, announcement)


async def set_translation(
    session: AsyncSession, announcement: Announcement, language: str, text: str
) -> None:
    announcement.translations = {**announcement.translations, language: text}
    await _save(session, announcement)


async def set_audience(session: AsyncSession, announcement: Announcement, audience: dict[str, Any]) -> None:
    """The audience filter; empty lists and an empty city are dropped (nothing ticked: everyone)."""
    announcement.audience = {key: value for key, value in audience.items() if value}
    await _save(session, announcement)


async def set_category(session: AsyncSession, announcement: Announcement, category: str | None) -> None:
    announcement.category = category
    await _save(session, announcement)


async def set_urgent(session: AsyncSession, announcement: Announcement, urgent: bool) -> None:
    announcement.urgent = urgent
    await _save(session, announcement)


async def set_local_time(session: AsyncSession, announcement: Announcement, clock: str) -> None:
    announcement.local_time = clock
    await _save(session, announcement)


async def scheduled_or_sending(session: AsyncSession, organization_id: int) -> list[Announcement]:
    """The organization's scheduled and running announcements, oldest first (at most 20)."""
    result = await session.exec(
        select(Announcement)
        .where(
            Announcement.organization_id == organization_id,
            col(Announcement.status).in_([AnnouncementStatus.SCHEDULED, AnnouncementStatus.SENDING]),
        )
        .order_by(col(Announcement.id))
        .limit(LISTED)
    )
    return list(result.all())

"""The daily retention job (`RETENTION_DAYS`): one pass of `services.retention` in its own
transaction, logged with its count."""

from __future__ import annotations

import logging
from collections.abc import Collection

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logs import log_event
from bot.services.retention import anonymize_expired
from storage.types import utcnow

log = logging.getLogger(__name__)
RETENTION_CHECK_SECONDS = 24 * 3600  # once a day (and a few minutes after each start)
FIRST_CHECK_SECONDS = 300


async def run_retention(sessions: async_sessionmaker[AsyncSession], days: int, keep: Collection[int]) -> None:
    """Scheduler job: anonymize the members whose period has passed (the super-admins kept)."""
    async with sessions() as session:
        count = await anonymize_expired(session, utcnow(), days, keep)
        await session.commit()
    log_event(log, "retention", count=count, days=days)

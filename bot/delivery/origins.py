"""The organization's name each message the delivery engine composes starts with (announcements,
notices, reminders, invitations, polls), read once for the messages of a batch (`bot.services.origins`
decides whether names are shown at all)."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.origins import origin_name

_CACHE_SECONDS = 5.0  # a renamed organization shows its new name this much later


class Origins:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._cache: dict[tuple[int, str], tuple[float, str | None]] = {}

    async def name(self, organization_id: int, locale: str) -> str | None:
        """The organization's name in `locale`, or None when the deployment does not show names."""
        key = (organization_id, locale)
        cached = self._cache.get(key)
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        async with self.sessions() as session:
            name = await origin_name(session, organization_id, locale)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[key] = (time.monotonic(), name)
        return name

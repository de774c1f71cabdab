"""The organization's name each message the delivery engine composes starts with (announcements,
notices, reminders, invitations, polls), read once for the messages of a batch (`bot.services.origins`
decides whether names are shown at all)."""

from __future__ import annotations

import time
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Claimed
from bot.services.origins import origin_name

_CACHE_SECONDS = 5.0  # a renamed organization shows its new name this much later


class Subject(Protocol):
    """What a notice or reminder is about (an event, a training)."""

    organization_id: int
    language: str
    timezone: str


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

    async def reading(self, row: Claimed, subject: Subject) -> tuple[str, str, str, str | None]:
        """How the member reads a notice or reminder about `subject`: the language version of its
        texts, their zone, their interface language, and its organization's name (or None)."""
        payload: dict[str, Any] = row.payload
        version = payload.get("version") or subject.language
        zone = payload.get("timezone") or subject.timezone
        return version, zone, row.language, await self.name(subject.organization_id, row.language)

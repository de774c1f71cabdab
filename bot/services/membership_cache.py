"""A member's memberships (organization, role, whether it is archived), read once and kept until
any of them changes: who a person acts for, their roles in menus and every rights check ask on
every update (issue 15: one statement of every update).

One cache per engine (`watch`, `memberships`), emptied by any INSERT, UPDATE or DELETE on the
memberships or organizations tables through that engine and again when that transaction ends
(`bot.services.organization_cache.watch_tables`); another process's change (several webhook
processes) is seen within `ttl` seconds, as the organization cache's. Long polling has one process
handle every update (Telegram serves `getUpdates` to one poller), so there the entries are kept
longer (`organization_cache.sole_process`, every cache of the update path alike): a member's next
update comes seconds later, past the webhook mode's TTL.
Without a cache (a script, a test's bare engine) every call reads.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.organization_cache import DEFAULT_TTL, WatchedCache, of_session
from storage.models import Membership, Organization, OrgStatus, Role

_CACHES: weakref.WeakKeyDictionary[Engine, MembershipCache] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Held:
    """One membership: the organization, the role held there, and whether it is archived."""

    organization_id: int
    role: Role
    archived: bool


class MembershipCache(WatchedCache):
    def __init__(self, ttl: float = DEFAULT_TTL) -> None:
        super().__init__(ttl)
        self._members: dict[int, tuple[float, tuple[Held, ...]]] = {}

    async def get(self, session: AsyncSession, member_id: int) -> tuple[Held, ...]:
        cached = self._members.get(member_id)
        if cached is not None and self.fresh(cached[0]):
            return cached[1]
        generation = self.generation
        held = await _read(session, member_id)
        if await self.keeps(session, generation):
            self._members[member_id] = (time.monotonic(), held)
        return held

    def invalidate(self) -> None:
        super().invalidate()
        self._members.clear()

    def watch(self, engine: AsyncEngine) -> None:
        """Empty on every write to memberships or organizations through `engine`; the cache of
        `engine`'s sessions from now on."""
        self.watch_tables(engine, [Membership.__table__, Organization.__table__])  # type: ignore[attr-defined]
        _CACHES[engine.sync_engine] = self


async def _read(session: AsyncSession, member_id: int) -> tuple[Held, ...]:
    result = await session.exec(
        select(Membership.organization_id, Membership.role, Organization.status)
        .join(Organization, col(Organization.id) == col(Membership.organization_id))
        .where(Membership.member_id == member_id)
        .order_by(col(Membership.id))
    )
    return tuple(Held(org, Role(role), status == OrgStatus.ARCHIVED) for org, role, status in result.all())


async def memberships(session: AsyncSession, member_id: int) -> tuple[Held, ...]:
    """The member's memberships in the order they joined (archived organizations' included)."""
    cache = of_session(_CACHES, session)
    return await (cache.get(session, member_id) if cache is not None else _read(session, member_id))

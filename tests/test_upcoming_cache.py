"""The first /events page kept while nothing it shows changes (`bot.services.upcoming_cache`): time
alone takes an event off it (changes through the bot: tests/e2e/test_events_page.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as service
from bot.services.organization_cache import sole_process
from bot.services.upcoming_cache import UpcomingCache, expiry
from storage.db import create_session_factory
from tests.test_events import NOW, START, community, published


async def test_a_kept_page_loses_each_event_once_it_is_over(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    """Given a kept first page of six events (the last one off the page) and no write since, an
    event is gone once it has started (no end) or ended, and so is one after the page."""
    UpcomingCache().watch(engine)
    sole_process(engine, 600)
    org, members = await community(session)
    hour = timedelta(hours=1)
    first = await published(session, org, starts_at=START, ends_at=START + 10 * hour)
    second = await published(session, org, starts_at=START + hour)
    rest = [await published(session, org, starts_at=START + (2 + n) * hour) for n in range(4)]
    member = members[1]

    async def page_at(moment: object) -> tuple[list[int], int]:
        async with create_session_factory(engine)() as reading:
            page = await service.upcoming_events(reading, None, member, moment, 0, 5)  # type: ignore[arg-type]
        return [event.id or 0 for event in page.events], page.total

    ids = [first.id, second.id, *(event.id for event in rest)]
    assert await page_at(NOW) == (ids[:5], 6)
    assert await page_at(START + hour / 2) == (ids[:5], 6)  # the first is on (it ends later)
    assert await page_at(START + hour) == ([ids[0], *ids[2:6]], 5)  # the second started
    assert await page_at(START + 4.5 * hour) == ([ids[0], ids[5]], 2)  # and the next ones
    assert await page_at(START + 10 * hour) == ([], 0)  # the first ended, the last started


def test_a_page_holds_until_its_first_event_may_leave_the_list() -> None:
    """`expiry`: the earliest last moment of the listed events, and the last one's start when more
    follow; nothing for an empty page."""

    class Listed:
        def __init__(self, starts: int, ends: int | None = None) -> None:
            self.starts_at = NOW + timedelta(hours=starts)
            self.ends_at = None if ends is None else NOW + timedelta(hours=ends)

    assert expiry([], 0) is None
    assert expiry([Listed(1, 9), Listed(3)], 2) == NOW + timedelta(hours=3)
    assert expiry([Listed(-1, 2), Listed(3)], 2) == NOW + timedelta(hours=2)
    assert expiry([Listed(-1, 9), Listed(-1, 8)], 3) == NOW - timedelta(hours=1)  # never kept

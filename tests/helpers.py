"""Givens shared by the service tests (no Telegram): the organization, jobs run at once in their own
sessions (two taps racing), who a notice reached, and the training most tests are about."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.roles import ensure_default_organization
from bot.services.trainings import SessionInput
from storage.db import create_session_factory
from storage.models import EventNotice, Organization, OutboxMessage, TrainingNotice

Job = Callable[[AsyncSession], Awaitable[Any]]
GUARD = 120.0  # seconds: what a wait for a condition allows before it fails (it never stays that long)


async def until(
    condition: Callable[[], Awaitable[Any]], what: str, every: float = 0.05, guard: float = GUARD
) -> Any:
    """Until `condition()` gives something true (looked at every `every` s); its value. `guard`: a
    guard against a wait that would never end, not a bound on time (a loaded machine is slow)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + guard
    while not (value := await condition()):
        assert loop.time() < deadline, f"{what}: not within {guard:.0f} s"
        await asyncio.sleep(every)
    return value


async def organization(session: AsyncSession, language: str = "en") -> Organization:
    """The default organization, "Diaspora" in Paris, writing `language`."""
    org = await ensure_default_organization(session, "Diaspora", language, "Europe/Paris")
    await session.commit()
    return org


async def concurrently(engine: AsyncEngine, jobs: list[Job], refused: type[Exception]) -> list[Any]:
    """Each job in its own session and transaction, all at once; a `refused` error is rolled back
    and returned in the job's place (the others commit)."""
    sessions = create_session_factory(engine)

    async def run(job: Job) -> Any:
        async with sessions() as session:
            try:
                result = await job(session)
            except refused as error:
                await session.rollback()
                return error
            await session.commit()
            return result

    return await asyncio.gather(*(run(job) for job in jobs))


async def notice_recipients(
    session: AsyncSession,
    notice: type[EventNotice] | type[TrainingNotice],
    outbox_kind: str,
    *where: Any,
) -> list[int]:
    """Member ids with an outbox row (of `outbox_kind`) for the notices `where` selects, in notice
    order (then member order, for a notice told to many)."""
    rows = await session.exec(
        select(OutboxMessage.member_id)
        .join(notice, col(notice.id) == col(OutboxMessage.ref_id))
        .where(OutboxMessage.kind == outbox_kind, *where)
        .order_by(col(notice.id), col(OutboxMessage.member_id))
    )
    return [member_id for member_id in rows.all() if member_id is not None]


def two_sessions(first: datetime) -> list[SessionInput]:
    """Two sessions a week apart: two hours in a room, then an hour and a half online."""
    return [
        SessionInput(first, 120, "Maison des associations", None),
        SessionInput(first + timedelta(days=7), 90, None, "https://meet.example.org/grant"),
    ]


def grant_writing(first: datetime) -> dict[str, Any]:
    """The training most tests use (the rest of its fields are each test's): grant writing, in
    English, taught in French and English by Awa Diop, in two sessions from `first`."""
    return {
        "title": "Grant writing",
        "language": "en",
        "teaching_languages": ["fr", "en"],
        "trainer": "Awa Diop",
        "timezone": "Europe/Paris",
        "sessions": two_sessions(first),
    }

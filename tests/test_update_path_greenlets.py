"""Greenlets and tasks on every update's path (issue 15), on SQLite and PostgreSQL: each SQLAlchemy
async call (a statement, a commit, a close, a merge) is a greenlet spawned and switched to, and
SQLAlchemy closes a session in a task of its own. Counted, not timed: the inbox's claim
transaction is one greenlet whatever it keeps, finishes and claims; a session holding no
connection closes with neither; the cached organization is attached with none."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import concurrency
from sqlmodel import col, select

from bot.services.organization_cache import OrganizationCache
from bot.services.roles import ensure_default_organization
from bot.web import inbox, mark_batches
from storage.db import create_session_factory
from storage.models import InboxStatus, InboxUpdate, Organization
from storage.types import utcnow


@contextmanager
def counted() -> Iterator[Counter[str]]:
    """Greenlets SQLAlchemy spawns (`greenlet_spawn`) and tasks created, while in the block."""
    counts: Counter[str] = Counter()
    greenlet = concurrency._concurrency_shim._AsyncIoGreenlet
    loop = asyncio.get_running_loop()
    spawn, create_task = greenlet.__init__, loop.create_task

    def spawned(self: Any, *args: Any, **kwargs: Any) -> None:
        counts["greenlets"] += 1
        spawn(self, *args, **kwargs)

    def created(*args: Any, **kwargs: Any) -> asyncio.Task[Any]:
        counts["tasks"] += 1
        return create_task(*args, **kwargs)

    greenlet.__init__ = spawned
    loop.create_task = created  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        greenlet.__init__ = spawn
        del loop.create_task


async def an_organization(engine: AsyncEngine) -> Organization:
    async with create_session_factory(engine)() as session:
        organization = await ensure_default_organization(session, "Bridge", "en", "UTC")
        await session.commit()
    return organization


def message(update_id: int, chat_id: int) -> inbox.Received:
    return inbox.describe(
        {"update_id": update_id, "message": {"message_id": 1, "chat": {"id": chat_id}, "text": "hi"}}
    )


async def test_a_claim_transaction_is_one_greenlet(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        await inbox.store_all(session, [message(1, 1), message(2, 2)], utcnow())
        await session.commit()
        assert [item.update_id for item in await inbox.claim(session, "w", 10, utcnow())] == [1, 2]
    with counted() as counts:  # the long-polling store: keep a batch, finish what was handled, claim
        async with sessions() as session:
            claimed = await inbox.claim(
                session, "w", 10, utcnow(), finished=[1], stored=[message(3, 1), message(4, 3)]
            )
    assert [item.update_id for item in claimed] == [3, 4]  # chat 1 free again: its update 1 is done
    assert counts == {"greenlets": 1}  # was 7: the connection, each statement, the commit, the close
    with counted() as counts:  # the claim loop's round: finish, claim
        async with sessions() as session:
            assert await inbox.claim(session, "w", 10, utcnow(), finished=[2]) == []
    assert counts == {"greenlets": 1}  # was 4
    async with sessions() as session:
        rows = (await session.exec(select(InboxUpdate.update_id, InboxUpdate.status))).all()
    assert sorted(rows) == [
        (1, InboxStatus.DONE),
        (2, InboxStatus.DONE),
        (3, InboxStatus.CLAIMED),
        (4, InboxStatus.CLAIMED),
    ]


async def test_a_look_that_finds_nothing_keeps_nothing(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        assert await inbox.claim(session, "w", 10, utcnow(), look_first=True) == []
        await inbox.store_all(session, [message(1, 1)], utcnow())
        await session.commit()
    async with sessions() as session:  # a stored batch is kept even when looking first
        claimed = await inbox.claim(session, "w", 0, utcnow(), look_first=True, stored=[message(2, 2)])
        assert claimed == []
    async with sessions() as session:
        claimed = await inbox.claim(session, "w", 10, utcnow(), look_first=True)
    assert [item.update_id for item in claimed] == [1, 2]


@pytest.mark.parametrize("begun", [False, True])
async def test_a_session_holding_no_connection_closes_with_no_task_nor_greenlet(
    engine: AsyncEngine, begun: bool
) -> None:
    sessions = create_session_factory(engine)
    organization = await an_organization(engine)
    with counted() as counts:
        async with sessions() as session:
            if begun:  # `add` begins a transaction that holds no connection (the caches' rows)
                session.add(organization)
                assert session.in_transaction()
    assert counts == {}  # was a greenlet, and a task too for a transaction begun so
    assert not session.in_transaction() and organization not in session
    with counted() as counts:
        async with sessions() as session:
            await session.exec(select(Organization))
    assert counts == {"tasks": 1, "greenlets": 2}  # the read; holding a connection, closed as ever


async def test_the_cached_organization_is_attached_with_no_greenlet_and_apart(engine: AsyncEngine) -> None:
    cache = OrganizationCache(ttl=60)
    cache.watch(engine)
    sessions = create_session_factory(engine)
    organization_id = (await an_organization(engine)).id or 0
    async with sessions() as session:
        assert await cache.get(session, organization_id) is not None  # read and kept
    async with sessions() as session:
        with counted() as counts:
            first = await cache.get(session, organization_id)
        assert counts == {}  # was a greenlet (`merge`)
        assert first is not None and first in session and not session.dirty
        assert await cache.get(session, organization_id) is first  # the session's own, once
        first.countries.append("DE")  # changed in place: the cached copy is not
    async with sessions() as session:
        second = await cache.get(session, organization_id)
        assert second is not None and second is not first and second.countries == []
        second.name = "Renamed"  # changed and saved as a row read from the database
        await session.commit()
    async with sessions() as session:
        third = await cache.get(session, organization_id)
        assert third is not None and third.name == "Renamed"


async def test_a_batch_of_handled_marks_is_one_greenlet(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        await inbox.store_all(session, [message(1, 1), message(2, 2)], utcnow())
        await session.commit()
        assert len(await inbox.claim(session, "w", 10, utcnow())) == 2
    async with engine.connect() as connection:
        with counted() as counts:  # the statement and its commit
            assert await mark_batches.mark_many(connection, "w", [1, 2, 3], utcnow()) == {1, 2}
        assert counts == {"greenlets": 1}  # was 2
    async with sessions() as session:
        marked = select(InboxUpdate.update_id).where(col(InboxUpdate.handled_at).is_not(None))
        assert sorted((await session.exec(marked)).all()) == [1, 2]

"""What the update path reads less of and waits less for (issue 15): the organization and
membership caches (read once, read again after any write to them, a handler's own copy), a commit only when something was
written, and on SQLite the process's writers taking turns (in order, none lost, a writer waiting
behind its own task's open write fails as SQLite would rather than hang)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, exc, update
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.db
from bot.policy import holds_role_anywhere, role_in
from bot.services.membership_cache import MembershipCache
from bot.services.organization_cache import OrganizationCache
from bot.services.organizations import set_quiet_hours
from bot.services.roles import Actor, ensure_default_organization
from storage.db import commit_due, create_engine, create_session_factory
from storage.models import Member, Membership, MemberStatus, Organization, OrgStatus, Role


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_the_organization_is_read_once_and_again_after_any_write(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    cache = OrganizationCache(ttl=3600)
    cache.watch(engine)
    async with sessions() as session:
        organization_id = (await ensure_default_organization(session, "Bridge", "en", "UTC")).id or 0
        await session.commit()
    async with sessions() as session:
        assert (await cache.get(session, organization_id)) is not None
    with statements(engine) as seen:
        async with sessions() as session:
            mine = await cache.get(session, organization_id)
            assert mine is not None and mine.name == "Bridge" and mine in session
            mine.name = "Changed in my update only"  # not written: nobody else sees it
            async with sessions() as other:
                theirs = await cache.get(other, organization_id)
                assert theirs is not None and theirs.name == "Bridge"
    assert seen == []

    async with sessions() as session:  # a service's change, committed: read again
        await set_quiet_hours(session, Actor(1, True), organization_id, 60, 120)
        await session.commit()
    async with sessions() as session:
        fresh = await cache.get(session, organization_id)
        assert fresh is not None and (fresh.quiet_start, fresh.quiet_end) == (60, 120)

    async with sessions() as session:  # a bulk UPDATE, rolled back: the cache never keeps it
        await session.exec(update(Organization).values(name="Never"))  # type: ignore[call-overload]
        async with sessions() as other:
            seen_meanwhile = await cache.get(other, organization_id)
            assert seen_meanwhile is not None and seen_meanwhile.name == "Bridge"
        await session.rollback()
    async with sessions() as session:
        again = await cache.get(session, organization_id)
        assert again is not None and again.name == "Bridge"

    cache.ttl = 0  # another process's change: seen once the entry is older than the TTL
    with statements(engine) as seen:
        async with sessions() as session:
            await cache.get(session, organization_id)
    assert len(seen) == 1


async def test_a_commit_is_due_only_when_something_was_written(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        assert not await commit_due(session)
        await session.get(Member, 1)
        assert not await commit_due(session)  # a read
        session.add(Member(telegram_id=5))
        assert await commit_due(session)  # a change not flushed yet
        await session.flush()
        assert await commit_due(session)  # written
        await session.commit()
        assert not await commit_due(session)


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.db, "BUSY_SECONDS", 2.0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sqlite_writers_of_the_process_take_turns(migrated_url: str, impatient: None) -> None:
    engine = create_engine(migrated_url)
    sessions = create_session_factory(engine)
    order: list[str] = []

    async def writer(name: str, hold: float) -> None:
        async with sessions() as session:
            session.add(Member(telegram_id=hash(name) % 10**9))
            await session.flush()  # the first write: this writer's turn starts
            order.append(f"{name} writes")
            await asyncio.sleep(hold)  # holding the turn (the others wait without sleeping)
            order.append(f"{name} commits")
            await session.commit()  # the turn passes on

    try:
        await asyncio.gather(*(writer(f"w{n}", 0.1) for n in range(4)))
        turns = [order[index : index + 2] for index in range(0, len(order), 2)]
        assert all(first.split()[0] == then.split()[0] for first, then in turns), order
        assert len({first.split()[0] for first, _ in turns}) == 4

        # One task writing in two sessions at once waits for itself: it fails, as SQLite's own
        # busy handler would have it, instead of hanging.
        async with sessions() as outer, sessions() as inner:
            outer.add(Member(telegram_id=1))
            await outer.flush()
            inner.add(Member(telegram_id=2))
            with pytest.raises(exc.OperationalError, match="database is locked"):
                await inner.flush()
    finally:
        await engine.dispose()


async def test_memberships_are_read_once_and_again_after_any_write(engine: AsyncEngine) -> None:
    """Who one acts for and what rights one holds come from the membership cache: read once per
    member, read again after a role changes (committed), never a change another update has not
    committed yet, and another process's change once the entry is older than the TTL."""
    sessions = create_session_factory(engine)
    MembershipCache(ttl=3600).watch(engine)
    async with sessions() as session:
        organization = await ensure_default_organization(session, "Bridge", "en", "UTC")
        member = Member(telegram_id=77, status=MemberStatus.ACTIVE)
        session.add(member)
        await session.flush()
        session.add(Membership(organization_id=organization.id or 0, member_id=member.id or 0))
        await session.commit()
    organization_id = organization.id or 0
    async with sessions() as session:
        assert await role_in(session, member, organization_id) == Role.MEMBER
    with statements(engine) as seen:
        async with sessions() as session:
            assert await role_in(session, member, organization_id) == Role.MEMBER
            assert not await holds_role_anywhere(session, member, frozenset({Role.ORGANIZER}))
    assert seen == []

    async with sessions() as session:  # promoted, not committed yet: nobody sees it meanwhile
        await session.exec(update(Membership).values(role=Role.ORGANIZER))  # type: ignore[call-overload]
        assert await role_in(session, member, organization_id) == Role.ORGANIZER  # its own write
        async with sessions() as other:
            assert await role_in(other, member, organization_id) == Role.MEMBER
        await session.commit()
    async with sessions() as session:
        assert await role_in(session, member, organization_id) == Role.ORGANIZER
        assert await holds_role_anywhere(session, member, frozenset({Role.ORGANIZER}))

    async with sessions() as session:  # the organization archived, rolled back: kept as it was
        await session.exec(update(Organization).values(status=OrgStatus.ARCHIVED))  # type: ignore[call-overload]
        assert not await holds_role_anywhere(session, member, frozenset({Role.ORGANIZER}))
        await session.rollback()
    async with sessions() as session:
        assert await holds_role_anywhere(session, member, frozenset({Role.ORGANIZER}))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_postgresql_pings_only_a_connection_left_idle(migrated_url: str) -> None:
    """A connection back from an update a moment ago is used as it is (no round trip per
    checkout); one left idle is pinged first, and replaced when the server dropped it."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL
    from tests.postgres import run_on_server

    engine = create_engine(migrated_url)
    sessions = create_session_factory(engine)
    pings: list[int] = []
    dialect = engine.sync_engine.dialect
    real_ping = dialect.do_ping

    def counted_ping(connection: object) -> bool:
        pings.append(1)
        return real_ping(connection)  # type: ignore[arg-type]

    dialect.do_ping = counted_ping  # type: ignore[method-assign]
    try:
        for _ in range(3):
            async with sessions() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        assert len(pings) == 1  # the new connection only
        name = make_url(migrated_url).database
        await run_on_server(
            PG_URL, f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        )
        await asyncio.sleep(1.1)
        async with sessions() as session:
            assert (await session.exec(text("SELECT 42"))).one() == (42,)  # type: ignore[call-overload]
        assert len(pings) >= 2
    finally:
        await engine.dispose()


async def test_a_sole_process_reads_a_dialog_state_once(engine: AsyncEngine) -> None:
    """Long polling (one process): a chat's dialog state as last committed is kept, a write is
    seen once committed, and a write rolled back never is."""
    from aiogram.fsm.storage.base import StorageKey

    from storage.db import current_session
    from storage.fsm import SQLStorage

    storage = SQLStorage(engine)
    storage.sole_process()
    sessions = create_session_factory(engine)
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)

    async def in_unit_of_work(work: Any, *, commit: bool = True) -> Any:
        async with sessions() as session:
            token = current_session.set(session)
            try:
                result = await work()
                await (session.commit() if commit else session.rollback())
                return result
            finally:
                current_session.reset(token)

    assert await in_unit_of_work(lambda: storage.get_state(key)) is None
    with statements(engine) as seen:
        assert await in_unit_of_work(lambda: storage.get_state(key)) is None
    assert seen == []
    await in_unit_of_work(lambda: storage.set_state(key, "Dialog:step"))
    assert await in_unit_of_work(lambda: storage.get_state(key)) == "Dialog:step"
    await in_unit_of_work(lambda: storage.set_state(key, "Dialog:never"), commit=False)
    with statements(engine) as seen:
        assert await in_unit_of_work(lambda: storage.get_state(key)) == "Dialog:step"
    assert len(seen) == 1  # forgotten at the write, read again


async def test_a_session_gives_its_connection_back_however_it_ends(engine: AsyncEngine) -> None:
    """A session leaving `async with` gives its connection back: committed (closed right there,
    without a task of its own), left in a transaction, or cancelled while it waits on the database
    (then SQLAlchemy's shielded close finishes the job)."""
    from sqlalchemy import text

    sessions = create_session_factory(engine)
    pool = engine.sync_engine.pool

    async with sessions() as session:
        await session.exec(update(Member).values(status=MemberStatus.ACTIVE))  # type: ignore[call-overload]
        await session.commit()
        assert not session.in_transaction()
    assert pool.checkedout() == 0  # type: ignore[attr-defined]

    async with sessions() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        assert session.in_transaction()
    assert pool.checkedout() == 0  # type: ignore[attr-defined]

    started = asyncio.Event()

    async def cut() -> None:
        async with sessions() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            started.set()
            await asyncio.sleep(10)

    task = asyncio.create_task(cut())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.checkedout() == 0  # type: ignore[attr-defined]

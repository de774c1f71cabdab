"""The webhook inbox on SQLite and PostgreSQL: an update stored once per update_id, a chat's
updates claimed one at a time and in order (also by workers claiming at once), dead claims
finished or handed back by the lease."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.config import load_settings
from bot.web import inbox
from bot.web.inbox_worker import InboxWorker
from storage.db import create_session_factory
from storage.models import InboxStatus, InboxUpdate
from storage.types import utcnow
from tests.helpers import until


def message(update_id: int, chat_id: int) -> inbox.Received:
    return inbox.describe(
        {"update_id": update_id, "message": {"message_id": 1, "chat": {"id": chat_id}, "text": "hi"}}
    )


def test_describe_keys_updates_by_their_chat() -> None:
    assert message(1, 42).chat_key == "c42"
    press = {
        "update_id": 2,
        "callback_query": {"id": "q", "from": {"id": 7}, "message": {"chat": {"id": -100}}},
    }
    assert inbox.describe(press).chat_key == "c-100"
    vote = {"update_id": 3, "poll_answer": {"poll_id": "p", "user": {"id": 7}, "option_ids": [0]}}
    assert inbox.describe(vote).chat_key == "c7"  # queues with the member's private chat
    counts = {"update_id": 4, "poll": {"id": "p", "question": "?"}}
    assert inbox.describe(counts).chat_key == "u4"
    for bad in ({}, {"update_id": "1", "message": {}}, {"update_id": 5}):
        try:
            inbox.describe(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


async def test_an_update_is_stored_once_and_a_chat_is_handled_in_order(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        for update_id, chat in ((10, 1), (11, 1), (12, 2), (13, 1)):
            assert await inbox.store(session, message(update_id, chat), utcnow())
        assert not await inbox.store(session, message(10, 1), utcnow())
        await session.commit()
        first = await inbox.claim(session, "w1", 10, utcnow())
        assert [item.update_id for item in first] == [10, 12]
        assert await inbox.claim(session, "w2", 10, utcnow()) == []  # both chats busy
        await inbox.finish(session, 10, "w1", InboxStatus.DONE, utcnow())
        assert [item.update_id for item in await inbox.claim(session, "w2", 10, utcnow())] == [11]
        assert await inbox.depth(session) == {"pending": 1, "claimed": 2}


async def test_workers_claiming_at_once_never_take_two_updates_of_one_chat(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        for update_id in range(1, 121):
            await inbox.store(session, message(update_id, update_id % 6), utcnow())
        await session.commit()
    handled: list[int] = []
    busy: set[str] = set()

    async def work(worker: str) -> None:
        while True:
            async with sessions() as session:
                claimed = await inbox.claim(session, worker, 3, utcnow())
            if not claimed:
                async with sessions() as session:
                    if (await inbox.depth(session))["pending"] == 0:
                        return
                await asyncio.sleep(0.01)
                continue
            for item in claimed:
                key = f"c{item.update_id % 6}"
                assert key not in busy, f"two updates of chat {key} at once"
                busy.add(key)
            await asyncio.sleep(0.005)
            for item in claimed:
                busy.discard(f"c{item.update_id % 6}")
                handled.append(item.update_id)
                async with sessions() as session:
                    await inbox.finish(session, item.update_id, worker, InboxStatus.DONE, utcnow())

    await asyncio.gather(*(work(f"w{n}") for n in range(3)))
    assert sorted(handled) == list(range(1, 121))
    for chat in range(6):
        ordered = [update_id for update_id in handled if update_id % 6 == chat]
        assert ordered == sorted(ordered), f"chat {chat} out of order"


async def test_the_lease_finishes_handled_claims_and_hands_back_the_others(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    long_ago = utcnow() - timedelta(minutes=5)
    async with sessions() as session:
        await inbox.store(session, message(1, 1), long_ago)
        await inbox.store(session, message(2, 2), long_ago)
        await inbox.store(session, message(3, 3), long_ago)
        await session.commit()
        await inbox.claim(session, "dead", 10, long_ago)
        assert await inbox.holds(session, 1, "dead")
        assert not await inbox.holds(session, 2, "someone-else")
        inbox.mark_handled_on_commit(session, 1, "dead")
        await session.commit()  # the first commit of update 1's unit of work marks it handled
        assert not await inbox.holds(session, 1, "dead")  # once
        await inbox.claim(session, "alive", 10, utcnow())  # nothing: the chats are busy
        assert await inbox.release_stale(session, utcnow(), timedelta(seconds=60)) == 2
        rows = {row.update_id: row for row in (await session.exec(select(InboxUpdate))).all()}
        assert rows[1].status == InboxStatus.DONE
        assert rows[2].status == rows[3].status == InboxStatus.PENDING
        assert await inbox.purge(session, utcnow()) == 1


async def test_a_claim_lost_before_the_first_commit_refuses_that_commit(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    long_ago = utcnow() - timedelta(minutes=5)
    async with sessions() as session:
        await inbox.store(session, message(1, 1), long_ago)
        await session.commit()
        await inbox.claim(session, "slow", 10, long_ago)
        assert await inbox.holds(session, 1, "slow")
        inbox.mark_handled_on_commit(session, 1, "slow")
        async with sessions() as other:  # meanwhile the lease ran out and another worker took it
            await inbox.release_stale(other, utcnow(), timedelta(seconds=60))
            assert [item.update_id for item in await inbox.claim(other, "fast", 10, utcnow())] == [1]
        with pytest.raises(inbox.ClaimLost):
            await session.commit()


def test_webhook_settings() -> None:
    settings = load_settings(bot_token="1:abc", webhook_url="https://bot.example.org/tg/")
    assert settings.webhook_url == "https://bot.example.org/tg"
    derived = settings.webhook_secret_token()
    assert derived == load_settings(bot_token="1:abc").webhook_secret_token() and len(derived) == 64
    assert load_settings(bot_token="1:abc", webhook_secret="a_B-9").webhook_secret_token() == "a_B-9"
    for name, value in (
        ("webhook_secret", "no spaces"),
        ("webhook_listen", "8080"),
        ("redis_url", "localhost"),
    ):
        try:
            load_settings(**{name: value})
        except Exception as error:
            assert name.upper() in str(error)
            continue
        raise AssertionError(f"{name}={value!r} accepted")


def private(update_id: int, chat_id: int) -> inbox.Received:
    """A private message as Telegram sends it (the worker validates it into an aiogram Update)."""
    chat = {"id": chat_id, "type": "private"}
    return inbox.describe(
        {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "chat": chat, "text": "hi"}}
    )


class Recorder:
    """Stands for the Dispatcher: records the updates fed to it, each handled in 20 ms."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.busy: set[int] = set()
        self.peak = 0

    async def feed_update(self, _bot: object, update: object, **_: object) -> None:
        update_id, chat = update.update_id, update.message.chat.id  # type: ignore[attr-defined]
        assert chat not in self.busy, f"two updates of chat {chat} at once"
        self.started.append(update_id)
        self.busy.add(chat)
        self.peak = max(self.peak, len(self.busy))
        await asyncio.sleep(0.02)
        self.busy.discard(chat)


def poller_worker(
    recorder: Recorder, sessions: Any, *, poll_interval: float, sole: bool = False
) -> InboxWorker:
    """The long-polling process's inbox worker, feeding `recorder`, two updates at a time."""
    return InboxWorker(
        recorder,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        sessions,
        worker="poller",
        concurrency=2,
        lease=30,
        poll_interval=poll_interval,
        sole=sole,
    )


async def test_a_polled_batch_is_stored_with_the_claims_of_what_can_start_now(engine: AsyncEngine) -> None:
    """Long polling: the batch's transaction claims the first update of each free chat, as many as
    there are free slots, and they start at once; the rest wait for their chat or a slot, and go
    through the claim loop in order."""
    sessions = create_session_factory(engine)
    recorder = Recorder()
    worker = poller_worker(recorder, sessions, poll_interval=0.05)
    batch = [private(update_id, chat) for update_id, chat in ((10, 1), (11, 1), (12, 2), (13, 3), (14, 3))]
    await worker.store_and_start(batch)  # the claim loop is not running yet
    started = sorted(task.get_name() for task in worker._in_flight)
    assert started == ["inbox-10", "inbox-12"]  # started at once, before any claim round
    async with sessions() as session:
        rows = {row.update_id: row for row in (await session.exec(select(InboxUpdate))).all()}
    assert {key for key, row in rows.items() if row.status == InboxStatus.CLAIMED} == {10, 12}
    assert all(rows[key].claimed_by == "poller" for key in (10, 12))
    assert {key for key, row in rows.items() if row.status == InboxStatus.PENDING} == {11, 13, 14}
    worker.start()

    async def settled() -> bool:
        async with sessions() as session:
            return (await inbox.depth(session)) == {"pending": 0, "claimed": 0}

    try:
        await until(settled, "every update handled", every=0.02)
    finally:
        await worker.stop(grace=1)
    assert sorted(recorder.started) == [10, 11, 12, 13, 14] and recorder.peak <= 2
    for chat in ((10, 11), (13, 14)):
        assert [update_id for update_id in recorder.started if update_id in chat] == list(chat)
    async with sessions() as session:
        statuses = (await session.exec(select(InboxUpdate.status))).all()
    assert set(statuses) == {InboxStatus.DONE}


async def test_long_polling_wakes_the_claim_loop_only_for_updates_waiting(engine: AsyncEngine) -> None:
    """The poller's worker (`sole`) knows what it stored and did not claim: an update waiting for
    its chat or a slot is claimed as soon as one frees (the claim loop's timer is off here, so only
    that wake-up can start it), and once nothing waits an update that ends wakes no claim round."""
    sessions = create_session_factory(engine)
    recorder = Recorder()
    worker = poller_worker(recorder, sessions, poll_interval=3600, sole=True)
    rounds: list[int] = []  # the claim loop's claim transactions (the poller's store has a batch)
    claim = worker._claim

    async def counted_claim(free: int, **options: object) -> list[inbox.ClaimedUpdate]:
        if options.get("batch") is None:
            rounds.append(free)
        return await claim(free, **options)  # type: ignore[arg-type]

    worker._claim = counted_claim  # type: ignore[method-assign]
    worker.start()

    async def settled() -> dict[str, int]:
        async def depth() -> dict[str, int] | None:
            async with sessions() as session:
                depth = await inbox.depth(session)
            # (a claim committed but not yet started holds no task: claimed must be 0 too)
            return depth if not worker._in_flight and depth == {"pending": 0, "claimed": 0} else None

        await asyncio.sleep(0.05)  # (a claim round the test says must not come has its chance)
        return await until(depth, "every update handled")

    try:
        await asyncio.sleep(0.05)  # the loop's first round (nothing to claim) is over
        batch = [private(update_id, chat) for update_id, chat in ((10, 1), (11, 1), (12, 2), (13, 3))]
        await worker.store_and_start(batch)
        assert await settled() == {"pending": 0, "claimed": 0}
        assert sorted(recorder.started) == [10, 11, 12, 13]
        assert worker._waiting == 0
        rounds.clear()
        await worker.store_and_start([private(20, 4)])
        assert await settled() == {"pending": 0, "claimed": 0}
        assert recorder.started[-1] == 20 and rounds == []
    finally:
        await worker.stop(grace=1)


async def test_long_polling_claims_ahead_what_waits_only_for_a_slot(engine: AsyncEngine) -> None:
    """The poller's worker (`sole`) claims, in the store's transaction, the updates of free chats
    beyond its free slots (two rounds of slots at most) and starts them as slots free: no claim
    round of their own, still two at a time, each chat in order; a stop hands back those claimed
    ahead and not started."""
    sessions = create_session_factory(engine)
    recorder = Recorder()
    worker = poller_worker(recorder, sessions, poll_interval=3600, sole=True)
    rounds: list[int] = []  # the claim loop's claim transactions
    stores: list[int] = []  # how many the poller's store transactions claimed
    claim = worker._claim

    async def counted_claim(free: int, **options: object) -> list[inbox.ClaimedUpdate]:
        claimed = await claim(free, **options)  # type: ignore[arg-type]
        (rounds if options.get("batch") is None else stores).append(len(claimed))
        return claimed

    worker._claim = counted_claim  # type: ignore[method-assign]
    worker.start()
    try:
        for _ in range(500):  # until the loop's first round (nothing to claim) is over
            if rounds and not worker._reserved:
                break
            await asyncio.sleep(0.01)
        rounds.clear()
        chats = [
            private(update_id, chat) for update_id, chat in ((10, 1), (11, 2), (12, 3), (13, 4), (14, 5))
        ]
        await worker.store_and_start(chats)
        assert stores == [5] and len(worker._in_flight) == 2  # 3 claimed ahead
        for _ in range(200):
            await asyncio.sleep(0.05)
            if len(recorder.started) == 5 and not worker._in_flight:
                break
        assert recorder.started == [10, 11, 12, 13, 14] and recorder.peak <= 2 and rounds == []
        await worker.store_and_start([private(update_id, 100 + update_id) for update_id in range(20, 30)])
        assert stores == [5, 6]  # 2 slots and 4 ahead at most: 4 left for the claim loop
    finally:
        await worker.stop(grace=1)
    async with sessions() as session:
        assert (await inbox.depth(session)).get("claimed", 0) == 0  # every claim handed back or done


def trip_counter() -> tuple[list[str], Any]:
    """A stand-in for aiosqlite's hand-over to the connection's thread that records each trip."""
    import aiosqlite

    trips: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: object, *args: object, **kwargs: object) -> object:
        trips.append(getattr(fn, "__name__", "?"))
        return await execute(self, fn, *args, **kwargs)

    return trips, counted


async def test_the_handled_mark_commits_with_its_writes_and_a_lost_claim_keeps_none(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit that writes the handled-mark keeps what the unit of work wrote with it (on
    SQLite in one trip to the connection's thread: the mark's statement commits); when the claim
    was lost meanwhile, the commit is refused and nothing of that unit of work is kept."""
    import aiosqlite

    sessions = create_session_factory(engine)
    trips, counted = trip_counter()

    long_ago = utcnow() - timedelta(minutes=5)
    async with sessions() as session:
        for update_id in (1, 2):
            await inbox.store(session, message(update_id, update_id), long_ago)
        await session.commit()
        await inbox.claim(session, "w", 10, long_ago)

    async with sessions() as session:  # update 1's unit of work: a write, then the mark's commit
        mark = inbox.mark_handled_on_commit(session, 1, "w")
        await inbox.store(session, message(11, 1), utcnow())
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        await session.commit()
        monkeypatch.undo()
        assert mark.written
    if engine.dialect.name == "sqlite":
        assert len(trips) == 1, trips  # the mark's UPDATE and the COMMIT

    async with sessions() as session:  # update 2's: its claim goes to another worker meanwhile
        inbox.mark_handled_on_commit(session, 2, "w")
        async with sessions() as other:
            await inbox.release_stale(other, utcnow(), timedelta(seconds=60))
            assert 2 in [item.update_id for item in await inbox.claim(other, "fast", 10, utcnow())]
        await inbox.store(session, message(12, 2), utcnow())
        with pytest.raises(inbox.ClaimLost):
            await session.commit()
        await session.rollback()

    async with sessions() as session:
        rows = {row.update_id: row for row in (await session.exec(select(InboxUpdate))).all()}
    assert rows[1].handled_at is not None and 11 in rows
    assert rows[2].handled_at is None and rows[2].claimed_by == "fast" and 12 not in rows


async def test_a_polled_batch_is_stored_finished_and_claimed_in_one_trip(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poller's transaction (store the batch, finish what was handled, claim, commit) takes one
    trip to SQLite's thread; its statements all happen, and one that fails (or a rollback) keeps
    nothing of the transaction."""
    import aiosqlite

    from storage.sqlite_driver import defer_statement

    sessions = create_session_factory(engine)
    trips, counted = trip_counter()

    async with sessions() as session:
        await inbox.store_all(session, [message(1, 1)], utcnow())
        await inbox.claim(session, "w", 10, utcnow())
        inbox.mark_handled_on_commit(session, 1, "w")
        await session.commit()
    async with sessions() as session:
        await session.connection()
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        await inbox.store_all(session, [message(2, 1), message(3, 2)], utcnow())
        claimed = await inbox.claim(session, "w", 10, utcnow(), finished=[1])
        monkeypatch.undo()
    assert [item.update_id for item in claimed] == [2, 3]
    if engine.dialect.name == "sqlite":
        assert len(trips) == 1, trips

    async with engine.connect() as connection:  # stored (deferred), then rolled back: nothing kept
        with defer_statement(connection.sync_connection):
            await connection.execute(inbox._STORE[engine.dialect.name], inbox._row(message(4, 3), utcnow()))
        await connection.rollback()
        await connection.exec_driver_sql("SELECT 1")  # the connection's next transaction
        await connection.commit()
    async with sessions() as session:  # a deferred statement that fails fails its transaction
        await inbox.store_all(session, [message(5, 4)], utcnow())
        connection = await session.connection()
        with pytest.raises(Exception, match=r"no_such_table|no such table"):
            with defer_statement(connection.sync_connection):  # on SQLite: fails with the commit
                await connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")
            await session.commit()
        await session.rollback()
    async with sessions() as session:
        rows = {row.update_id: row.status for row in (await session.exec(select(InboxUpdate))).all()}
    assert rows == {1: InboxStatus.DONE, 2: InboxStatus.CLAIMED, 3: InboxStatus.CLAIMED}

"""The handled-marks of updates that wrote nothing, in one group commit (`bot.web.mark_batches`), on
SQLite and PostgreSQL: marks asked together are one statement and one commit, an update whose
claim was lost is refused as its own commit would be, and a unit of work that wrote something
keeps its mark in its own transaction, atomic with its writes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select, update

from bot.web import inbox
from bot.web.mark_batches import WRITER, MarkBatches
from storage.db import create_session_factory
from storage.models import InboxUpdate, Member
from storage.types import utcnow
from storage.writes import writes


def message(update_id: int, chat_id: int) -> inbox.Received:
    return inbox.describe(
        {"update_id": update_id, "message": {"message_id": 1, "chat": {"id": chat_id}, "text": "hi"}}
    )


async def claimed(engine: AsyncEngine, update_ids: list[int], worker: str = "w") -> None:
    """These updates (each of a chat of its own) stored and claimed by `worker` a while ago."""
    sessions = create_session_factory(engine)
    long_ago = utcnow() - timedelta(minutes=5)
    async with sessions() as session:
        for update_id in update_ids:
            await inbox.store(session, message(update_id, update_id), long_ago)
        await session.commit()
        await inbox.claim(session, worker, len(update_ids), long_ago)


async def taken_by_another_worker(engine: AsyncEngine, update_id: int) -> None:
    """The update's claim ran out and another worker claimed it meanwhile (the others stay ours)."""
    async with create_session_factory(engine)() as other:
        await other.exec(  # type: ignore[call-overload]
            update(InboxUpdate)
            .where(col(InboxUpdate.update_id) == update_id)
            .values(claimed_by="fast", claimed_at=utcnow())
        )
        await other.commit()


def statements_by_task(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(task name, statement) of every statement run on the engine from now on."""
    seen: list[tuple[str, str]] = []

    def record(_conn: Any, _cursor: Any, text: str, *_: Any) -> None:
        task = asyncio.current_task()
        seen.append((task.get_name() if task else "?", " ".join(text.split())))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def two_claimed(engine: AsyncEngine) -> tuple[Any, MarkBatches, list[tuple[str, str]]]:
    """Updates 1 and 2 claimed by worker "w": the engine's sessions, the worker's mark batches, and
    the statements run from now on (`statements_by_task`)."""
    await claimed(engine, [1, 2])
    return create_session_factory(engine), MarkBatches(engine, "w"), statements_by_task(engine)


async def rows(engine: AsyncEngine) -> dict[int, InboxUpdate]:
    async with create_session_factory(engine)() as session:
        return {row.update_id: row for row in (await session.exec(select(InboxUpdate))).all()}


async def test_marks_asked_together_are_one_statement_and_a_lost_claim_is_refused(
    engine: AsyncEngine,
) -> None:
    """Three updates ask at once, one of which lost its claim: one UPDATE and one commit for the
    three; the two still held are marked, the third is refused (ClaimLost) and left to its new
    owner. Asked again once that batch is written, an update's mark goes into a batch of its own."""
    await claimed(engine, [1, 2, 3])
    await taken_by_another_worker(engine, 3)
    marks = MarkBatches(engine, "w")
    seen = statements_by_task(engine)
    outcomes = await asyncio.gather(marks.mark(1), marks.mark(2), marks.mark(3), return_exceptions=True)
    assert outcomes[:2] == [None, None]
    assert isinstance(outcomes[2], inbox.ClaimLost)
    assert [task for task, _ in seen] == [WRITER], seen  # one statement (it commits: one trip on SQLite)
    assert seen[0][1].startswith("UPDATE inbox SET handled_at")
    after = await rows(engine)
    assert after[1].handled_at is not None and after[2].handled_at is not None
    assert after[3].handled_at is None and after[3].claimed_by == "fast"

    await claimed(engine, [4])
    with pytest.raises(inbox.ClaimLost):
        await marks.mark(1)  # marked already: a second mark of the same update is refused
    await marks.mark(4)
    await marks.drain()
    assert (await rows(engine))[4].handled_at is not None


async def test_a_unit_of_work_that_wrote_nothing_has_its_mark_written_by_the_batch(
    engine: AsyncEngine,
) -> None:
    """Before a reply: a unit of work that only read hands its mark to the batch (its own
    connection writes nothing), and is refused if its claim was lost meanwhile."""
    sessions, marks, seen = await two_claimed(engine)
    async with sessions() as session:
        mark = inbox.mark_handled_on_commit(session, 1, "w", marks)
        await session.exec(select(Member).limit(1))  # a read
        await inbox.commit_before_reply(session)
        assert mark.written
    assert [(task, text[:27]) for task, text in seen[1:]] == [(WRITER, "UPDATE inbox SET handled_at")]
    assert (await rows(engine))[1].handled_at is not None

    await taken_by_another_worker(engine, 2)
    async with sessions() as session:
        mark = inbox.mark_handled_on_commit(session, 2, "w", marks)
        with pytest.raises(inbox.ClaimLost):
            await inbox.commit_before_reply(session)
        assert not mark.written
    assert (await rows(engine))[2].handled_at is None


async def test_a_unit_of_work_that_wrote_keeps_its_mark_in_its_own_transaction(engine: AsyncEngine) -> None:
    """Before a reply: a unit of work that wrote commits its mark with its writes,
    never through the batch; when its claim was lost, none of its writes is kept."""
    sessions, marks, seen = await two_claimed(engine)
    async with sessions() as session:
        mark = inbox.mark_handled_on_commit(session, 1, "w", marks)
        await inbox.store(session, message(11, 1), utcnow())  # a write
        await inbox.commit_before_reply(session)
        assert mark.written
    assert WRITER not in {task for task, _ in seen}, seen

    await taken_by_another_worker(engine, 2)
    async with sessions() as session:
        inbox.mark_handled_on_commit(session, 2, "w", marks)
        await inbox.store(session, message(12, 2), utcnow())
        with pytest.raises(inbox.ClaimLost):
            await inbox.commit_before_reply(session)
        await session.rollback()
    assert WRITER not in {task for task, _ in seen}, seen
    after = await rows(engine)
    assert after[1].handled_at is not None and 11 in after
    assert after[2].handled_at is None and 12 not in after


def test_a_statement_writing_in_a_with_counts_as_a_write() -> None:
    """A data-modifying CTE (PostgreSQL: the survey answer's `WITH moved AS (UPDATE …) SELECT …`)
    writes: its unit of work keeps its mark in its own transaction, never in the batch (taken for
    a read, its answer was committed apart from its mark, or not at all)."""
    assert writes(
        "WITH moved AS (UPDATE survey_responses SET seq = seq + 1 RETURNING id) SELECT id FROM moved"
    )
    assert writes("with gone as (delete from outbox returning id) select count(*) from gone")
    assert writes("  UPDATE inbox SET handled_at = now()")
    assert writes("SELECT id FROM rsvps WHERE event_id = 1 FOR UPDATE")
    assert not writes("WITH recent AS (SELECT updated_at, inserted FROM events) SELECT * FROM recent")
    assert not writes("SELECT updated_at FROM events")


async def test_a_batch_chosen_as_a_deadlock_victim_is_written_again(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL may abort the batch's UPDATE as a deadlock's victim (the lease loop's `renew`
    locks the same worker's rows in an order of its own): the batch is written again on a fresh
    connection and its updates are marked, not failed. Any other error still fails them."""
    from sqlalchemy.exc import DBAPIError

    from bot.web import mark_batches

    class Deadlock(Exception):
        sqlstate = "40P01"

    written = mark_batches.mark_many
    failures = [DBAPIError("UPDATE inbox", {}, Deadlock("deadlock detected"))]

    async def deadlocked_once(*args: Any) -> set[int]:
        if failures:
            raise failures.pop()
        return await written(*args)

    monkeypatch.setattr(mark_batches, "mark_many", deadlocked_once)
    await claimed(engine, [1, 2])
    marks = MarkBatches(engine, "w")
    assert await asyncio.gather(marks.mark(1), marks.mark(2)) == [None, None]
    assert all(row.handled_at is not None for row in (await rows(engine)).values())

    failures.append(DBAPIError("UPDATE inbox", {}, Exception("disk I/O error")))
    await claimed(engine, [3])
    with pytest.raises(mark_batches.MarkFailed):
        await marks.mark(3)
    await marks.drain()
    # The connection the failed batch was written on went back to the pool (not left to the GC).
    assert engine.sync_engine.pool.checkedout() == 0

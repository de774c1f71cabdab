"""Updates that write nothing share their handled-marks' commit, through the real path (the
emulator, long polling into the inbox, the Dispatcher): members sending /help at once are marked
in fewer statements than there are updates, each reply leaving only once its update's mark is
committed (read from another connection when the emulator receives the reply)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.web import mark_batches
from bot.web.mark_batches import WRITER
from storage.db import create_engine
from storage.models import InboxStatus, InboxUpdate
from tests.e2e.conftest import Harness

T = InboxUpdate.__table__  # type: ignore[attr-defined]


async def test_help_of_members_at_once_is_marked_in_shared_batches(
    harness: Harness, registered: Any, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten members' /help at once, with a database slow to write the marks (each batch waits
    0.2 s first: a reply that did not wait for its mark would leave meanwhile, and the updates
    asking meanwhile gather in the next batch)."""
    members = [await registered(f"Member {number}", "en") for number in range(10)]
    for member in members:  # the caches warmed
        await harness.send(member, "/help")

    reader = create_engine(migrated_url)  # what is committed, seen from another connection
    unmarked_at_reply: list[int] = []
    calls = harness.emulator.call

    async def checked(method: str, params: Any, **kwargs: Any) -> Any:
        if method.lower() == "sendmessage":
            chat = f"c{params.integer('chat_id')}"
            async with reader.connect() as connection:
                in_hand = await connection.execute(
                    select(T.c.update_id).where(
                        T.c.chat_key == chat, T.c.status == InboxStatus.CLAIMED, T.c.handled_at.is_(None)
                    )
                )
                unmarked_at_reply.extend(in_hand.scalars())
        return await calls(method, params, **kwargs)

    marks: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, text: str, parameters: Any, *_: Any) -> None:
        if text.lstrip().startswith("UPDATE inbox SET handled_at"):
            task = asyncio.current_task()
            marks.append((task.get_name() if task else "?", parameters))

    write_marks = mark_batches.mark_many

    async def slowly(*args: Any) -> set[int]:
        await asyncio.sleep(0.2)
        return await write_marks(*args)

    monkeypatch.setattr(mark_batches, "mark_many", slowly)
    harness.emulator.call = checked  # type: ignore[method-assign]
    event.listen(harness.app.engine.sync_engine, "before_cursor_execute", record)
    try:
        sent = set()
        for member in members:  # all at once: one getUpdates batch
            await harness.emulator.send_text(member, "/help")
            sent.add(harness.emulator.pending_updates[-1]["update_id"])
        for member in members:
            await harness.reply(member)
    finally:
        event.remove(harness.app.engine.sync_engine, "before_cursor_execute", record)
        harness.emulator.call = calls  # type: ignore[method-assign]
        await reader.dispose()

    assert unmarked_at_reply == [], "a reply left before its update's handled-mark was committed"
    assert {task for task, _ in marks} == {WRITER}, marks
    batches = [[value for value in _values(parameters) if value in sent] for _, parameters in marks]
    assert sorted(value for batch in batches for value in batch) == sorted(sent), batches
    assert len(batches) < len(members), f"{len(batches)} statements for {len(members)} marks: {batches}"


def _values(parameters: Any) -> list[Any]:
    """The values bound to a statement (SQLite: a tuple; asyncpg: a tuple or a dict)."""
    return list(parameters.values() if isinstance(parameters, dict) else parameters)

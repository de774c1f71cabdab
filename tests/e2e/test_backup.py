"""`diaspora-bridge backup` while a broadcast is going out, then `restore` into an empty database:
the same rows, a snapshot taken mid-broadcast, and a database with members is not overwritten
without --force."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.backup import BackupError, backup, restore, table_counts
from bot.sandbox import BotAPIEmulator, Limits
from storage.db import create_engine, create_session_factory
from storage.models import DeliveryStatus, OutboxMessage
from tests.conftest import PG_URL
from tests.e2e.conftest import start_harness
from tests.e2e.helpers import consented, urgent_announcement
from tests.postgres import throwaway_database


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind."""
    if database_url.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    with throwaway_database(PG_URL, "db_restore") as url:
        yield url


async def test_backup_during_a_broadcast_restores_into_an_empty_database(
    migrated_url: str, empty_url: str, tmp_path: Path
) -> None:
    async for harness in start_harness(migrated_url, limits=Limits(flood_control=True)):
        users = [harness.emulator.create_user(f"M{i}", language_code="en") for i in range(150)]
        sessions = create_session_factory(harness.app.engine)
        organization = harness.app.dispatcher["organization"]
        async with sessions() as session:
            await consented(session, organization.id, users)
            await urgent_announcement(session, organization, users[0], "Backup news")
            await session.commit()
        harness.app.delivery.wake()

        emulator = harness.emulator

        def sent(emulator: BotAPIEmulator = emulator) -> int:
            return sum(1 for call in emulator.calls if call.params.get("text") == "Backup news" and call.ok)

        await harness.emulator.wait_for(lambda _: sent() >= 20, timeout=60)
        # Outcomes are written a batch at a time: the snapshot must hold some already.
        await _until_recorded_as_sent(sessions)
        path = tmp_path / "backup.file"
        summary = await asyncio.to_thread(backup, migrated_url, str(path))
        assert sent() < 150, "the broadcast should still be going out during the backup"
        assert "backup written to" in summary and path.stat().st_size > 0
        await harness.emulator.wait_for(lambda _: sent() == 150, timeout=60)
        live = await table_counts(migrated_url)

    restored_summary = await asyncio.to_thread(restore, empty_url, str(path))
    assert "restored" in restored_summary
    restored = await table_counts(empty_url)
    assert restored == live and restored["members"] == 150 and restored["outbox"] == 150
    engine = create_engine(empty_url)
    try:
        async with create_session_factory(engine)() as session:
            statuses = Counter((await session.exec(select(OutboxMessage.status))).all())
    finally:
        await engine.dispose()
    assert 0 < statuses[DeliveryStatus.SENT] < 150, f"not a mid-broadcast snapshot: {statuses}"
    with pytest.raises(BackupError, match="already holds 150 members"):
        await asyncio.to_thread(restore, empty_url, str(path))
    await asyncio.to_thread(restore, empty_url, str(path), force=True)
    assert await table_counts(empty_url) == live


async def _until_recorded_as_sent(sessions: async_sessionmaker[AsyncSession], timeout: float = 60.0) -> None:
    """Until the outbox holds a row marked SENT (the delivery engine writes its outcomes in batches)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with sessions() as session:
            found = await session.exec(
                select(OutboxMessage.id).where(OutboxMessage.status == DeliveryStatus.SENT).limit(1)
            )
            if found.first() is not None:
                return
        assert asyncio.get_running_loop().time() < deadline, "no outcome recorded as SENT"
        await asyncio.sleep(0.02)


def test_restore_and_backup_explain_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="is not a file"):
        restore(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", str(tmp_path / "missing"))
    with pytest.raises(BackupError, match="no database at"):
        backup(f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}", str(tmp_path / "out"))
    with pytest.raises(BackupError, match="does not exist"):
        backup(f"sqlite+aiosqlite:///{tmp_path / 'none.sqlite3'}", str(tmp_path / "nowhere" / "out"))

"""The real bot process killed with SIGKILL around the commit of a handled-mark batch (a member's
/help writes nothing: its mark is written by the batch, `bot.web.mark_batches`). Killed right after
the commit: the reply is on its way, and the restarted bot never handles the update again. Killed
while the batch is being written (the handler done, its reply waiting for the commit): nothing was
sent, and the restarted bot handles the update again: one reply in all."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot.sandbox import BotAPIEmulator, SimUser
from bot.services.members import TelegramIdentity, complete_profile, record_consent, update_profile
from storage.models import InboxStatus, InboxUpdate
from tests.bot_process import spares_loaded
from tests.e2e.helpers import bot_organization
from tests.e2e.test_process import start_bot, stop
from tests.helpers import until

pytestmark = pytest.mark.serial


async def registered(db: Any, emulator: BotAPIEmulator, name: str) -> SimUser:
    """A member with a complete profile: their /help writes nothing."""
    user = emulator.create_user(name, language_code="en")
    async with db() as session:
        organization = await bot_organization(session)
        member = await record_consent(
            session, TelegramIdentity(user.id, None, name), "en", "UTC", organization.id
        )
        await update_profile(session, member, display_name=name, origin_country="SN")
        await complete_profile(session, member)
        await session.commit()
    return user


def replies_to(emulator: BotAPIEmulator, user: SimUser) -> int:
    return sum(
        1
        for call in emulator.calls
        if call.method == "sendMessage" and str(call.params.get("chat_id")) == str(user.id)
    )


async def inbox_row(db: Any, update_id: int) -> InboxUpdate | None:
    async with db() as session:
        return (await session.exec(select(InboxUpdate).where(InboxUpdate.update_id == update_id))).first()


async def settled(db: Any) -> None:
    """Until every update in the inbox is finished (nothing pending, nothing claimed)."""
    waiting = select(InboxUpdate.update_id).where(
        col(InboxUpdate.status).in_([InboxStatus.PENDING, InboxStatus.CLAIMED])
    )
    for _ in range(600):
        async with db() as session:
            if not (await session.exec(waiting)).all():
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the inbox did not settle")


def started(emulator: BotAPIEmulator) -> Any:
    """A condition: the bot (started after this call) polls."""
    before = len(emulator.calls)
    return lambda emu: any(call.method == "getUpdates" for call in emu.calls[before:])


async def test_sigkill_after_the_marks_commit_never_handles_the_update_again(
    emulator: BotAPIEmulator, tmp_path: Path, migrated_url: str, db: Any
) -> None:
    """The reply to Amina's /help is held by the Bot API (it arrived, no answer yet) when the bot
    is killed: her update's mark is committed already, and the restarted bot finishes her update
    without handling it again (one reply in all); Kofi's /help after the restart is answered."""
    await spares_loaded()
    amina, kofi = await registered(db, emulator, "Amina"), await registered(db, emulator, "Kofi")
    process = start_bot(emulator, tmp_path, migrated_url)
    try:
        await emulator.wait_for(started(emulator), timeout=60)
        emulator.faults.methods = frozenset({"sendMessage"})
        emulator.faults.slow_rate, emulator.faults.slow_seconds = 1.0, 3.0
        await emulator.send_text(amina, "/help")
        update_id = emulator.pending_updates[-1]["update_id"]
        await emulator.wait_for(lambda emu: replies_to(emu, amina) == 1, timeout=60)
        await stop(process, signal.SIGKILL)  # the reply is on its way (held 3 s)
    finally:
        if process.poll() is None:
            await stop(process, signal.SIGKILL)
    row = await inbox_row(db, update_id)
    assert row is not None and row.handled_at is not None, "a reply left before its mark"

    emulator.faults.slow_rate = 0.0
    process = start_bot(emulator, tmp_path, migrated_url)
    try:
        await emulator.send_text(kofi, "/help")
        await emulator.next_bot_message(kofi.id, timeout=60)
        await settled(db)
    finally:
        _, log = await stop(process)
    assert replies_to(emulator, amina) == 1, "the update was handled again after the restart"
    row = await inbox_row(db, update_id)
    assert row is not None and row.status == InboxStatus.DONE
    assert "Traceback" not in log


# The advisory lock the test holds while the database holds the batch's statement (`HOLD_MARKS`).
HOLD = 7715
HOLD_MARKS = f"""
CREATE FUNCTION hold_marks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock_shared({HOLD}); RETURN NEW; END $$;
CREATE TRIGGER hold_marks BEFORE UPDATE OF handled_at ON inbox FOR EACH ROW
WHEN (OLD.handled_at IS NULL AND NEW.handled_at IS NOT NULL) EXECUTE FUNCTION hold_marks();
"""
# The statements that wait on it: (their process id, their text).
WAITING = f"""
SELECT activity.pid, activity.query FROM pg_locks locks JOIN pg_stat_activity activity USING (pid)
WHERE locks.locktype = 'advisory' AND locks.objid = {HOLD} AND NOT locks.granted
"""


@pytest.mark.crash
async def test_sigkill_while_the_marks_batch_is_written_hands_the_update_to_the_restarted_bot(
    emulator: BotAPIEmulator, tmp_path: Path, migrated_url: str, db: Any
) -> None:
    """Amina's /help is handled and its reply waits for the batch holding its mark when the bot is
    killed. The batch is stopped there by the database: a trigger of the test's makes an UPDATE
    that sets a handled-mark wait for a lock the test holds (a slow database; nothing in the bot
    is changed), and PostgreSQL drops the statement of a client gone
    (`client_connection_check_interval`), as it rolls back any transaction whose client died. The
    restarted bot handles her update again: one reply in all, and no trace of the first try."""
    if not migrated_url.startswith("postgresql"):
        pytest.skip("PostgreSQL holds the batch's statement at a lock (SQLite has no way from outside)")
    url = make_url(migrated_url)
    holder = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password, database=url.database
    )
    try:
        await holder.execute(HOLD_MARKS)
        await holder.execute(f'ALTER DATABASE "{url.database}" SET client_connection_check_interval = 100')
        await holder.execute(f"SELECT pg_advisory_lock({HOLD})")
        await spares_loaded()
        amina, kofi = await registered(db, emulator, "Amina"), await registered(db, emulator, "Kofi")
        process = start_bot(emulator, tmp_path, migrated_url)
        try:
            await emulator.wait_for(started(emulator), timeout=60)
            await emulator.send_text(amina, "/help")
            update_id = emulator.pending_updates[-1]["update_id"]
            waiting = await until(
                lambda: holder.fetch(WAITING), "the batch holding the mark waits", every=0.1
            )
            assert [query.split(" SET ")[0] for _, query in waiting] == ["UPDATE inbox"], waiting
            assert replies_to(emulator, amina) == 0, "a reply left before its mark was committed"
            await stop(process, signal.SIGKILL)
        finally:
            if process.poll() is None:
                await stop(process, signal.SIGKILL)
        # The dead bot's statement is dropped, not left to finish once the lock is free.
        await until(
            lambda: holder.fetchval(
                "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $1", waiting[0][0]
            ),
            "PostgreSQL drops the statement of the killed bot",
            every=0.1,
        )
        await holder.execute(f"SELECT pg_advisory_unlock({HOLD})")
        row = await inbox_row(db, update_id)
        assert row is not None and row.status == InboxStatus.CLAIMED and row.handled_at is None
    finally:
        await holder.close()

    process = start_bot(emulator, tmp_path, migrated_url)
    try:
        await emulator.next_bot_message(amina.id, timeout=60)
        await emulator.send_text(kofi, "/help")
        await emulator.next_bot_message(kofi.id, timeout=60)
        await settled(db)
    finally:
        _, log = await stop(process)
    assert replies_to(emulator, amina) == 1, "the update was not handled exactly once"
    row = await inbox_row(db, update_id)
    assert row is not None and row.status == InboxStatus.DONE and row.attempts == 2
    assert "Traceback" not in log

"""The real bot process killed with SIGKILL right after the commit of a handled-mark batch (a
member's /help writes nothing: its mark is written by the batch, `bot.web.mark_batches`): the
reply is on its way, and the restarted bot never handles the update again. (Killed before the
batch's commit, nothing was sent: the reply waits for it, `tests/e2e/test_mark_batches.py`; the
update is then handled after the restart as any claimed and unmarked one,
`tests/e2e/test_process.py`.)"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.sandbox import BotAPIEmulator, SimUser
from bot.services.members import TelegramIdentity, complete_profile, record_consent, update_profile
from storage.models import InboxStatus, InboxUpdate
from tests.bot_process import spares_loaded
from tests.e2e.helpers import bot_organization
from tests.e2e.test_process import start_bot, stop

pytestmark = [pytest.mark.serial, pytest.mark.beside]


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

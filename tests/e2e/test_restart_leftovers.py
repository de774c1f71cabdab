"""What a stop and a restart leave behind: a scheduler job running at the stop finishes (nothing
cancelled mid-way, no traceback: APScheduler cancels a running job's task at shutdown unless it is
waited for); a button pressed before the restart and answered after it (Telegram: 400 "query is too
old") is done, not an error."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.app import add_job
from storage.types import utcnow
from tests.e2e.conftest import Harness


async def test_stop_waits_for_a_running_job(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    app = harness.app
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow_job() -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.set()

    add_job(app.scheduler, app.jobs_running, slow_job, 3600, "slow", next_run_time=utcnow())
    await asyncio.wait_for(started.wait(), timeout=30)
    with caplog.at_level(logging.DEBUG):
        await app.stop_background()
    assert finished.is_set(), "the running job was cut"
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
    assert not errors, [record.getMessage() for record in errors]


async def test_a_too_old_callback_query_is_answered_quietly(harness: Harness) -> None:
    user = harness.emulator.create_user("Awa", language_code="en")
    assert await harness.app.bot.answer_callback_query("4382000000000000999", text="Saved") is True
    assert [call.error_code for call in harness.emulator.errors] == [400]
    assert not harness.apologized(user)

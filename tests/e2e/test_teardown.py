"""Stopping the bot always ends, and a clean stop loses or repeats nothing.

The rare hang of the test suite (a teardown that never returned, the event loop idle with no timer
and no database session) is aiogram's `Dispatcher.stop_polling()`: it waits for a "stopped" signal
that `start_polling` sets only after every shutdown handler has returned normally. When the bot's
shutdown handler (`App.stop_background`: scheduler, then the delivery engine's stop with its last
database writes) raised, the signal was never set and `stop_polling()` waited forever on a future
nobody completes. The shutdown handler now never raises (each step is logged and the next one
runs), and the engine stops its loops without cutting a database write in the middle.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e.conftest import Harness, _stop_polling


async def test_a_failing_shutdown_step_does_not_leave_stop_polling_waiting_forever(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_stop() -> None:
        raise ConnectionError("the database went away during the last write")

    monkeypatch.setattr(harness.app.delivery, "stop", failing_stop)
    stopping = asyncio.ensure_future(_stop_polling(harness))
    done, _ = await asyncio.wait({stopping}, timeout=15)
    if not done:
        stopping.cancel()
        pytest.fail("stop_polling() never returned: the stopped signal is set only after a clean shutdown")
    stopping.result()
    assert harness.polling is not None and harness.polling.task.done()
    assert any(record.getMessage() == "shutdown_step_failed" for record in caplog.records)

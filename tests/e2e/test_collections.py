"""The garbage collector while the bot works: an update's objects are freed by their reference
counts, so young collections (walks of every live object allocated since the last one) are rare,
not one every other round trip as with Python's threshold of 700 (`bot.aiogram_tuning`)."""

from __future__ import annotations

import gc
from typing import Any

from tests.e2e.conftest import Harness

ROUND_TRIPS = 30


async def test_a_members_commands_leave_the_collector_idle(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    user = await registered("Amina", "en")
    await harness.send(user, "/help")  # caches filled, first-use schemas built
    collections: list[int] = []

    def counted(phase: str, info: dict[str, Any]) -> None:
        if phase == "stop":
            collections.append(info["generation"])

    gc.callbacks.append(counted)
    try:
        for _ in range(ROUND_TRIPS):
            await harness.send(user, "/help")
    finally:
        gc.callbacks.remove(counted)
    assert gc.isenabled()
    # with a young threshold of 700: 8 collections in the 30 round trips (the emulator and the
    # test allocate in this process too)
    assert len(collections) <= 3, collections

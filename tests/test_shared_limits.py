"""The flood budget shared through Redis: two "processes" (two budgets on one Redis) together
keep the bot's rate and each chat's pace; without Redis each falls back to its own budget."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator

import pytest

from bot.delivery.shared_limits import shared_limits

# Alone, after the rest of the suite (`make test`): the flood budget's rates measured on the clock.
pytestmark = pytest.mark.serial

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis() -> AsyncIterator[object]:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    yield client
    await client.aclose()


async def test_two_processes_together_keep_the_bots_rate(redis: object) -> None:
    bot_id = random.randint(10**9, 2 * 10**9)  # keys of their own
    rate = 20.0
    first, _ = shared_limits(redis, bot_id, rate, 4, 1.0, 3.0)
    second, _ = shared_limits(redis, bot_id, rate, 4, 1.0, 3.0)
    started = time.monotonic()
    times: list[float] = []

    async def send(bucket: object, n: int) -> None:
        for _ in range(n):
            await bucket.acquire()  # type: ignore[attr-defined]
            times.append(time.monotonic() - started)

    await asyncio.gather(send(first, 30), send(second, 30))
    elapsed = time.monotonic() - started
    # 60 messages at 20/s with a burst of 4: at least (60 - 4) / 20 = 2.8 s; alone each would take 1.3 s.
    assert elapsed >= 2.7, f"{elapsed:.2f} s: the processes did not share the rate"
    assert elapsed < 4.5
    window = [t for t in times if 1.0 <= t < 2.0]
    assert len(window) <= rate + 1


async def test_two_processes_share_a_chats_pace_and_its_hold(redis: object) -> None:
    bot_id = random.randint(10**9, 2 * 10**9)
    _, first = shared_limits(redis, bot_id, 25, 5, 1.0, 3.0)
    _, second = shared_limits(redis, bot_id, 25, 5, 1.0, 3.0)
    waits = [await budget.book(42) for budget in (first, second, first, second)]
    assert [round(wait) for wait in waits] == [0, 1, 2, 3]  # one message a second, whoever sends
    assert await first.book(-100) == pytest.approx(0, abs=0.05)
    assert await second.book(-100) == pytest.approx(3.0, abs=0.05)  # a group: 20 a minute
    first.hold(77, 5)
    await asyncio.gather(*first.shared._background)  # the hold told to Redis (fire and forget)
    assert await second.book(77) == pytest.approx(5, abs=0.2)  # a 429 seen by one holds both


async def test_without_redis_each_process_keeps_its_own_budget() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    bucket, budget = shared_limits(client, 1, 50, 5, 1.0, 3.0)
    started = time.monotonic()
    for _ in range(10):
        await bucket.acquire()
    assert time.monotonic() - started < 1.0
    assert await budget.book(5) == 0 and await budget.book(5) == pytest.approx(1.0, abs=0.05)
    await client.aclose()

"""The flood budget shared through Redis: two "processes" (two budgets on one Redis) together
keep the bot's rate and each chat's pace; without Redis each falls back to its own budget."""

from __future__ import annotations

import asyncio
import math
import os
import random
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from bot.delivery import ratelimit
from bot.delivery.shared_limits import shared_limits

# Bounds a busy machine cannot break: it only delays messages (so each is checked against the
# earliest time it may go, never the latest) and shortens the waits Redis gives.

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


def recording_waits(bucket: object, waits: list[float]) -> None:
    """Keep each wait Redis gives `bucket`'s process (both budgets of a process share its `_Redis`)."""
    shared = bucket.shared  # type: ignore[attr-defined]
    book = shared.book

    async def booked(key: str, interval: float, tolerance: float) -> float | None:
        wait = await book(key, interval, tolerance)
        waits.append(wait)
        return wait

    shared.book = booked


async def test_two_processes_together_keep_the_bots_rate(redis: object) -> None:
    """60 messages, 30 from each of two processes, at 20/s with a burst of 4: one schedule, so the
    k-th to go (from 0) goes no sooner than (k - 3) / 20 s after the start (each alone would send
    its 30 in 1.3 s); and booked at once, none waits longer than its place in that schedule."""
    bot_id = random.randint(10**9, 2 * 10**9)  # keys of their own
    rate, burst = 20.0, 4
    first, _ = shared_limits(redis, bot_id, rate, burst, 1.0, 3.0)
    second, _ = shared_limits(redis, bot_id, rate, burst, 1.0, 3.0)
    started = time.monotonic()
    times: list[float] = []

    async def send(bucket: object, n: int) -> None:
        for _ in range(n):
            await bucket.acquire()  # type: ignore[attr-defined]
            times.append(time.monotonic() - started)

    await asyncio.gather(send(first, 30), send(second, 30))
    early = [(k, round(t, 3)) for k, t in enumerate(sorted(times)) if t < (k - (burst - 1)) / rate - 0.01]
    assert not early, f"ahead of the shared rate (k, seconds): {early[:5]}: the processes did not share it"

    # The same bookings with no sleep between them, for a fresh bot: Redis gives the k-th (from 0)
    # a wait of at most (k - 3) / 20 s, and, all booked within `span`, at least that less `span`
    # (unshared, none would wait more than (29 - 3) / 20 s).
    bot_id += 1
    pair = [shared_limits(redis, bot_id, rate, burst, 1.0, 3.0)[0] for _ in range(2)]
    waits: list[float] = []
    for bucket in pair:
        recording_waits(bucket, waits)
    interval, tolerance = 1 / rate, (burst - 1) / rate
    span_started = time.monotonic()
    await asyncio.gather(
        *(bucket.shared.book("bot", interval, tolerance) for bucket in pair for _ in range(30))
    )
    span = time.monotonic() - span_started
    for k, wait in enumerate(sorted(waits)):
        assert wait <= max(0.0, (k - (burst - 1)) / rate) + 0.01, (k, wait)
        assert wait >= (k - (burst - 1)) / rate - span - 0.01, (k, wait, span)


async def test_two_processes_share_a_chats_pace_and_its_hold(redis: object) -> None:
    """One message a second to a private chat (3 s in a group) whoever sends; a 429 one process
    sees holds the chat for both. A booking k seconds into the chat's schedule waits k seconds, less
    the time since the first booking (never more than k)."""
    bot_id = random.randint(10**9, 2 * 10**9)
    _, first = shared_limits(redis, bot_id, 25, 5, 1.0, 3.0)
    _, second = shared_limits(redis, bot_id, 25, 5, 1.0, 3.0)

    async def booked(budget: object, chat_id: int, place: float, since: float) -> None:
        wait = await budget.book(chat_id)  # type: ignore[attr-defined]
        assert place - (time.monotonic() - since) - 0.01 <= wait <= place + 0.01, (chat_id, place, wait)

    started = time.monotonic()
    for place, budget in enumerate((first, second, first, second)):
        await booked(budget, 42, place, started)
    started = time.monotonic()
    await booked(first, -100, 0, started)  # a group: 20 a minute
    await booked(second, -100, 3.0, started)
    started = time.monotonic()
    first.hold(77, 5)
    await asyncio.gather(*first.shared._background)  # Redis told (the hold is fire and forget)
    await booked(second, 77, 5, started)  # a 429 seen by one holds both


async def test_without_redis_each_process_keeps_its_own_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Redis down: each process falls back to its own bucket (50/s, a burst of 5) and chat budget;
    on the budgets' own clock, moved only by their waits."""
    from redis.asyncio import Redis

    clock = [1000.0]

    async def sleep(seconds: float) -> None:  # time moves on, if only by a tick (as a real clock's)
        clock[0] = max(clock[0] + seconds, math.nextafter(clock[0], math.inf))
        await asyncio.sleep(0)

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(ratelimit, "asyncio", SimpleNamespace(sleep=sleep, Lock=asyncio.Lock))
    client = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    bucket, budget = shared_limits(client, 1, 50, 5, 1.0, 3.0)
    for _ in range(10):
        await bucket.acquire()
    assert clock[0] - 1000.0 == pytest.approx((10 - 5) / 50)  # the burst at once, then 50/s
    assert await budget.book(5) == 0 and await budget.book(5) == pytest.approx(1.0)
    await client.aclose()

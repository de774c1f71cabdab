"""Rate limits: a token bucket for the whole bot and a minimum spacing per chat."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """`rate` tokens per second, bursts up to `capacity`. `pause(s)` stops everyone for `s` seconds
    (Telegram's `retry_after`)."""

    def __init__(self, rate: float, capacity: float | None = None) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._tokens = 0.0

    async def acquire(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)


class ChatSpacing:
    """At most one message per `interval` seconds to the same chat (Telegram: about 1/s)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next: dict[int, float] = {}

    def reserve(self, chat_id: int) -> float:
        """Book the chat's next slot; returns how long to wait for it."""
        now = time.monotonic()
        slot = max(now, self._next.get(chat_id, 0.0))
        self._next[chat_id] = slot + self.interval
        if len(self._next) > 50_000:  # forget chats whose slot is long past
            self._next = {chat: at for chat, at in self._next.items() if at > now}
        return slot - now

"""Rate limits: a token bucket for the whole bot and a budget per chat shared with direct replies."""

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
            await self.take_locally()

    async def take_locally(self) -> None:
        """Wait for a token of this process's own bucket (the caller holds `_lock`)."""
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


class ChatBudget:
    """Telegram's per-chat limit (about one message a second in a private chat, 20 a minute in a
    group), kept in one place for everything one process sends: the outbox and direct replies.

    Virtual scheduling (GCRA): each chat has the time its budget is next free; a message books the
    earliest slot it may take and moves that time one interval on, so whoever sends, the chat never
    gets more than its budget. The outbox takes slots a whole interval apart (no burst: it leaves
    the chat's small burst to the member's own replies); a direct reply may use the burst Telegram
    tolerates (a few messages at once), minus a safety margin. After a 429 the chat is held for
    `retry_after` for everyone.

    In-process; with several processes, `bot.delivery.shared_limits.SharedChatBudget` keeps the
    same state in Redis (`book` is the awaitable form both offer).
    """

    def __init__(
        self,
        interval: float = 1.0,
        group_interval: float = 3.0,
        reply_burst: int = 3,
        margin: float = 0.5,
    ) -> None:
        self.interval = interval
        self.group_interval = group_interval
        self.reply_burst = reply_burst
        # A fraction of an interval kept free against timing jitter: a message sent later than its
        # slot (the event loop held up under CPU load, the outbox's render reading the database)
        # takes its place in Telegram's burst late, and the next ones on time would exceed it.
        # Measured up to ~0.4 s at a load of 11 on 2 cores; 0.2 let 3 runs of 10 get a 429.
        self.margin = margin
        self._next: dict[int, float] = {}
        self._held: dict[int, float] = {}

    def _interval_of(self, chat_id: int) -> float:
        return self.interval if chat_id > 0 else self.group_interval

    def reserve(self, chat_id: int, *, burst: int = 1) -> float:
        """Book the chat's next slot (`burst` > 1: may run ahead of the even pace by that many
        messages); returns how long to wait for it."""
        now = time.monotonic()
        interval = self._interval_of(chat_id)
        due = self._next.get(chat_id, now)
        tolerance = max(0.0, (burst - 1 - self.margin) * interval) if burst > 1 else 0.0
        slot = max(now, due - tolerance, self._held.get(chat_id, 0.0))
        self._next[chat_id] = max(slot, due) + interval
        if len(self._next) > 50_000:  # forget chats whose slot is long past
            self._next = {chat: at for chat, at in self._next.items() if at > now}
            self._held = {chat: at for chat, at in self._held.items() if at > now}
        return slot - now

    async def book(self, chat_id: int, *, burst: int = 1) -> float:
        """`reserve`, awaitable: the shared budget books its slots in Redis."""
        return self.reserve(chat_id, burst=burst)

    def reserve_reply(self, chat_id: int) -> float:
        """A direct reply's slot: it may use the chat's burst."""
        return self.reserve(chat_id, burst=self.reply_burst)

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram answered 429 for this chat: nobody sends to it for `seconds`."""
        now = time.monotonic()
        self._held[chat_id] = max(self._held.get(chat_id, 0.0), now + seconds)

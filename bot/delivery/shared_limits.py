"""Telegram's flood budget shared by every process of the bot through Redis (REDIS_URL).

`DELIVERY_RATE` is for the bot, not for each process: with several processes, the token bucket
for the whole bot and each chat's budget (see `bot.delivery.ratelimit`) live in Redis and every
process books its slots there. The booking is the same virtual scheduling (GCRA) as in-process,
done atomically by a Lua script on Redis's own clock (the processes' clocks may differ): a
message books the earliest free slot and moves the key's "next free" time one interval on; the
caller sleeps until its slot. A 429 holds the bot (or the chat) for `retry_after` for everyone.

If Redis does not answer, each process falls back to its own in-process budget (logged once per
outage; /healthz reports Redis down) rather than stop sending.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.delivery.ratelimit import ChatBudget, TokenBucket
from bot.logs import log_event
from bot.reply_requests import SENDS, ReplyBudgetMiddleware, _messages
from bot.request_types import Method, Next, Result

log = logging.getLogger(__name__)

# KEYS: next-free time, held-until time. ARGV: interval, tolerance (seconds). Returns the wait.
BOOK = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local due = tonumber(redis.call('GET', KEYS[1]) or now)
local held = tonumber(redis.call('GET', KEYS[2]) or 0)
local slot = math.max(now, due - tolerance, held)
local following = math.max(slot, due) + interval
local ttl = math.ceil((following - now) * 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.6f', following), 'PX', ttl)
return string.format('%.6f', slot - now)
"""
# KEYS: held-until time. ARGV: seconds.
HOLD = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local held = tonumber(redis.call('GET', KEYS[1]) or 0)
if until_ > held then
  redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


class _Redis:
    """The scripts, the key prefix and the fallback switch shared by both budgets."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._book = client.register_script(BOOK)
        self._hold = client.register_script(HOLD)
        self._failing = False
        self._background: set[asyncio.Task[Any]] = set()

    async def book(self, key: str, interval: float, tolerance: float) -> float | None:
        """Wait before the booked slot, or None when Redis failed (use the local budget)."""
        try:
            keys = [f"{self.prefix}:{key}:next", f"{self.prefix}:{key}:held"]
            wait = float(await self._book(keys=keys, args=[f"{interval:.6f}", f"{tolerance:.6f}"]))
        except Exception as error:
            if not self._failing:
                self._failing = True
                log_event(log, "redis_budget_unavailable", logging.ERROR, error=type(error).__name__)
            return None
        if self._failing:
            self._failing = False
            log_event(log, "redis_budget_back")
        return max(0.0, wait)

    def hold(self, key: str, seconds: float) -> None:
        """Fire and forget: the local budget holds at once, Redis tells the other processes."""

        async def send() -> None:
            try:
                await self._hold(keys=[f"{self.prefix}:{key}:held"], args=[f"{seconds:.3f}"])
            except Exception:
                log.debug("redis hold failed", exc_info=True)

        task = asyncio.get_running_loop().create_task(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class SharedTokenBucket(TokenBucket):
    """The bot's rate, booked in Redis (falls back to the in-process bucket)."""

    def __init__(self, shared: _Redis, rate: float, capacity: float | None = None) -> None:
        super().__init__(rate, capacity)
        self.shared = shared

    def pause(self, seconds: float) -> None:
        super().pause(seconds)
        self.shared.hold("bot", seconds)

    async def acquire(self) -> None:
        async with self._lock:  # this process's senders queue here, then book one slot each
            interval = 1.0 / self.rate
            wait = await self.shared.book("bot", interval, max(0.0, (self.capacity - 1) * interval))
            if wait is None:
                return await self.take_locally()
            if wait > 0:
                await asyncio.sleep(wait)


class SharedChatBudget(ChatBudget):
    """Each chat's budget, booked in Redis by the outbox and the direct replies of every process."""

    def __init__(self, shared: _Redis, interval: float = 1.0, group_interval: float = 3.0) -> None:
        super().__init__(interval, group_interval)
        self.shared = shared

    async def book(self, chat_id: int, *, burst: int = 1) -> float:
        interval = self._interval_of(chat_id)
        tolerance = max(0.0, (burst - 1 - self.margin) * interval) if burst > 1 else 0.0
        wait = await self.shared.book(f"chat:{chat_id}", interval, tolerance)
        return self.reserve(chat_id, burst=burst) if wait is None else wait

    def hold(self, chat_id: int, seconds: float) -> None:
        super().hold(chat_id, seconds)
        self.shared.hold(f"chat:{chat_id}", seconds)


def shared_limits(
    client: Any, bot_id: int, rate: float, capacity: float, interval: float, group_interval: float
) -> tuple[SharedTokenBucket, SharedChatBudget]:
    """Both budgets of the bot `bot_id` (keys `diaspora-bridge:<bot id>:...`, so several bots may
    share one Redis)."""
    shared = _Redis(client, f"diaspora-bridge:{bot_id}")
    return SharedTokenBucket(shared, rate, capacity), SharedChatBudget(shared, interval, group_interval)


class SharedReplyBudgetMiddleware(ReplyBudgetMiddleware):
    """`ReplyBudgetMiddleware` booking in Redis: a direct reply and an outbox message sent to the
    same chat by two processes still share that chat's budget."""

    budget: SharedChatBudget

    async def __call__(self, make_request: Next, bot: Bot, method: Method) -> Result:
        chat_id = getattr(method, "chat_id", None) if isinstance(method, SENDS) else None
        if not isinstance(chat_id, int):
            return await make_request(bot, method)
        burst = self.budget.reply_burst
        delay = max([await self.budget.book(chat_id, burst=burst) for _ in range(_messages(method))])
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            self.budget.hold(chat_id, error.retry_after)
            raise

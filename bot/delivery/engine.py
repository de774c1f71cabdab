"""The sender: drains the outbox at Telegram's speed limit, handling every kind of answer.

- 429: everyone waits exactly `retry_after`, the message goes back to the queue (not skipped,
  not doubled);
- 403 "blocked by the user" / "user is deactivated": the member is marked blocked and skipped
  from then on (their next message to the bot re-activates them);
- 400 "chat not found" (or a chat the bot may not write to): marked unreachable;
- 5xx and network errors: retried with capped exponential backoff, then failed with the reason.

Outcomes are written in small batches; a crash loses at most the outcomes of the messages in
flight, and those rows are sent again after the claim lease expires. Leases: every sender renews
its own claims and releases claims older than the lease every third of the lease, so the rows of
a sender that died are sent again once their claim passes the lease, however soon after the
crash the bot was restarted (and by whichever process is alive when several run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import (
    Claimed,
    Outcome,
    claim_due,
    record,
    release_claims,
    release_stale,
    renew_claims,
)
from bot.delivery.ratelimit import ChatBudget, TokenBucket
from bot.logs import log_event
from bot.metrics import MESSAGES, count_flood_wait
from storage.models import DeliveryStatus
from storage.types import utcnow

log = logging.getLogger(__name__)

# Builds the Bot API call for a claimed row; None means "no longer wanted" (e.g. cancelled).
Renderer = Callable[[Claimed], Awaitable[TelegramMethod[Any] | None]]
# Called every `report_interval` seconds (progress messages, finishing announcements).
Reporter = Callable[[], Awaitable[None]]
# Called once Telegram accepted a row's call, with what it returned (e.g. to keep a poll's id).
AfterSend = Callable[[Claimed, Any], Awaitable[None]]


@dataclass
class EngineConfig:
    rate: float = 25.0  # messages per second for the whole bot (Telegram allows about 30)
    per_chat_interval: float = 1.0  # seconds between two messages to one private chat
    per_group_interval: float = 3.0  # ... to one group (Telegram: 20 a minute)
    concurrency: int = 32  # requests in flight at once
    poll_interval: float = 0.5  # how often to look for due rows when idle
    lease: float = 60.0  # a claim older than this belongs to a dead sender
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    flush_interval: float = 0.2
    report_interval: float = 3.0
    # Unique per start: a restarted process may get the same host name and pid (PID 1 in a
    # container) and must not take the dead one's claims for its own.
    worker: str = field(default_factory=lambda: _worker_name())

    @property
    def batch(self) -> int:
        """Claim about one second of work at a time, so claims never outlive the lease."""
        return max(5, min(500, int(self.rate)))

    @property
    def lease_interval(self) -> float:
        """How often claims are renewed and stale ones released: well within the lease."""
        return max(0.1, min(self.lease / 3, 10.0))


def _worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


class DeliveryEngine:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        renderers: dict[str, Renderer],
        config: EngineConfig | None = None,
        reporters: list[Reporter] | None = None,
        after_send: dict[str, AfterSend] | None = None,
        budget: ChatBudget | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.renderers = renderers
        self.config = config or EngineConfig()
        self.reporters = reporters or []
        self.after_send = after_send or {}
        # A fifth of a second of burst: no wave of messages at start that Telegram could count
        # against the bot, and the configured rate is what is achieved.
        self.bucket = bucket or TokenBucket(self.config.rate, max(1.0, self.config.rate / 5))
        # Shared with the replies Bot (see bot.reply_requests) when the app builds both.
        self.budget = budget or ChatBudget(self.config.per_chat_interval, self.config.per_group_interval)
        self._outcomes: list[Outcome] = []
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.config.concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        # Claims and outcome writes take turns: on SQLite two writers of one process would
        # otherwise wait on each other in SQLite's busy handler, which sleeps.
        self._db_turn = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._drain(), name="delivery-drain"),
            asyncio.create_task(self._flush_loop(), name="delivery-flush"),
            asyncio.create_task(self._report_loop(), name="delivery-report"),
            asyncio.create_task(self._lease_loop(), name="delivery-leases"),
        ]

    @property
    def alive(self) -> bool:
        """Started, and none of its loops has ended (for /healthz)."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    def wake(self) -> None:
        """New rows were written: look now instead of at the next poll."""
        self._wake.set()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop sending. Never raises: it runs in the bot's shutdown, where an exception would leave
        aiogram's `stop_polling()` waiting forever for a signal set only after a clean shutdown.

        The loops end at their next turn, so no database write is cut in the middle (a cut outcome
        write would put sent rows back in the queue, to be sent again); a loop still busy after
        `grace` seconds (a flood wait, a database that does not answer) is cancelled. Messages in
        flight get `grace` seconds to finish; their outcomes are written, and rows claimed but
        never tried go back to the queue."""
        self._stopping.set()
        self._wake.set()
        tasks, self._tasks = self._tasks, []
        if tasks:
            _, busy = await asyncio.wait(tasks, timeout=grace)
            for task in busy:
                task.cancel()
            for task in tasks:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
                except Exception:
                    log.exception("delivery_loop_failed", extra={"fields": {"loop": task.get_name()}})
        if self._in_flight:
            await asyncio.wait(self._in_flight, timeout=grace)
        await self._flush()
        try:
            async with self.sessions() as session:  # claimed but never started: back to the queue
                await release_claims(session, self.config.worker)
        except Exception:  # released by the lease instead
            log.exception("outbox_release_failed")

    async def _pause(self, seconds: float) -> bool:
        """Sleep between two turns of a loop; True when the engine is stopping."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        return self._stopping.is_set()

    # -- draining ----------------------------------------------------------------------------

    async def _drain(self) -> None:
        while not self._stopping.is_set():
            try:
                async with self._db_turn, self.sessions() as session:
                    rows = await claim_due(session, self.config.worker, self.config.batch, utcnow())
            except Exception:
                log.exception("outbox_claim_failed")
                rows = []
            if not rows:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_interval)
                continue
            for row in rows:
                if self._stopping.is_set():  # the rest go back to the queue at the stop
                    break
                await self.bucket.acquire()
                await self._slots.acquire()
                task = asyncio.create_task(self._send(row, await self.budget.book(row.chat_id)))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

    async def _send(self, row: Claimed, delay: float) -> None:
        try:
            if delay > 0:
                await asyncio.sleep(delay)
            outcome = await self._attempt(row)
        except Exception as error:  # never lose a row to a bug: give it back for a later try
            log.exception("delivery_crashed", extra={"fields": {"row": row.id}})
            outcome = self._retry(row, f"internal: {type(error).__name__}")
        finally:
            self._slots.release()
        # Appended only after the await: `_flush` swaps the list in the meantime.
        self._outcomes.append(outcome)
        status = outcome.status
        MESSAGES.labels(row.kind, "retry" if status == DeliveryStatus.PENDING else str(status)).inc()

    async def _attempt(self, row: Claimed) -> Outcome:
        renderer = self.renderers.get(row.kind)
        method = await renderer(row) if renderer else None
        if method is None:
            return Outcome(row.id, DeliveryStatus.CANCELLED, row.attempts)
        try:
            result = await self.bot(method)
        except TelegramRetryAfter as error:
            self.bucket.pause(error.retry_after)
            self.budget.hold(row.chat_id, error.retry_after)
            count_flood_wait("outbox", error.retry_after)
            log_event(log, "flood_wait", logging.WARNING, retry_after=error.retry_after)
            retry_at = utcnow() + timedelta(seconds=error.retry_after)
            reason = f"TelegramRetryAfter: retry after {error.retry_after}"  # shown to the organizer
            return Outcome(row.id, DeliveryStatus.PENDING, row.attempts, error=reason, retry_at=retry_at)
        except TelegramForbiddenError as error:
            text = error.message.lower()
            status = (
                DeliveryStatus.BLOCKED
                if "blocked" in text or "deactivated" in text
                else DeliveryStatus.UNREACHABLE
            )
            return Outcome(row.id, status, row.attempts + 1, row.member_id, error=error.message)
        except TelegramBadRequest as error:
            if "chat not found" in error.message.lower():
                return Outcome(
                    row.id, DeliveryStatus.UNREACHABLE, row.attempts + 1, row.member_id, error=error.message
                )
            return Outcome(row.id, DeliveryStatus.FAILED, row.attempts + 1, error=error.message)
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as error:
            return self._retry(row, f"{type(error).__name__}: {error}")
        except TelegramAPIError as error:
            return Outcome(row.id, DeliveryStatus.FAILED, row.attempts + 1, error=error.message)
        message_id = getattr(result, "message_id", None)
        await self._after_send(row, result)
        return Outcome(row.id, DeliveryStatus.SENT, row.attempts + 1, message_id=message_id)

    async def _after_send(self, row: Claimed, result: Any) -> None:
        """The kind's hook, if any. The message is out whatever the hook does: a failing hook is
        logged, never a reason to send again."""
        hook = self.after_send.get(row.kind)
        if hook is None:
            return
        try:
            async with self._db_turn:
                await hook(row, result)
        except Exception:
            log.exception("after_send_failed", extra={"fields": {"row": row.id, "kind": row.kind}})

    def _retry(self, row: Claimed, reason: str) -> Outcome:
        attempts = row.attempts + 1
        if attempts >= self.config.max_attempts:
            return Outcome(row.id, DeliveryStatus.FAILED, attempts, error=reason)
        delay = min(self.config.backoff_cap, self.config.backoff_base * 2 ** (attempts - 1))
        retry_at = utcnow() + timedelta(seconds=delay)
        return Outcome(row.id, DeliveryStatus.PENDING, attempts, error=reason, retry_at=retry_at)

    # -- bookkeeping -------------------------------------------------------------------------

    async def _flush(self) -> None:
        if not self._outcomes:
            return
        batch, self._outcomes = self._outcomes, []
        try:
            async with self._db_turn, self.sessions() as session:
                await record(session, batch, utcnow())
        except BaseException as error:  # a cancelled write too: the final flush writes them
            self._outcomes[:0] = batch  # keep them for the next flush
            if not isinstance(error, Exception):
                raise
            log.exception("outbox_record_failed")

    async def _flush_loop(self) -> None:
        while not await self._pause(self.config.flush_interval):
            await self._flush()

    async def _keep_leases(self) -> None:
        """Renew this sender's claims, then release those of senders that died."""
        try:
            async with self._db_turn, self.sessions() as session:
                now = utcnow()
                await renew_claims(session, self.config.worker, now)
                released = await release_stale(session, now, timedelta(seconds=self.config.lease))
        except Exception:
            log.exception("outbox_lease_failed")
            return
        if released:
            log_event(log, "outbox_released", logging.WARNING, rows=released)
            self.wake()

    async def _lease_loop(self) -> None:
        await self._keep_leases()
        while not await self._pause(self.config.lease_interval):
            await self._keep_leases()

    async def _report_loop(self) -> None:
        while not await self._pause(self.config.report_interval):
            await self._flush()
            for reporter in self.reporters:
                try:
                    await reporter()
                except Exception:
                    log.exception("delivery_report_failed")

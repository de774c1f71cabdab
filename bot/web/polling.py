"""Long polling into the inbox: each batch `getUpdates` returns is stored in the inbox and committed
before the next `getUpdates` confirms it (its `offset`), and the same `InboxWorker` as in webhook
mode handles it; the transaction that stores the batch also claims for this process's worker the
updates it can start now (`InboxWorker.store_and_start`), so those need no claim of their own. A
process killed at any moment loses nothing: an update it fetched but did not store is still
unconfirmed, so Telegram gives it again to the next `getUpdates`; one it stored (claimed or not) is
handled by whichever process runs next (a claim of the dead process is released by the next
process's `take_over`, or after the lease); one fetched twice is stored once (`inbox.store_all`
ignores a known `update_id`).

Errors of `getUpdates` (network, 5xx, 409 conflict, anything unexpected) are logged and retried
with capped exponential backoff; a 429 waits its `retry_after`. The loop ends only when told to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logs import log_event
from bot.web import inbox
from bot.web.inbox_worker import InboxWorker

log = logging.getLogger(__name__)
POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits for updates (aiogram's default)
BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0


class RawGetUpdates(GetUpdates):
    """`getUpdates` answered with the updates' JSON as Telegram sent it (what the inbox keeps)."""

    __returning__ = list[dict[str, Any]]  # type: ignore[assignment]


@dataclass
class UpdatePoller:
    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    worker: InboxWorker
    allowed_updates: list[str] = field(kw_only=True)
    timeout: int = field(default=POLL_TIMEOUT, kw_only=True)
    offset: int | None = field(default=None, init=False)  # the next getUpdates confirms all below it
    running: bool = field(default=False, init=False)
    _failures: int = field(default=0, init=False)

    @property
    def alive(self) -> bool:
        return self.running

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch, store, confirm, until `stop` is set (a long poll under way is abandoned: what it
        would have returned is still unconfirmed). Never raises but for cancellation."""
        self.running = True
        try:
            while not stop.is_set():
                fetched = await _until(stop, self._fetch())
                if fetched is None:
                    continue
                if fetched and not await self._store(fetched):
                    await _until(stop, asyncio.sleep(self._backoff()))
                    continue
                if self._failures:
                    log_event(log, "poll_recovered", failures=self._failures)
                    self._failures = 0
        finally:
            self.running = False

    async def _fetch(self) -> list[dict[str, Any]] | None:
        """One long poll: its updates, or None after a failure (logged, then waited out here: a
        stop during the wait abandons it)."""
        method = RawGetUpdates(offset=self.offset, timeout=self.timeout, allowed_updates=self.allowed_updates)
        try:
            updates = await self.bot(method, request_timeout=int(self.bot.session.timeout + self.timeout))
        except TelegramRetryAfter as error:
            log_event(log, "poll_flood_wait", logging.WARNING, retry_after=error.retry_after)
            await asyncio.sleep(error.retry_after)
            return None
        except Exception as error:
            delay = self._backoff()
            log_event(
                log,
                "poll_failed",
                logging.WARNING if self._failures < 5 else logging.ERROR,
                error=type(error).__name__,
                detail=str(error)[:200],
                retry_in_s=round(delay, 2),
            )
            await asyncio.sleep(delay)
            return None
        return updates

    async def _store(self, updates: list[dict[str, Any]]) -> bool:
        """Keep the batch (one commit, with the claims of what the worker can start now), then
        move the offset past it. False if the database failed: the batch stays unconfirmed and comes
        back with the next getUpdates."""
        received: list[inbox.Received] = []
        for payload in updates:
            try:
                received.append(inbox.describe(payload))
            except (ValueError, TypeError, AttributeError):
                log_event(log, "poll_bad_update", logging.WARNING, update_id=str(payload.get("update_id")))
        try:
            await self.worker.store_and_start(received)
        except Exception:
            log.exception("poll_store_failed", extra={"fields": {"updates": len(updates)}})
            return False
        ids = [payload["update_id"] for payload in updates if isinstance(payload.get("update_id"), int)]
        if ids:
            self.offset = max(ids) + 1
        return True

    def _backoff(self) -> float:
        self._failures += 1
        delay = min(BACKOFF_MAX, BACKOFF_MIN * 2 ** (self._failures - 1))
        return delay * random.uniform(0.8, 1.2)


async def _until(stop: asyncio.Event, work: Any) -> Any:
    """`work`'s result, or None once `stop` is set (then `work` is cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None

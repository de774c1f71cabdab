"""Hands the inbox's updates to the Dispatcher: one worker per process, any number of processes.

The webhook only stores an update and wakes this process's worker; the worker claims what is due
(`bot.web.inbox.claim`: one update per free chat, oldest first) and feeds each to the Dispatcher in
its own task, `concurrency` at a time. `InboxMiddleware` (an outer middleware right after the
unit-of-work one) marks the update handled inside that unit of work and skips an update whose
claim was lost. Workers of other processes look every `poll_interval`, so an update posted to one
process may be handled by another, and a chat's next update is taken as soon as its previous one
is finished, wherever it was handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logs import log_event
from bot.web import inbox
from storage.models import InboxStatus
from storage.types import utcnow

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
RETENTION = timedelta(hours=48)  # finished updates are remembered this long (Telegram retries for 24 h)


@dataclass
class InboxClaim:
    """Passed to the Dispatcher with the update (`inbox_claim`); the middleware fills the flags."""

    update_id: int
    worker: str
    skipped: bool = False
    failed: bool = False


class InboxMiddleware(BaseMiddleware):
    """Outer, right after `DbSessionMiddleware`: marks the update handled in its own unit of work
    (committed before any reply leaves, by `CommitBeforeSendMiddleware`), or skips it. In long
    polling the update's id is recorded with the first commit, so an update Telegram delivers again after a
    crash (its offset was never confirmed) is not handled twice."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        claim: InboxClaim | None = data.get("inbox_claim")
        if claim is None:
            assert isinstance(event, Update)
            if await inbox.was_polled(data["session"], event.update_id):
                log_event(log, "update_repeated", update_id=event.update_id)
                return None
            inbox.record_polled_on_commit(data["session"], event.update_id, event.event_type)
            return await handler(event, data)
        if not await inbox.mark_handled(data["session"], claim.update_id, claim.worker, utcnow()):
            claim.skipped = True
            log_event(log, "inbox_skipped", logging.WARNING, update_id=claim.update_id)
            return None
        try:
            return await handler(event, data)
        except Exception:
            claim.failed = True
            raise


async def purge_handled(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Scheduler job (webhook and long polling alike): forget updates finished long ago."""
    async with sessions() as session:
        await inbox.purge(session, utcnow() - RETENTION)


class InboxWorker:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        *,
        worker: str,
        concurrency: int,
        lease: float,
        poll_interval: float = 0.2,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.sessions = sessions
        self.worker = worker
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def alive(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="inbox-claim"),
            asyncio.create_task(self._lease_loop(), name="inbox-leases"),
        ]

    def wake(self) -> None:
        self._wake.set()

    async def stop(self, grace: float) -> None:
        """Claim nothing more; updates being handled get `grace` seconds, then are cancelled (their
        unit of work rolls back); this worker's unfinished claims go back to the queue. Never raises."""
        self._stopping.set()
        self._wake.set()
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
                log_event(log, "inbox_updates_cut", logging.WARNING, updates=len(late))
        try:
            async with self.sessions() as session:
                back = await inbox.release_own(session, self.worker, utcnow())
            if back:
                log_event(log, "inbox_released", updates=back)
        except Exception:  # released by the lease instead
            log.exception("inbox_release_failed")

    async def _claim_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before claiming: a wake-up during the claim is not lost
            free = self.concurrency - len(self._in_flight)
            claimed: list[inbox.ClaimedUpdate] = []
            if free > 0:
                try:
                    async with self.sessions() as session:
                        claimed = await inbox.claim(session, self.worker, free, utcnow())
                except Exception:
                    log.exception("inbox_claim_failed")
            for item in claimed:
                task = asyncio.create_task(self._handle(item), name=f"inbox-{item.update_id}")
                self._in_flight.add(task)
                task.add_done_callback(self._finished)
            if not claimed or len(self._in_flight) >= self.concurrency:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._wake.set()  # a free slot, and maybe this chat's next update

    async def _handle(self, item: inbox.ClaimedUpdate) -> None:
        claim = InboxClaim(item.update_id, self.worker)
        status = InboxStatus.DONE
        try:
            update = Update.model_validate(item.payload, context={"bot": self.bot})
            await self.dispatcher.feed_update(self.bot, update, inbox_claim=claim)
        except Exception:
            log.exception("inbox_update_failed", extra={"fields": {"update_id": item.update_id}})
            status = InboxStatus.FAILED
        if claim.skipped:
            return
        if claim.failed:
            status = InboxStatus.FAILED
        try:
            async with self.sessions() as session:
                await inbox.finish(session, item.update_id, self.worker, status, utcnow())
        except Exception:  # the lease finishes it (it was marked handled) or hands it back
            log.exception("inbox_finish_failed", extra={"fields": {"update_id": item.update_id}})

    async def _lease_loop(self) -> None:
        interval = max(0.1, min(self.lease / 3, 10.0))
        while not self._stopping.is_set():
            try:
                async with self.sessions() as session:
                    now = utcnow()
                    await inbox.renew(session, self.worker, now)
                    back = await inbox.release_stale(session, now, timedelta(seconds=self.lease))
                if back:
                    log_event(log, "inbox_released", logging.WARNING, updates=back)
                    self.wake()
            except Exception:
                log.exception("inbox_lease_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)

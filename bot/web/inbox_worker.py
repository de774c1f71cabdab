"""Hands the inbox's updates to the Dispatcher: one worker per process, any number of processes.

The webhook only stores an update and wakes this process's worker; the worker claims what is due
(`bot.web.inbox.claim`: one update per free chat, oldest first) and feeds each to the Dispatcher in
its own task, `concurrency` at a time. The long-polling loop (`bot.web.polling`) stores a batch
through `store_and_start`: the same transaction claims for this worker what it can start now, and
those updates start at once (no claim round of their own). `InboxMiddleware` (an outer middleware
right after the unit-of-work one) marks the update handled inside that unit of work and skips an
update whose claim was lost; an update whose last commit was its handled-mark is finished by the
next claim, in its transaction (long polling: the next store's, as no claim round is woken while
nothing waits; at a stop or a crash, releasing the claims finishes what was handled). Workers of
other processes look every `poll_interval`, so an update posted to one process may be handled by
another, and a chat's next update is taken as soon as its previous one is finished, wherever it
was handled.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
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
from bot.web.mark_batches import MarkBatches
from storage.db import commit_due
from storage.models import InboxStatus
from storage.types import utcnow

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
LOOPS_GRACE_SECONDS = 5.0  # at a stop, the claim and lease loops get this long to end by themselves
CLAIM_AHEAD = 2  # long polling: updates claimed ahead of a free slot, in rounds of `concurrency`
RETENTION = timedelta(hours=48)  # finished updates are remembered this long (Telegram retries for 24 h)


@dataclass
class InboxClaim:
    """Passed to the Dispatcher with the update (`inbox_claim`); the middleware fills the flags.
    `fresh`: claimed a moment ago by this worker, whose lease loop keeps it (nobody can have
    released it yet: checking costs a query, and the handled-mark checks again anyway)."""

    update_id: int
    worker: str
    fresh: bool = False
    marks: MarkBatches | None = None  # where its handled-mark goes if it writes nothing of its own
    skipped: bool = False
    failed: bool = False
    finished: bool = False
    handled: bool = False  # its handled-mark committed with the last of its writes: finish it later


class InboxMiddleware(BaseMiddleware):
    """Outer, right after `UpdateMiddleware` (the unit of work): marks the update handled with its
    unit of work's first commit (before any reply leaves, by `CommitBeforeSendMiddleware`) and
    finished with its last one, or skips it (its claim was lost). Every update comes through the
    inbox (webhook and long polling alike), so every one carries its claim."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        claim: InboxClaim = data["inbox_claim"]
        session = data["session"]
        if not claim.fresh and not await inbox.holds(session, claim.update_id, claim.worker):
            return _skipped(claim)
        mark = inbox.mark_handled_on_commit(session, claim.update_id, claim.worker, claim.marks)
        try:
            result = await handler(event, data)
            if mark.written and not await commit_due(session):
                claim.handled = True  # nothing left to commit: the worker's next claim finishes it
                return result
            await mark.finish(utcnow())
        except inbox.ClaimLost:
            await session.rollback()  # nothing of this handling is kept, and no reply left for it
            return _skipped(claim)
        except Exception:
            claim.failed = True
            raise
        claim.finished = True
        return result


def _skipped(claim: InboxClaim) -> None:
    claim.skipped = True
    log_event(log, "inbox_skipped", logging.WARNING, update_id=claim.update_id)


async def purge_handled(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Scheduler job: forget updates finished long ago."""
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
        sole: bool = False,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.sessions = sessions
        self.worker = worker
        self.concurrency = concurrency
        self.lease = lease
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._news = False  # woken because updates were stored, not only because one finished
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._reserved = 0  # free slots a claim under way may fill (the claim loop's, the poller's)
        self._handled: list[int] = []  # updates handled and committed, finished with the next claim
        self._marks = MarkBatches(sessions.kw["bind"], worker)  # marks of updates that wrote nothing
        # Long polling: this process alone stores updates (`sole`), so it knows how many it stored or
        # got back from dead claims and has not claimed yet; while none, an update that ends wakes
        # no claim round (nothing waits for its slot or its chat): the poller's next store finishes
        # it (its chat's next update comes with that store), or the claim loop's timer when idle.
        self._sole = sole
        self._waiting = 0
        self._waiting_added = 0  # times `_waiting` grew (a claim round that saw none added may reset it)
        # Long polling: the store's transaction also claims, ahead of a free slot, updates of free
        # chats (`CLAIM_AHEAD` rounds of slots at most), started here as slots free: no claim round
        # of their own (under load every other update started through one: its session, its
        # statements, its trip and its commit, issue 15). Their claims are this worker's as any
        # other (the lease loop keeps them; a stop or a crash hands them back unhandled).
        self._ahead: collections.deque[tuple[inbox.ClaimedUpdate, float]] = collections.deque()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def alive(self) -> bool:
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    @property
    def idle(self) -> bool:
        """Nothing being handled, claimed ahead or about to be claimed here, and no update known
        to wait (what a test asks before it reads what the bot did)."""
        return not (self._in_flight or self._ahead or self._reserved or self._waiting)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._claim_loop(), name="inbox-claim"),
            asyncio.create_task(self._lease_loop(), name="inbox-leases"),
        ]

    def wake(self) -> None:
        """Updates were stored (or handed back): claim now."""
        self._news = True
        self._wake.set()

    async def store_and_start(self, batch: list[inbox.Received]) -> None:
        """Long polling: keep the batch and, in the same transaction, finish what this worker
        handled meanwhile and claim what it can start now (the oldest update of each free chat, as
        many as there are free slots, and for the sole process up to `CLAIM_AHEAD` rounds of slots
        more, started as slots free), then start those. An update left waiting (its chat busy, no
        slot free) is claimed when a slot or its chat frees, as any other. Raises if the database
        failed: nothing is stored, nothing claimed."""
        free = ahead = 0
        if not self._stopping.is_set():
            free = self._free()
            if self._sole:
                ahead = max(0, min(len(batch), CLAIM_AHEAD * self.concurrency - len(self._ahead)))
        claimed = await self._claim(free + ahead, batch=batch)
        self._start(claimed)
        self._more_waiting(len(batch) - len(claimed))  # (one stored twice counts once too many)
        if len(claimed) < len(batch):
            self._wake.set()  # a look (a read) finds whether a claim under way missed some

    async def _claim(
        self, free: int, *, batch: list[inbox.Received] | None = None, look_first: bool = False
    ) -> list[inbox.ClaimedUpdate]:
        """One claim transaction (storing `batch` first, if given): finish what this worker handled
        meanwhile and claim up to `free` updates, those slots reserved while it runs. If it fails,
        the handled updates wait for a later claim (or the lease) and the error is raised."""
        handled, self._handled = self._handled, []
        self._reserved += free
        try:
            async with self.sessions() as session:
                return await inbox.claim(
                    session,
                    self.worker,
                    free,
                    utcnow(),
                    look_first=look_first,
                    finished=handled,
                    stored=batch or (),
                )
        except Exception:
            self._handled = handled + self._handled
            raise
        finally:
            self._reserved -= free

    def _free(self) -> int:
        return max(0, self.concurrency - len(self._in_flight) - self._reserved - len(self._ahead))

    def _start(self, claimed: list[inbox.ClaimedUpdate]) -> None:
        """Start what was claimed, oldest claims first, as many as there are slots; the rest
        (claimed ahead) as slots free."""
        claimed_at = time.monotonic()
        self._ahead.extend((item, claimed_at) for item in claimed)
        while self._ahead and len(self._in_flight) < self.concurrency and not self._stopping.is_set():
            item, at = self._ahead.popleft()
            task = asyncio.create_task(self._handle(item, at), name=f"inbox-{item.update_id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)

    async def take_over(self) -> None:
        """Release every other worker's claims now (long polling: they are a dead process's)."""
        async with self.sessions() as session:
            back = await inbox.release_others(session, self.worker, utcnow())
        self._more_waiting(back)
        if back:
            log_event(log, "inbox_released", logging.WARNING, updates=back)
        self.wake()

    async def stop(self, grace: float) -> None:
        """Claim nothing more; updates being handled get `grace` seconds, then are cancelled (their
        unit of work rolls back); this worker's unfinished claims go back to the queue. Never raises."""
        self._stopping.set()
        self._wake.set()
        self._ahead.clear()  # claimed ahead, not started: handed back with the other claims below
        tasks, self._tasks = self._tasks, []
        if tasks:  # the loops end on their own (a database call cut by a cancel logs a traceback)
            _, stuck = await asyncio.wait(tasks, timeout=LOOPS_GRACE_SECONDS)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._in_flight:
            _, late = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
                log_event(log, "inbox_updates_cut", logging.WARNING, updates=len(late))
        await self._marks.drain()  # a batch under way is committed (or fails) before the release
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
            news, self._news = self._news, False
            free = self._free()
            claimed: list[inbox.ClaimedUpdate] = []
            if free > 0 or self._handled:
                added = self._waiting_added
                try:
                    claimed = await self._claim(free, look_first=not news)
                except Exception:
                    log.exception("inbox_claim_failed")
                else:
                    self._waiting = max(0, self._waiting - len(claimed))
                    held = claimed or self._in_flight or self._handled or self._reserved or self._ahead
                    if free > 0 and not held and added == self._waiting_added:
                        self._waiting = 0  # nothing claimable, no chat held here, none stored since
            self._start(claimed)
            if not claimed or len(self._in_flight) >= self.concurrency:
                # (`timeout` rather than `wait_for`: no task of its own for every round)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()

    def _more_waiting(self, count: int) -> None:
        if count > 0:
            self._waiting += count
            self._waiting_added += 1

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._start([])  # an update claimed ahead, if any, takes the slot
        if not self._sole or self._waiting > 0:
            self._wake.set()  # a free slot, and maybe this chat's next update

    async def _handle(self, item: inbox.ClaimedUpdate, claimed_at: float) -> None:
        fresh = time.monotonic() - claimed_at < self.lease / 4
        claim = InboxClaim(item.update_id, self.worker, fresh, marks=self._marks)
        status = InboxStatus.DONE
        try:
            update = Update.model_validate(item.payload, context={"bot": self.bot})
            await self.dispatcher.feed_update(self.bot, update, inbox_claim=claim)
        except Exception:
            log.exception("inbox_update_failed", extra={"fields": {"update_id": item.update_id}})
            status = InboxStatus.FAILED
        if claim.skipped or claim.finished:  # (finished: DONE with its unit of work's last commit)
            return
        if claim.handled and status == InboxStatus.DONE:
            self._handled.append(item.update_id)  # finished by the next claim or store transaction
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
                self._more_waiting(back)
                if back:
                    log_event(log, "inbox_released", logging.WARNING, updates=back)
                    self.wake()
            except Exception:
                log.exception("inbox_lease_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)

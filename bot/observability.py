"""Where the metrics of `bot.metrics` are taken: a Dispatcher middleware (updates, handler
latency), a request middleware of the replies Bot (429s), and a scheduler listener (lag)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import TelegramObject, Update
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.base import BaseScheduler

from bot.metrics import HANDLER_SECONDS, SCHEDULER_LAG, UPDATES, count_flood_wait
from bot.request_types import Method, Next, Result
from storage.types import utcnow

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateMetricsMiddleware(BaseMiddleware):
    """Outer, right after `UpdateLogMiddleware`, whose `trace` it reads: the same labels as the log."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await handler(event, data)
        except Exception:
            outcome = "error"
            raise
        finally:
            trace = data.get("trace") or {}
            name = trace.get("handler", "none")
            kind = event.event_type if isinstance(event, Update) else type(event).__name__
            UPDATES.labels(kind, name, trace.get("outcome", outcome)).inc()
            HANDLER_SECONDS.labels(name).observe(time.perf_counter() - started)


class FloodCountMiddleware(BaseRequestMiddleware):
    """Innermost on the replies Bot: counts every 429 before the retry middleware waits it out."""

    async def __call__(self, make_request: Next, bot: Bot, method: Method) -> Result:
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            count_flood_wait("replies", error.retry_after)
            raise


def watch_scheduler_lag(scheduler: BaseScheduler) -> None:
    def submitted(event: JobSubmissionEvent) -> None:
        if event.scheduled_run_times:
            lag = (utcnow() - max(event.scheduled_run_times)).total_seconds()
            SCHEDULER_LAG.labels(event.job_id).set(max(0.0, lag))

    scheduler.add_listener(submitted, EVENT_JOB_SUBMITTED)

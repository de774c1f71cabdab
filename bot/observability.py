"""Where the metrics of `bot.metrics` are taken: each update as it is logged (updates, handler
latency), a request middleware of the replies Bot (429s), and a scheduler listener (lag)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramRetryAfter
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.base import BaseScheduler

from bot.metrics import HANDLER_SECONDS, SCHEDULER_LAG, UPDATES, count_flood_wait
from bot.request_types import Method, Next, Result
from storage.types import utcnow

_observed: dict[tuple[str, str, str], tuple[Any, Any]] = {}  # labels: their counter, their histogram


def observe_update(kind: str, handler: str, outcome: str, seconds: float) -> None:
    """One handled update, for the metrics (called by `bot.middlewares.UpdateMiddleware`, which
    logs the same update with the same labels). Each set of labels' metrics is looked up once
    (`labels` checks and locks on every call: most of what counting an update cost)."""
    metrics = _observed.get((kind, handler, outcome))
    if metrics is None:
        labels = (kind, handler, outcome)
        metrics = _observed[labels] = (UPDATES.labels(*labels), HANDLER_SECONDS.labels(handler))
    metrics[0].inc()
    metrics[1].observe(seconds)


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

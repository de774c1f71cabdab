"""A request middleware on the bot's session: every Bot API call survives passing faults.

5xx answers, timeouts and dropped connections are retried with capped exponential backoff;
429 waits exactly `retry_after` as Telegram asks. Other errors (400, 403) are final and raised.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, TelegramMethod

from bot.logs import log_event
from bot.request_types import Method, Next, Result

log = logging.getLogger(__name__)


@dataclass
class RetryMiddleware(BaseRequestMiddleware):
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 300.0  # a longer flood wait is raised (the caller decides)

    async def __call__(self, make_request: Next, bot: Bot, method: Method) -> Result:
        if isinstance(method, GetUpdates):  # the polling loop has its own backoff
            return await make_request(bot, method)
        failures = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if error.retry_after > self.max_retry_after:
                    raise
                self._log(method, "flood_wait", retry_after=error.retry_after)
                await asyncio.sleep(error.retry_after)
            except (TelegramServerError, TelegramNetworkError) as error:
                failures += 1
                if failures >= self.attempts:
                    raise
                delay = min(self.max_delay, self.base_delay * 2 ** (failures - 1))
                delay *= random.uniform(0.8, 1.2)
                self._log(
                    method, "retry", attempt=failures, delay_s=round(delay, 2), error=type(error).__name__
                )
                await asyncio.sleep(delay)

    @staticmethod
    def _log(method: TelegramMethod[Any], event: str, **fields: Any) -> None:
        log_event(log, event, logging.WARNING, method=type(method).__name__, **fields)

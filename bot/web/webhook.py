"""The webhook endpoint: Telegram's post is stored in the inbox and committed before the 200.

A request without the right `X-Telegram-Bot-Api-Secret-Token` is refused (401) and logged without
its body. A database that does not answer gives a 500, so Telegram keeps the update and retries;
an `update_id` already stored is answered 200 and nothing more. While the process stops, posts are
answered 503: Telegram (or the reverse proxy) sends them again, to this process once it is back or
to another one.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logs import log_event
from bot.metrics import WEBHOOK_REQUESTS
from bot.web import inbox
from bot.web.inbox_worker import InboxWorker
from storage.types import utcnow

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookReceiver:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], secret: str, worker: InboxWorker) -> None:
        self.sessions = sessions
        self._secret = secret.encode()
        self.worker = worker
        self.accepting = True

    async def receive(self, request: web.Request) -> web.Response:
        if not self.accepting:
            WEBHOOK_REQUESTS.labels("unavailable").inc()
            return web.Response(status=503, text="stopping")
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            WEBHOOK_REQUESTS.labels("refused").inc()
            log_event(
                log,
                "webhook_refused",
                logging.WARNING,
                remote=request.remote or "-",
                reason="secret missing" if not given else "wrong secret",
            )
            return web.Response(status=401, text="unauthorized")
        try:
            received = inbox.describe(await request.json(loads=json.loads))
        except (ValueError, TypeError, UnicodeDecodeError):
            WEBHOOK_REQUESTS.labels("bad").inc()
            log_event(log, "webhook_bad_request", logging.WARNING, remote=request.remote or "-")
            return web.Response(status=400, text="not an update")
        async with self.sessions() as session:
            new = await inbox.store(session, received, utcnow())
            await session.commit()
        if new:
            WEBHOOK_REQUESTS.labels("accepted").inc()
            self.worker.wake()
        else:
            WEBHOOK_REQUESTS.labels("duplicate").inc()
            log_event(log, "webhook_duplicate", update_id=received.update_id)
        return web.Response(status=200)

"""`/healthz` and `/metrics` of one process.

`/healthz` answers 200 when this process can do its work, else 503, with a short JSON body: the
database answers, Redis answers (when configured), the scheduler runs, the delivery engine's loops
and the inbox worker's run (while the process serves updates), and in long polling the poller's.
In webhook mode it also reports what Telegram says about the webhook
(pending updates, last error), asked at most every `WEBHOOK_INFO_TTL` seconds: informative only,
since restarting this process would not fix what Telegram reports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.metrics import INBOX_DEPTH, OUTBOX_DEPTH, REGISTRY
from bot.web import inbox
from storage.models import DeliveryStatus, OutboxMessage

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
WEBHOOK_INFO_TTL = 30.0
CHECK_TIMEOUT = 3.0


async def outbox_depth(session: AsyncSession) -> dict[tuple[str, str], int]:
    """Rows waiting or being sent, by (kind, status)."""
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    rows = (
        await (await session.connection()).execute(
            select(table.c.kind, table.c.status, func.count())
            .where(table.c.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING]))
            .group_by(table.c.kind, table.c.status)
        )
    ).all()
    return {(str(kind), str(status)): int(count) for kind, status, count in rows}


class Health:
    def __init__(self, app: App, *, webhook: bool = False) -> None:
        self.app = app
        self.webhook = webhook
        self._webhook_info: dict[str, Any] = {}
        self._webhook_info_at = -WEBHOOK_INFO_TTL

    async def report(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {"database": await self._database()}
        if self.app.redis is not None:
            checks["redis"] = await self._redis()
        checks["scheduler"] = "ok" if self.app.scheduler.running else "stopped"
        checks["delivery"] = "ok" if self.app.delivery.alive else "stopped"
        if self.app.inbox is not None:
            checks["inbox"] = "ok" if self.app.inbox.alive else "stopped"
        if self.app.poller is not None:
            checks["polling"] = "ok" if self.app.poller.alive else "stopped"
        healthy = all(value == "ok" for value in checks.values())
        body: dict[str, Any] = {"status": "ok" if healthy else "unhealthy", "checks": checks}
        if self.webhook:
            body["webhook"] = await self._webhook()
        return healthy, body

    async def _database(self) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), self.app.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return "ok"
        except Exception as error:
            return f"error: {type(error).__name__}"

    async def _redis(self) -> str:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                await self.app.redis.ping()  # type: ignore[union-attr]
            return "ok"
        except Exception as error:
            return f"error: {type(error).__name__}"

    async def _webhook(self) -> dict[str, Any]:
        if time.monotonic() - self._webhook_info_at < WEBHOOK_INFO_TTL:
            return self._webhook_info
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                info = await self.app.bot.get_webhook_info()
            self._webhook_info = {
                "pending_update_count": info.pending_update_count,
                "last_error_message": info.last_error_message,
                "last_error_date": info.last_error_date.isoformat() if info.last_error_date else None,
            }
        except Exception as error:
            self._webhook_info = {"error": f"getWebhookInfo failed: {type(error).__name__}"}
        self._webhook_info_at = time.monotonic()
        return self._webhook_info

    async def healthz(self, request: web.Request) -> web.Response:
        healthy, body = await self.report()
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        """The registry, after reading the queues' depth from the database (skipped if it fails:
        the other metrics are still worth serving)."""
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), self.app.sessions() as session:
                outbox = await outbox_depth(session)
                waiting = await inbox.depth(session)
            OUTBOX_DEPTH.clear()
            for (kind, status), count in outbox.items():
                OUTBOX_DEPTH.labels(kind, status).set(count)
            for status, count in waiting.items():
                INBOX_DEPTH.labels(status).set(count)
        except Exception:
            log.exception("metrics_depth_failed")
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

"""`diaspora-bridge run`: updates in (long polling, the default, or `--webhook`), the inbox worker
that handles them, the delivery engine and the clock in one process. Both modes store each update
in the inbox before confirming it to Telegram (webhook: before the 200; long polling: before the
next getUpdates' offset), and the same worker handles it. Several webhook processes may run behind
one reverse proxy; only one process may long-poll a bot.

SIGTERM (or SIGINT) stops it gracefully and it exits 0: no more updates are taken in (webhook posts
are refused with 503 and Telegram retries them; the long poll under way is abandoned, its updates
still unconfirmed), the listener closes, updates being handled get `UPDATES_GRACE_SECONDS`
to finish, unfinished inbox claims and unstarted outbox claims go back to the queue for any
process, and the scheduler stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.app import UPDATES_GRACE_SECONDS, App, create_app
from bot.config import Settings
from bot.logs import log_event
from bot.metrics import PROCESS
from bot.services.organization_cache import sole_process
from bot.web.inbox_worker import InboxWorker
from bot.web.polling import UpdatePoller
from storage.fsm import SQLStorage

if TYPE_CHECKING:  # aiohttp's web server: imported when a listener is started (webhook, HEALTH_LISTEN)
    from bot.web.server import WebServer

log = logging.getLogger("bot")
# How often the worker looks for updates nobody woke it for: in webhook mode another process may
# have stored them; in long polling this process's poller wakes it, so this is only a safety net.
WEBHOOK_CLAIM_INTERVAL = 0.2
POLLING_CLAIM_INTERVAL = 1.0


def webhook_path(settings: Settings) -> str:
    """The path Telegram posts to: the path of WEBHOOK_URL (`/` becomes `/webhook`)."""
    path = urlsplit(settings.webhook_url or "").path
    return path if path not in ("", "/") else "/webhook"


def stop_signal() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


@contextlib.asynccontextmanager
async def _handling(app: App, mode: str, poll_interval: float) -> AsyncIterator[InboxWorker]:
    """The inbox worker and the Dispatcher's start-up (menus, delivery engine, clock) around the
    block; after it, the worker stops (updates being handled get `UPDATES_GRACE_SECONDS`, its
    unfinished claims go back to the queue) and then the shutdown handlers run."""
    settings, dispatcher = app.settings, app.dispatcher
    worker = InboxWorker(
        dispatcher,
        app.bot,
        app.sessions,
        worker=app.worker,
        concurrency=settings.max_concurrent_updates,
        lease=settings.delivery_lease_seconds,
        poll_interval=poll_interval,
        sole=mode == "polling",
    )
    PROCESS.info({"worker": app.worker, "mode": mode})
    workflow = {"dispatcher": dispatcher, "bots": [app.bot], **dispatcher.workflow_data}
    await dispatcher.emit_startup(bot=app.bot, **workflow)
    app.inbox = worker
    try:
        worker.start()
        yield worker
        log_event(log, "stopping", mode=mode)
    finally:
        await worker.stop(UPDATES_GRACE_SECONDS)
        await dispatcher.emit_shutdown(bot=app.bot, **workflow)
        app.inbox = app.poller = None
    log_event(log, "stopped", mode=mode)


async def serve_webhook(app: App, stop: asyncio.Event) -> None:
    """Run until `stop` is set, then stop gracefully (the caller closes the app)."""
    from bot.web.server import WebServer
    from bot.web.webhook import WebhookReceiver

    settings = app.settings
    assert settings.webhook_url is not None
    async with _handling(app, "webhook", WEBHOOK_CLAIM_INTERVAL) as worker:
        receiver = WebhookReceiver(app.sessions, settings.webhook_secret_token(), worker)
        server = WebServer(app, receiver=receiver, webhook_path=webhook_path(settings))
        try:
            address = await server.start(settings.webhook_listen)
            await app.bot.set_webhook(
                url=settings.webhook_url,
                secret_token=settings.webhook_secret_token(),
                allowed_updates=app.dispatcher.resolve_used_update_types(),
                max_connections=settings.webhook_max_connections,
                drop_pending_updates=False,
            )
            log_event(log, "webhook_listening", listen=address, url=settings.webhook_url, worker=app.worker)
            await stop.wait()
        finally:
            await server.stop()  # posts answered 503 from now on: Telegram sends them again


async def serve_polling(app: App, stop: asyncio.Event) -> None:
    """Long polling into the inbox until `stop` is set, then stop gracefully (the caller closes
    the app); `/healthz` and `/metrics` on HEALTH_LISTEN when it is set."""
    settings = app.settings
    async with _handling(app, "polling", POLLING_CLAIM_INTERVAL) as worker:
        app.poller = UpdatePoller(
            app.bot, app.sessions, worker, allowed_updates=app.dispatcher.resolve_used_update_types()
        )
        server: WebServer | None = None
        if settings.health_listen:
            from bot.web.server import WebServer

            server = WebServer(app)
        try:
            if server is not None and settings.health_listen:
                log_event(log, "health_listening", listen=await server.start(settings.health_listen))
            await app.bot.delete_webhook(drop_pending_updates=False)
            await worker.take_over()
            sole_process(app.engine)  # no other process writes what the update path's caches keep
            if isinstance(storage := app.dispatcher.fsm.storage, SQLStorage):
                storage.sole_process()  # nor dialog states
            log_event(log, "polling", worker=app.worker)
            await app.poller.run(stop)
        finally:
            if server is not None:
                await server.stop()


async def run_bot(settings: Settings, *, webhook: bool) -> int:
    """`diaspora-bridge run`: until SIGTERM or SIGINT, then exit 0 (or the start-up check's code)."""
    from bot.cli import check_bot

    stop = stop_signal()
    app = await create_app(settings)
    try:
        code = await check_bot(app, settings)
        if code is not None:
            return code
        await (serve_webhook if webhook else serve_polling)(app, stop)
        return 0
    finally:
        await app.close()


class BackgroundPolling:
    """`serve_polling` in a task of the running loop, for the sandbox and the tests: `task` ends
    when start-up fails or after `stop()`."""

    def __init__(self, app: App) -> None:
        self._stop = asyncio.Event()
        self.task = asyncio.create_task(serve_polling(app, self._stop), name="polling")

    async def stop(self, timeout: float) -> None:  # noqa: ASYNC109
        """Stop gracefully, waiting up to `timeout` seconds (then cancelled). Never raises."""
        self._stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self.task, timeout=timeout)

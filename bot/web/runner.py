"""`diaspora-bridge run --webhook`: the webhook server, the inbox worker, the delivery engine and
the clock in one process; several such processes may run behind one reverse proxy.

SIGTERM (or SIGINT) stops it gracefully and it exits 0: posts are refused with 503 from then on
(Telegram retries them), the listener closes, updates being handled get `UPDATES_GRACE_SECONDS`
to finish, unfinished inbox claims and unstarted outbox claims go back to the queue for any
process, and the scheduler stops.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from urllib.parse import urlsplit

from bot.app import UPDATES_GRACE_SECONDS, App, create_app
from bot.config import Settings
from bot.logs import log_event
from bot.metrics import PROCESS
from bot.web.inbox_worker import InboxWorker
from bot.web.server import WebServer
from bot.web.webhook import WebhookReceiver

log = logging.getLogger("bot")


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


async def serve_webhook(app: App, stop: asyncio.Event) -> None:
    """Run until `stop` is set, then stop gracefully (the caller closes the app)."""
    settings, dispatcher = app.settings, app.dispatcher
    assert settings.webhook_url is not None
    worker = InboxWorker(
        dispatcher,
        app.bot,
        app.sessions,
        worker=app.worker,
        concurrency=settings.max_concurrent_updates,
        lease=settings.delivery_lease_seconds,
    )
    receiver = WebhookReceiver(app.sessions, settings.webhook_secret_token(), worker)
    server = WebServer(app, worker=worker, receiver=receiver, webhook_path=webhook_path(settings))
    PROCESS.info({"worker": app.worker, "mode": "webhook"})
    workflow = {"dispatcher": dispatcher, "bots": [app.bot], **dispatcher.workflow_data}
    await dispatcher.emit_startup(bot=app.bot, **workflow)
    try:
        worker.start()
        address = await server.start(settings.webhook_listen)
        await app.bot.set_webhook(
            url=settings.webhook_url,
            secret_token=settings.webhook_secret_token(),
            allowed_updates=dispatcher.resolve_used_update_types(),
            max_connections=settings.webhook_max_connections,
            drop_pending_updates=False,
        )
        log_event(log, "webhook_listening", listen=address, url=settings.webhook_url, worker=app.worker)
        await stop.wait()
        log_event(log, "stopping", mode="webhook")
    finally:
        await server.stop()
        await worker.stop(UPDATES_GRACE_SECONDS)
        await dispatcher.emit_shutdown(bot=app.bot, **workflow)
    log_event(log, "stopped", mode="webhook")


async def run_webhook(settings: Settings) -> int:
    from bot.cli import check_bot

    stop = stop_signal()
    app = await create_app(settings)
    try:
        code = await check_bot(app, settings)
        if code is not None:
            return code
        await serve_webhook(app, stop)
        return 0
    finally:
        await app.close()

"""One aiohttp application per process: the webhook (webhook mode), `/healthz`, `/metrics`, and
members' calendar feeds (when PUBLIC_URL is set)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot.config import split_listen
from bot.web.health import Health

if TYPE_CHECKING:
    from bot.app import App
    from bot.web.webhook import WebhookReceiver

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 5.0  # requests in progress at a stop get this long (a webhook post takes ms)


class WebServer:
    def __init__(
        self,
        app: App,
        *,
        receiver: WebhookReceiver | None = None,
        webhook_path: str = "/webhook",
    ) -> None:
        self.app = app
        self.health = Health(app, webhook=receiver is not None)
        self.receiver = receiver
        self.webhook_path = webhook_path
        self._runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        application = web.Application(client_max_size=4 * 1024 * 1024)
        if self.receiver is not None:
            application.router.add_post(self.webhook_path, self.receiver.receive)
        application.router.add_get("/healthz", self.health.healthz)
        application.router.add_get("/metrics", self.health.metrics)
        if self.app.settings.public_url:
            from bot.web.calendar_feed import CalendarFeedRoute

            route = CalendarFeedRoute(self.app.sessions, self.app.i18n, self.app.settings)
            application.router.add_get("/calendar/{token}.ics", route.serve)
        return application

    async def start(self, listen: str) -> str:
        """Listen on `host:port` (port 0: any free one); returns the address actually bound."""
        host, port = split_listen(listen)
        self._runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        return f"{bound_host}:{bound_port}"

    async def stop(self) -> None:
        """Stop listening; requests in progress get `SHUTDOWN_TIMEOUT` seconds. Never raises."""
        if self.receiver is not None:
            self.receiver.accepting = False
        runner, self._runner = self._runner, None
        if runner is not None:
            try:
                await runner.cleanup()
            except Exception:
                log.exception("web_stop_failed")

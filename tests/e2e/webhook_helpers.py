"""Helpers for the webhook tests: the real bot as a separate process in webhook mode, and updates
posted to it the way Telegram posts them."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.sandbox import BotAPIEmulator, SimUser
from tests.bot_process import bot_environment, launch_bot
from tests.e2e.conftest import TOKEN

SECRET = "test-webhook-secret"


# The line a webhook process logs once it listens and has registered its webhook: where it listens.
LISTENING = re.compile(r"event=webhook_listening listen=(\S+)")
_LOGS = itertools.count()


class Front:
    """What stands before the bot's processes in production, a reverse proxy (here in the test's
    process): the URL the Bot API posts to, each post forwarded to the next process in `targets`
    (one that is gone or stopping is skipped). Its socket is bound here and now, on a port the
    system chose: no one else can take it, and its URL is known before any bot starts."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)  # posts wait in the backlog until `start`
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}/telegram"
        self.targets: list[str] = []
        self.turn = 0
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._http = aiohttp.ClientSession()
        application = web.Application()
        application.router.add_post("/telegram", self.forward)
        self._runner = web.AppRunner(application, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    async def forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {
            "X-Telegram-Bot-Api-Secret-Token": request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""),
            "Content-Type": "application/json",
        }
        for attempt in range(len(self.targets)):
            target = self.targets[(self.turn + attempt) % len(self.targets)]
            try:
                async with self._http.post(target, data=body, headers=headers, timeout=5) as response:
                    if response.status < 500:
                        self.turn += 1
                        return web.Response(status=response.status)
            except (aiohttp.ClientError, TimeoutError):
                continue
        return web.Response(status=502)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._socket.close()


class BotProcess:
    """`diaspora-bridge run` in webhook mode, listening on a port of its own: it binds one the
    system chooses and says which in its log (`ready` reads it: `base`), so no port is found free
    here and taken by someone else before the bot binds it. The Bot API posts to `webhook_url`,
    else to a `Front` of its own that forwards to it."""

    def __init__(
        self,
        emulator: BotAPIEmulator,
        workdir: Path,
        database_url: str,
        *,
        webhook_url: str | None = None,
        token: str = TOKEN,
        **extra_env: str,
    ) -> None:
        self.front = Front() if webhook_url is None else None
        self.base = ""  # http://host:port of its listener, once `ready`
        env = extra_env | bot_environment(
            workdir,
            BOT_TOKEN=token,
            TELEGRAM_API_URL=emulator.base_url,
            DATABASE_URL=database_url,
            WEBHOOK_URL=webhook_url or (self.front.url if self.front else ""),
            WEBHOOK_LISTEN="127.0.0.1:0",
            WEBHOOK_SECRET=SECRET,
            LOG_LEVEL="INFO",
        )
        self.log_path = workdir / f"bot-webhook-{next(_LOGS)}.log"
        self.process = launch_bot(["run", "--webhook"], workdir, env, stderr=self.log_path)

    @property
    def worker_prefix(self) -> str:
        """The start of this process's name in outbox and inbox claims."""
        return f"{socket.gethostname()[:40]}:{self.process.pid}:"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def ready(self, timeout: float = 120) -> None:
        """Wait until it listens and has registered its webhook (its log says so, and where), then
        until it answers /healthz. `timeout`: a guard against a bot that never starts."""
        deadline = time.monotonic() + timeout
        while not (listening := LISTENING.search(self.log)):
            assert self.process.poll() is None, f"the bot exited:\n{self.log}"
            assert time.monotonic() < deadline, f"the bot did not start:\n{self.log}"
            await asyncio.sleep(0.1)
        self.base = f"http://{listening[1]}"
        if self.front is not None:
            self.front.targets = [f"{self.base}/telegram"]
            await self.front.start()
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"the bot exited:\n{self.log}"
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise AssertionError(f"the bot is not healthy:\n{self.log}")

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Signal it and wait for it to exit (`timeout`: a guard, then SIGKILL); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        if self.front is not None:
            await self.front.stop()
            self.front = None
        return int(self.process.returncode)


def command_update(update_id: int, user: SimUser, text: str, message_id: int) -> dict[str, Any]:
    """A message update as Telegram posts it (a command at the start of the text)."""
    command = text.split()[0]
    who = {"id": user.id, "is_bot": False, "first_name": user.first_name, "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": who,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


async def post_update(url: str, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with aiohttp.ClientSession() as http, http.post(url, json=update, headers=headers) as response:
        return response.status


def replies_to(emulator: BotAPIEmulator, chat_id: int) -> list[dict[str, Any]]:
    return [
        call.params
        for call in emulator.calls
        if call.method == "sendMessage" and call.ok and call.params.get("chat_id") == chat_id
    ]

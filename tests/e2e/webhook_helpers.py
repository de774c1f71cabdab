"""Helpers for the webhook tests: the real bot as a separate process in webhook mode, and updates
posted to it the way Telegram posts them."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox import BotAPIEmulator, SimUser
from tests.bot_process import bot_environment, launch_bot
from tests.e2e.conftest import TOKEN

SECRET = "test-webhook-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """`diaspora-bridge run` in webhook mode, listening on its own port."""

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
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = extra_env | bot_environment(
            workdir,
            BOT_TOKEN=token,
            TELEGRAM_API_URL=emulator.base_url,
            DATABASE_URL=database_url,
            WEBHOOK_URL=webhook_url or f"{self.base}/telegram",
            WEBHOOK_LISTEN=f"127.0.0.1:{self.port}",
            WEBHOOK_SECRET=SECRET,
            LOG_LEVEL="INFO",
        )
        self.log_path = workdir / f"bot-{self.port}.log"
        self.process = launch_bot(["run", "--webhook"], workdir, env, stderr=self.log_path)

    @property
    def worker_prefix(self) -> str:
        """The start of this process's name in outbox and inbox claims."""
        return f"{socket.gethostname()[:40]}:{self.process.pid}:"

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def ready(self, timeout: float = 90) -> None:
        """Wait until it answers /healthz (it registers its webhook just after listening)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.process.poll() is None, f"the bot exited:\n{self.log}"
                try:
                    async with http.get(f"{self.base}/healthz") as response:
                        if response.status == 200:
                            await asyncio.sleep(0.3)  # setWebhook follows the listener
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"the bot did not start:\n{self.log}")

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            await asyncio.to_thread(self.process.wait, timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
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

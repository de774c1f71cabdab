"""`diaspora-bridge [run|migrate|backup|restore|sandbox]`: the one entry point (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from typing import TYPE_CHECKING

from bot.config import OFFICIAL_API_URL, Settings, SettingsError, load_settings
from bot.logs import log_event, setup_logging

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot")

NO_TOKEN_GUIDANCE = """\
Diaspora Bridge needs a Telegram bot token to talk to Telegram.

  1. In Telegram, open a chat with @BotFather and send /newbot.
  2. Choose a name and a username; BotFather answers with a token like 123456789:AAE...
  3. Put it in a file named .env next to the Makefile:   BOT_TOKEN=123456789:AAE...
     (deploy/.env.example lists every setting), then run `make run` again.

No token yet? `make sandbox` lets you chat with the real bot in your browser, with no token and
no internet. In a terminal, `make run` without a token starts it for you (set SANDBOX=0 to just
print this).
"""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"diaspora-bridge: {error}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    if args.command == "migrate":
        from storage.migrate import upgrade_to_head

        upgrade_to_head(settings.database_url)
        log_event(log, "migrated")
        return 0
    if args.command in ("backup", "restore"):
        from bot.backup import BackupError, backup, restore

        try:
            done = backup if args.command == "backup" else restore
            summary = done(
                settings.database_url,
                args.path,
                **({"force": args.force} if args.command == "restore" else {}),
            )
        except BackupError as error:
            print(f"diaspora-bridge {args.command}: {error}", file=sys.stderr)
            return 1
        print(summary)
        return 0
    if args.command == "sandbox":
        from bot.sandbox.runner import sandbox_main

        return sandbox_main(settings, host=args.host, port=args.port, demo=args.demo)
    if settings.bot_token is None:
        print(NO_TOKEN_GUIDANCE, flush=True)
        if not sys.stdin.isatty() or os.environ.get("SANDBOX") == "0":
            return 0
        from bot.sandbox.runner import sandbox_main

        return sandbox_main(settings, demo=True)
    webhook = args.command == "run" and (getattr(args, "webhook", False) or settings.webhook_url is not None)
    if webhook and settings.webhook_url is None:
        print(
            "diaspora-bridge: --webhook needs WEBHOOK_URL (the HTTPS address Telegram posts to)",
            file=sys.stderr,
        )
        return 2
    # No garbage collection while the bot's modules load and its app is built (some fifty full
    # collections of a heap that only grows, a few tenths of a second): the start-up collects
    # once and freezes what it built (`bot.aiogram_tuning.freeze_startup_heap`), then turns it on.
    gc.disable()
    from bot.web.runner import run_bot

    try:
        return asyncio.run(run_bot(settings, webhook=webhook))
    except KeyboardInterrupt:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="diaspora-bridge", description="Diaspora Bridge Telegram bot")
    commands = parser.add_subparsers(dest="command", metavar="{run,migrate,backup,restore,sandbox}")
    run = commands.add_parser("run", help="start the bot: long polling (the default) or webhook")
    run.add_argument(
        "--webhook", action="store_true", help="webhook mode (WEBHOOK_URL; on by itself when it is set)"
    )
    commands.add_parser("migrate", help="apply database migrations")
    backup = commands.add_parser("backup", help="copy the database to PATH (safe while the bot runs)")
    backup.add_argument("path", help="file to write (SQLite copy, or pg_dump archive for PostgreSQL)")
    restore = commands.add_parser("restore", help="load a backup from PATH into an empty database")
    restore.add_argument("path", help="a file written by `diaspora-bridge backup`")
    restore.add_argument("--force", action="store_true", help="replace a database that is not empty")
    sandbox = commands.add_parser("sandbox", help="chat with the bot in a browser: no token, no internet")
    sandbox.add_argument("--demo", action="store_true", help="seed a small demo community")
    sandbox.add_argument("--port", type=_port, default=8765, help="web page port (default 8765)")
    sandbox.add_argument("--host", default="127.0.0.1", help="web page address (default 127.0.0.1)")
    parser.set_defaults(command="run")
    return parser


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError("a port number from 0 to 65535")
    return int(value)


async def check_bot(app: App, settings: Settings) -> int | None:
    """Ask the Bot API who the bot is: None when it answers, else the exit code (the reason printed)."""
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    try:
        me = await app.bot.get_me()
    except TelegramUnauthorizedError:
        print(
            "diaspora-bridge: BOT_TOKEN was refused by the Bot API: check it with @BotFather.",
            file=sys.stderr,
        )
        return 2
    except TelegramNetworkError:
        where = settings.telegram_api_url
        hint = "" if where != OFFICIAL_API_URL else " (is this machine online?)"
        print(f"diaspora-bridge: cannot reach the Bot API at {where}{hint}.", file=sys.stderr)
        return 1
    log_event(log, "starting", bot_username=me.username, api=settings.telegram_api_url)
    return None

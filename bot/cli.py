"""`diaspora-bridge [run|migrate]`: the one entry point (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import OFFICIAL_API_URL, Settings, SettingsError, load_settings
from bot.logs import log_event, setup_logging

log = logging.getLogger("bot")

NO_TOKEN_GUIDANCE = """\
Diaspora Bridge needs a Telegram bot token to talk to Telegram.

  1. In Telegram, open a chat with @BotFather and send /newbot.
  2. Choose a name and a username; BotFather answers with a token like 123456789:AAE...
  3. Put it in a file named .env next to the Makefile:   BOT_TOKEN=123456789:AAE...
     (deploy/.env.example lists every setting), then run `make run` again.

No token yet? The offline sandbox lets you try the bot in your browser with no token and no
internet: `diaspora-bridge sandbox` (coming with the local Telegram emulator).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diaspora-bridge", description="Diaspora Bridge Telegram bot")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate"])
    args = parser.parse_args(argv)
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
    if settings.bot_token is None:
        print(NO_TOKEN_GUIDANCE)
        return 0
    try:
        return asyncio.run(run_polling(settings))
    except KeyboardInterrupt:
        return 0


async def run_polling(settings: Settings) -> int:
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError

    from bot.app import create_app

    app = await create_app(settings)
    try:
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
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(
            app.bot, allowed_updates=app.dispatcher.resolve_used_update_types(), handle_signals=True
        )
        return 0
    finally:
        await app.close()

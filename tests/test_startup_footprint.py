"""What the bot's start-up leaves loaded (issue 15: start-up time and idle memory).

The start-up runs in a process of its own (this test session has loaded everything long ago):
the app built on a fresh SQLite database and every language's command menu rendered, as
`diaspora-bridge run` does before its first getUpdates. The libraries only some actions need
(charts, spreadsheets, documents, calendars, the web server of webhook mode) and the CLDR data
of languages nobody has used yet must still be unloaded, and the pydantic schemas of the aiogram
types the bot never meets not built (bot/lazy_schemas.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.bot_process import bot_environment

HEAVY = (
    "matplotlib",  # charts (/stats)
    "openpyxl",  # spreadsheets (exports)
    "fpdf",  # joint position documents
    "uharfbuzz",
    "fontTools",
    "pypdf",
    "icalendar",  # calendar files
    "aiohttp.web",  # the webhook and HEALTH_LISTEN server
    "babel.messages.pofile",  # compiling a catalog (only when its .mo is stale)
)

START_UP = """
import asyncio, json, sys

import babel.localedata

from bot.commands import set_default_commands
from bot.config import Settings
from bot.web.runner import create_app  # what `diaspora-bridge run` imports


class Bot:  # the Bot API calls of the menus, answered at once
    async def set_my_commands(self, *args, **kwargs):
        return True


async def main():
    settings = Settings(bot_token="123456:TEST", database_url=sys.argv[1], default_language="en")
    app = await create_app(settings)
    try:
        await set_default_commands(Bot(), app.i18n, settings.default_language)
    finally:
        await app.close()


asyncio.run(main())
import aiogram.types
built = sorted(name for name in aiogram.types.__all__ if getattr(getattr(aiogram.types, name), "__pydantic_complete__", False))
print(json.dumps({"modules": sorted(sys.modules), "cldr": sorted(babel.localedata._cache), "built": built}))
"""
# Types a bot of communities never receives: their schemas must not be built at start-up.
NEVER_MET = (
    "Sticker",
    "StickerSet",
    "SuccessfulPayment",
    "Invoice",
    "LabeledPrice",
    "Giveaway",
    "PassportData",
)


def test_start_up_leaves_heavy_libraries_and_unused_locales_unloaded(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'start.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", START_UP, url],
        capture_output=True,
        text=True,
        env=bot_environment(tmp_path),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    modules = set(loaded["modules"])
    assert "bot.app" in modules and "handlers.events" in modules  # the start-up did run
    assert [name for name in HEAVY if name in modules] == []
    # The menus of all sixteen languages are rendered, yet no locale's CLDR data is read for them.
    assert set(loaded["cldr"]) <= {"root", "en"}
    # aiogram builds every type's schema at import (~3 s of CPU); only those used get built.
    assert [name for name in NEVER_MET if name in loaded["built"]] == []

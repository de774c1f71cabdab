"""`python -m bot.sandbox.screenshot out.png`: a demo sandbox opened in Chromium, for the README picture.

Starts a demo sandbox on a temporary database, selects a member, waits for the demo survey's invitation
and poll, sends /trainings, and saves a PNG. Needs the `playwright` package and a Chromium (Debian:
`apt-get install chromium`); it never downloads browsers.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from bot.config import load_settings
from bot.logs import setup_logging

from .runner import open_sandbox

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    found = shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).exists() else None


async def take(
    out: Path,
    member: str = "Fatou",
    commands: tuple[str, ...] = ("/trainings",),
    width: int = 1180,
    height: int = 900,
) -> None:
    from playwright.async_api import async_playwright

    executable = chromium_path()
    if executable is None:
        raise SystemExit("screenshot: Chromium is not installed (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite+aiosqlite:///{tmp}/sandbox.sqlite3"
        async with (
            open_sandbox(load_settings(), web_port=0, demo=True, database_url=database_url) as sandbox,
            async_playwright() as playwright,
        ):
            context = await playwright.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"),
                executable_path=executable,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height},
                locale="en-GB",
            )
            page = context.pages[0] if context.pages else await context.new_page()
            await page.goto(sandbox.url)
            await page.get_by_role("button", name=member).click()
            user = next(u for u in sandbox.emulator.users.values() if u.first_name == member)
            emulator = sandbox.emulator
            await emulator.wait_for(lambda emu: any("poll" in m for m in emu.transcript(user)), timeout=30)
            for command in commands:
                before = len(emulator.transcript(user))
                await page.get_by_label("Message", exact=True).fill(command)
                await page.keyboard.press("Enter")
                reply = await emulator.wait_for(
                    lambda emu, before=before: next(
                        (m for m in emu.transcript(user)[before:] if m["outgoing"]), None
                    ),
                    timeout=20,
                )
                await page.locator(f'[data-message-id="{reply["message_id"]}"]').wait_for()
            await page.wait_for_timeout(300)
            await page.screenshot(path=str(out))
            await context.close()


def main() -> None:
    if len(sys.argv) != 2 or not sys.argv[1].endswith(".png"):
        raise SystemExit("usage: python -m bot.sandbox.screenshot out.png")
    setup_logging("WARNING")
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(take(out))
    print(f"saved {out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()

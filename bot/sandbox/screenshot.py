"""Pictures of the demo sandbox, taken in Chromium, for the README and the guides in `docs/`.

    python -m bot.sandbox.screenshot out.png        the whole page: an organizer's chat with /trainings
    python -m bot.sandbox.screenshot --all docs/img the guides' pictures (SCENES), one PNG each

Each run starts a demo sandbox on a temporary database and drives its web page as a person would
(typing, clicking buttons); only poll votes of other members go straight to the emulator. Scene
pictures are cropped to the chat. Needs the `playwright` package and a Chromium (Debian:
`apt-get install chromium`; `fonts-noto-color-emoji` draws the emoji); it never downloads browsers.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.logs import setup_logging

from .emulator import BotAPIEmulator
from .runner import DEMO_POLL, open_sandbox
from .state import SimUser

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
WAIT = 30  # seconds for one step of a scene: generous, the machine may be busy


def chromium_path() -> str | None:
    """Debian's Chromium, if installed."""
    found = shutil.which("chromium") or "/usr/bin/chromium"
    return found if Path(found).exists() else None


def _text(message: dict[str, Any]) -> str:
    return message.get("text") or message.get("caption") or message.get("poll", {}).get("question", "")


@dataclass
class Stage:
    """The sandbox page and its emulator: one person's chat at a time."""

    page: Any  # playwright.async_api.Page
    emulator: BotAPIEmulator
    user: SimUser | None = None

    def _user(self) -> SimUser:
        if self.user is None:
            raise RuntimeError("open a chat first")
        return self.user

    def person(self, first_name: str) -> SimUser:
        return next(u for u in self.emulator.users.values() if u.first_name == first_name)

    async def open(self, first_name: str) -> SimUser:
        """Click the person in the list of users."""
        await self.page.get_by_role("button", name=first_name).first.click()
        self.user = self.person(first_name)
        await self.page.locator("#chat-meta", has_text=f"you are {first_name}").wait_for()
        return self.user

    async def create_user(self, first_name: str, language: str) -> SimUser:
        """Fill in the page's New user form (the new chat opens)."""
        await self.page.locator("#nu-name").fill(first_name)
        await self.page.locator("#nu-language").select_option(language)
        await self.page.get_by_role("button", name="Create user").click()
        await self.page.locator("#chat-meta", has_text=f"you are {first_name}").wait_for()
        self.user = self.person(first_name)
        return self.user

    async def _after(self, action: Callable[[], Awaitable[None]], expect: str) -> dict[str, Any]:
        """Do ``action``, then wait until a bot message new or changed since shows ``expect``,
        in the emulator and on the page; returns that message."""
        user = self._user()
        seen = {json.dumps(m, sort_keys=True) for m in self.emulator.transcript(user)}
        await action()

        def shown(emulator: BotAPIEmulator) -> dict[str, Any] | None:
            return next(
                (
                    m
                    for m in emulator.transcript(user)
                    if m["outgoing"] and expect in _text(m) and json.dumps(m, sort_keys=True) not in seen
                ),
                None,
            )

        message = await self.emulator.wait_for(shown, timeout=WAIT)
        row = self.page.locator(f'[data-message-id="{message["message_id"]}"]')
        await row.filter(has_text=expect.split("\n")[0][:40]).wait_for(timeout=WAIT * 1000)
        return message

    async def send(self, text: str, expect: str) -> dict[str, Any]:
        """Type ``text`` in the message box and send it; wait for the bot's answer showing ``expect``."""

        async def typed() -> None:
            await self.page.get_by_label("Message", exact=True).fill(text)
            await self.page.keyboard.press("Enter")

        return await self._after(typed, expect)

    async def press(self, message: dict[str, Any], label: str, expect: str) -> dict[str, Any]:
        """Click the inline button ``label`` under ``message``; wait for the answer showing ``expect``."""
        row = self.page.locator(f'[data-message-id="{message["message_id"]}"]')
        button = row.locator(".kb-btn", has_text=label).first
        return await self._after(button.click, expect)

    async def wait_for_message(self, expect: str, after: dict[str, Any] | None = None) -> dict[str, Any]:
        """A bot message showing ``expect``, sent already or on its way (from the outbox), later than
        ``after`` if given."""
        user = self._user()
        since = after["message_id"] if after else 0
        message = await self.emulator.wait_for(
            lambda emulator: next(
                (
                    m
                    for m in emulator.transcript(user)
                    if m["outgoing"] and m["message_id"] > since and expect in _text(m)
                ),
                None,
            ),
            timeout=WAIT,
        )
        await self.page.locator(f'[data-message-id="{message["message_id"]}"]').wait_for(timeout=WAIT * 1000)
        return message

    async def shot(self, out: Path, first: dict[str, Any] | None = None) -> None:
        """Save the chat column, scrolled so that ``first`` is at the top (else the newest messages)."""
        await self.page.wait_for_function("[...document.images].every((image) => image.complete)")
        await self.page.mouse.move(0, 0)  # no button left highlighted under the pointer
        await self.page.evaluate(
            """(id) => {
              document.querySelector("#toast").hidden = true;  // a button's passing notice
              const list = document.querySelector("#messages");
              const row = id === null ? null : document.querySelector(`[data-message-id="${id}"]`);
              list.scrollTop = row === null ? list.scrollHeight
                : list.scrollTop + row.getBoundingClientRect().top - list.getBoundingClientRect().top - 8;
            }""",
            None if first is None else first["message_id"],
        )
        await self.page.locator("#chat").screenshot(path=str(out), animations="disabled")


async def member_start(stage: Stage, out: Path) -> None:
    """A newcomer opens the bot: the greeting and the language picker, each language in its own name."""
    await stage.create_user("Sam", "en")
    await stage.send("/start", "Which language")
    await stage.shot(out)


async def member_events(stage: Stage, out: Path) -> None:
    """/events, one event's card, and the answer Going."""
    await stage.open("Emily")
    listing = await stage.send("/events", "upcoming events")
    card = await stage.press(listing, "1. Diaspora general assembly", "Maison des associations")
    await stage.press(card, "Going", "going")
    await stage.shot(out, listing)


async def member_training(stage: Stage, out: Path) -> None:
    """/trainings: a training's card with its sessions, seats and the Sign up button."""
    await stage.open("Emily")
    listing = await stage.send("/trainings", "open for sign-up")
    await stage.wait_for_message("Grant writing", after=listing)
    await stage.shot(out, listing)


async def organizer_announcement(stage: Stage, out: Path) -> None:
    """/announce: the text, the composer card and its preview."""
    await stage.open("Admin")
    await stage.send("/announce", "New announcement")
    card = await stage.send(
        "🎉 Summer picnic on Saturday 27 June at noon, Parc de la Tête d'Or. Bring a dish from home!",
        "It reaches",
    )
    await stage.press(card, "Preview", "Summer picnic")
    await stage.shot(out, card)


async def coordinator_results(stage: Stage, out: Path) -> None:
    """Members vote on the demo's quick poll; /results shows the counts and the chart."""
    votes = {"Fatou": 0, "Oksana": 1, "Amina": 0, "Carlos": 0, "João": 1, "Wanjiru": 0, "Ivan": 0}
    for name, option in votes.items():
        voter = stage.person(name)
        poll = await stage.emulator.wait_for(
            lambda emulator, voter=voter: next((m for m in emulator.transcript(voter) if "poll" in m), None),
            timeout=WAIT,
        )
        await stage.emulator.answer_poll(voter, poll["message_id"], [option])
    await stage.open("Admin")
    listing = await stage.send("/results", "Your surveys")
    summary = await stage.press(listing, DEMO_POLL, f"{len(votes)} responses")
    await stage.wait_for_message("Which day suits you", after=summary)
    await stage.shot(out, summary)


async def admin_roles(stage: Stage, out: Path) -> None:
    """/admin and the list of who holds which role."""
    await stage.open("Admin")
    menu = await stage.send("/admin", "Administration")
    await stage.press(menu, "Who has which role", "Oksana")
    await stage.shot(out, menu)


SCENES: dict[str, Callable[[Stage, Path], Awaitable[None]]] = {
    "member-start.png": member_start,
    "member-events.png": member_events,
    "member-training.png": member_training,
    "organizer-announcement.png": organizer_announcement,
    "coordinator-results.png": coordinator_results,
    "admin-roles.png": admin_roles,
}


@asynccontextmanager
async def demo_stage(width: int, height: int) -> AsyncIterator[Stage]:
    """A fresh demo sandbox and a Chromium page on it."""
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
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                await page.goto(sandbox.url)
                yield Stage(page, sandbox.emulator)
            finally:
                await context.close()


async def take(out: Path) -> None:
    """The whole page: the organizer Fatou's chat with the survey, the poll and /trainings."""
    async with demo_stage(1180, 900) as stage:
        await stage.open("Fatou")
        await stage.wait_for_message("?")  # the quick poll's question
        await stage.send("/trainings", "Rédiger")
        await stage.page.screenshot(path=str(out))


async def take_all(folder: Path) -> list[Path]:
    """Every scene on one demo sandbox (scenes do not undo each other: keep their order)."""
    written = [folder / "sandbox.png"]
    await take(written[0])
    async with demo_stage(1020, 860) as stage:
        for name, scene in SCENES.items():
            await scene(stage, folder / name)
            written.append(folder / name)
    return written


def main() -> None:
    arguments = sys.argv[1:]
    if len(arguments) == 2 and arguments[0] == "--all":
        folder = Path(arguments[1])
    elif len(arguments) == 1 and arguments[0].endswith(".png"):
        folder = None
    else:
        raise SystemExit("usage: python -m bot.sandbox.screenshot out.png | --all FOLDER")
    setup_logging("WARNING")
    if folder is None:
        out = Path(arguments[0])
        out.parent.mkdir(parents=True, exist_ok=True)
        asyncio.run(take(out))
        written = [out]
    else:
        folder.mkdir(parents=True, exist_ok=True)
        written = asyncio.run(take_all(folder))
    for path in written:
        print(f"saved {path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()

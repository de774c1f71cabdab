"""The real bot (Dispatcher + middlewares + routers) polling the Bot API emulator over HTTP,
inside the test's event loop. Tests speak as users through the emulator and read what the bot sent."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import I18n

from bot.app import UPDATES_GRACE_SECONDS, App, create_app
from bot.config import Settings
from bot.sandbox import BotAPIEmulator, Faults, Limits, SimUser
from bot.services.members import TelegramIdentity, complete_profile, record_consent, update_profile
from bot.web.runner import BackgroundPolling
from storage.db import create_engine, create_session_factory
from tests.templates import migrated_copy

TOKEN = "123456:TEST-token"
# How long the harness waits for the bot's answer before failing: a guard against an answer that
# never comes, not a bound on time (a loaded machine answers late, and the wait ends at the answer).
GUARD = 30.0
SUPER_ADMIN_ID = 990001


@dataclass
class Harness:
    emulator: BotAPIEmulator
    app: App
    settings: Settings
    polling: BackgroundPolling | None = None
    seen: dict[int, int] = field(default_factory=dict)

    @property
    def i18n(self) -> I18n:
        return self.app.i18n

    def t(self, message_id: str, locale: str, plural: str | None = None, n: int = 1, **values: Any) -> str:
        """What the bot should say, from the catalogs (so tests prove the language, not a copy)."""
        text = self.i18n.gettext(message_id, plural, n, locale=locale)
        return text.format(**values) if values else text

    async def send(self, user: SimUser, text: str) -> dict[str, Any]:
        """Send a text and return the bot's next message to that user."""
        await self.emulator.send_text(user, text)
        return await self.reply(user)

    async def reply(self, user: SimUser, timeout: float = GUARD) -> dict[str, Any]:
        return await self.emulator.next_bot_message(user.id, timeout=timeout)

    async def press(self, user: SimUser, message: dict[str, Any], text: str, timeout: float = GUARD) -> str:
        """Press the inline button labelled `text` (exact, or the only one containing it); wait up
        to `timeout` seconds for the bot to answer it."""
        current = self.message(user, message["message_id"])
        labels = [button["text"] for row in _keyboard(current) for button in row]
        exact = [label for label in labels if label == text] or [label for label in labels if text in label]
        assert len(exact) == 1, f"no single button {text!r} among {labels}"
        query_id = await self.emulator.press_button(user, current, text=exact[0])
        await self.emulator.wait_for(
            lambda emu: emu.callback_answers.get(query_id) is not None, timeout=timeout
        )
        return query_id

    async def choose(self, user: SimUser, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Press the button labelled `text` and return the bot's next message to that user."""
        await self.press(user, message, text)
        return await self.reply(user)

    async def forge(self, user: SimUser, message: dict[str, Any], data: str | CallbackData) -> str:
        """Press a button the bot never sent on `message`: callback data of the test's making (no
        more than the 64 bytes Telegram carries). Returns the toast the bot answered with."""
        packed = data if isinstance(data, str) else data.pack()
        assert len(packed.encode()) <= 64, packed
        query = await self.emulator.press_button(user, message, callback_data=packed, forge=True)
        await self.emulator.wait_for(lambda emu: emu.callback_answers.get(query) is not None, timeout=GUARD)
        return self.emulator.callback_answers[query]["text"]

    def apologized(self, user: SimUser, locale: str = "en") -> bool:
        """Whether the bot ever sent `user` its apology for an error on its side."""
        apology = self.t("😕 Sorry, something went wrong on my side. Please try again in a moment.", locale)
        return any(m.get("text") == apology for m in self.emulator.transcript(user.id) if m["outgoing"])

    def message(self, user: SimUser, message_id: int) -> dict[str, Any]:
        """A message of the chat in its current state (after edits)."""
        for item in self.emulator.transcript(user.id):
            if item["message_id"] == message_id:
                return item
        raise LookupError(f"message {message_id} is not in the chat any more")

    async def edited(self, user: SimUser, message: dict[str, Any], timeout: float = GUARD) -> dict[str, Any]:
        """Wait until the bot has edited `message`, and return its new state."""
        before = message.get("text") or message.get("caption")

        def changed(_: BotAPIEmulator) -> bool:
            current = self.message(user, message["message_id"])
            return (current.get("text") or current.get("caption")) != before

        await self.emulator.wait_for(changed, timeout=timeout)
        return self.message(user, message["message_id"])


def _keyboard(message: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return (message.get("reply_markup") or {}).get("inline_keyboard", [])


def buttons(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in _keyboard(message) for button in row]


TEARDOWN_SECONDS = 60


def bot_api(limits: Limits | None = None, faults: Faults | None = None) -> BotAPIEmulator:
    """The Bot API our bot talks to (its token, its username), without flood control unless told."""
    return BotAPIEmulator(
        token=TOKEN,
        limits=limits or Limits(flood_control=False),
        faults=faults or Faults(),
        bot_username="diaspora_bridge_bot",
    )


async def start_harness(
    database_url: str, *, limits: Limits | None = None, faults: Faults | None = None, **overrides: Any
) -> AsyncIterator[Harness]:
    emulator = bot_api(limits, faults)
    base_url = await emulator.start(host="127.0.0.1", port=0)
    if not emulator.limits.flood_control:
        # No flood control to respect: the bot's own per-chat pacing would only slow the dialogs
        # down (a test types far faster than a person). Flood tests keep the real interval.
        overrides.setdefault("chat_interval", 0.01)
    settings = Settings(
        bot_token=TOKEN,
        telegram_api_url=base_url,
        database_url=database_url,
        admin_ids=frozenset({SUPER_ADMIN_ID}),
        **overrides,
    )
    harness = Harness(emulator, await create_app(settings, migrate=_needs_migrating(database_url)), settings)
    try:
        await _start_polling(harness)  # a start-up that fails closes the App too (its routers back)
        yield harness
    finally:
        # Bounded: a teardown that never returns (seen once on PostgreSQL, the loop idle with no
        # timer) must not hang the whole suite; it is reported instead.
        for step, stop in (("app", _stop_polling(harness)), ("emulator", emulator.stop())):
            try:
                await asyncio.wait_for(stop, timeout=TEARDOWN_SECONDS)
            except TimeoutError:
                warnings.warn(
                    f"e2e teardown: stopping the {step} took over {TEARDOWN_SECONDS} s", stacklevel=1
                )


def _needs_migrating(database_url: str) -> bool:
    """False for a copy of the migrated template: `upgrade_to_head` would only find it at the
    newest schema (a thread, an event loop, an engine and a query: some 20 ms an App)."""
    return not migrated_copy(database_url)


async def _start_polling(harness: Harness) -> None:
    app, emulator = harness.app, harness.emulator
    before = {id(call) for call in emulator.calls}
    harness.polling = polling = BackgroundPolling(app)
    await emulator.wait_for(
        lambda emu: (
            polling.task.done()
            or any(call.method.lower() == "getupdates" and id(call) not in before for call in emu.calls)
        ),
        timeout=15,
    )
    if polling.task.done():
        polling.task.result()  # start-up failed: raise why


async def _stop_polling(harness: Harness) -> None:
    if harness.polling is not None:
        await harness.polling.stop(timeout=UPDATES_GRACE_SECONDS + 5)
    await harness.app.close()


async def restart_bot(harness: Harness) -> None:
    """Stop the bot (polling, delivery, scheduler; nothing kept in memory) and start a new one on
    the same database and emulator, as after a crash or a deployment."""
    await _stop_polling(harness)
    harness.app = await create_app(harness.settings, migrate=_needs_migrating(harness.settings.database_url))
    await _start_polling(harness)


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    """An emulator of its own, for the tests that start the bot as a process (`tests.bot_process`)."""
    async with bot_api() as emulator:
        yield emulator


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Any]:
    """The migrated database's sessions (a copy of the migrated template: a bot process started on
    it migrates nothing more)."""
    engine = create_engine(migrated_url)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def harness(migrated_url: str) -> AsyncIterator[Harness]:
    async for running in start_harness(migrated_url):
        yield running


@pytest.fixture
def registered(harness: Harness):  # type: ignore[no-untyped-def]
    """Given a member who has consented and filled a profile (set up directly in the database)."""

    async def make(
        name: str, language: str, username: str | None = None, telegram_language: str | None = None
    ):
        user = harness.emulator.create_user(
            name, username=username, language_code=telegram_language or language
        )
        async with create_session_factory(harness.app.engine)() as session:
            member = await record_consent(
                session,
                TelegramIdentity(user.id, username, name),
                language,
                harness.settings.default_timezone,
                harness.app.dispatcher["organization"].id,
            )
            await update_profile(session, member, display_name=name, origin_country="SN")
            await complete_profile(session, member)
            await session.commit()
        return user

    return make

"""The crash tests' kit: the real bot process (long polling) against the emulator, killed with
SIGKILL at a seeded random moment and restarted at once, then killed again and restarted after the
claim lease; people who act like people (they answer what the bot last asked, and try again when
the bot said nothing); and the checks every scenario shares.

Seeded: `CRASH_SEED` (printed in every assertion message, so a failure replays) and `CRASH_ROUNDS`
(how many times each scenario runs, each round with kill points of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select

from bot.sandbox import BotAPIEmulator, SimUser
from bot.services import events as event_service
from storage.db import create_engine, create_session_factory
from storage.models import (
    DeliveryStatus,
    Member,
    OutboxMessage,
    Reminder,
    ReminderStatus,
)
from storage.types import utcnow
from tests.bot_process import bot_environment, launch_bot, spares_loaded
from tests.e2e.conftest import TOKEN
from tests.e2e.helpers import bot_organization, consented

SEED = int(os.environ.get("CRASH_SEED", "1789"))
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "1"))
LEASE = 2.0  # DELIVERY_LEASE_SECONDS of the bot: "after the lease" is a short wait
WAIT = 120.0  # generous: the machine may be loaded; every wait is for a condition
PATIENCE = 10.0  # how long a person waits for an answer before acting again
# After a restart, once the new process has fetched every update waiting for it: this long with no
# answer and the person's message was lost at the kill (handled by the killed process, which sent
# nothing; its redelivery is skipped). Waiting their whole patience would only pass the time.
LOST_AFTER = 3.0
CHARTS_CACHE = Path(tempfile.gettempdir()) / "diaspora-bridge-tests-matplotlib"
APOLOGY = "😕 Sorry, something went wrong on my side. Please try again in a moment."

Counted = Callable[[], int]


class CrashBot:
    """`diaspora-bridge run` (long polling) on one database, started, killed and started again."""

    def __init__(
        self, emulator: BotAPIEmulator, workdir: Path, database_url: str, scenario: str, round_: int
    ) -> None:
        self.emulator = emulator
        self.workdir = workdir
        self.database_url = database_url
        self.rng = random.Random(f"{SEED}/{scenario}/{round_}")
        self.tag = f"[CRASH_SEED={SEED} scenario={scenario} round={round_}]"
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self.kills: list[int] = []  # the kill points drawn (how many calls were seen)
        # Per chat, how many outbox rows to it were claimed (being sent) at a kill, kill after kill:
        # each may arrive once more; a row in flight at both kills, twice more.
        self.in_flight: Counter[int] = Counter()
        self.starts = 0  # how many processes started polling so far

    def say(self, message: str) -> str:
        """An assertion message that says how to replay the run."""
        return f"{self.tag} kills at {self.kills}: {message}"

    async def start(self) -> None:
        """Start the bot; return once the new process polls (its first getUpdates call: counting
        calls would not do, as the killed process's long poll still waiting is dropped from the
        calls when the new one ends it, and the count grew only at the next poll, 10 s on)."""
        if not self.logs:  # the restart at once will find a spare interpreter loaded
            await spares_loaded()
        began = self.emulator.now()
        path = self.workdir / f"bot-{len(self.logs)}.log"
        self.logs.append(path)
        env = bot_environment(
            self.workdir,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=self.emulator.base_url,
            DATABASE_URL=self.database_url,
            LOG_LEVEL="INFO",
            DELIVERY_LEASE_SECONDS=str(LEASE),
            CHAT_INTERVAL="0.05",  # no flood control in the emulator: no need to pace a chat
            OFFER_CHECK_SECONDS="0.5",  # seat offers whose window ended pass on within the moment
            MPLCONFIGDIR=str(CHARTS_CACHE),  # charts' font cache built once, not at every start
        )
        self.process = launch_bot(["run"], self.workdir, env, stderr=path)
        process = self.process
        await self.emulator.wait_for(
            lambda emu: (
                process.poll() is not None
                or any(call.method == "getUpdates" and call.timestamp >= began for call in emu.calls)
            ),
            timeout=WAIT,
        )
        assert process.poll() is None, self.say(f"the bot exited:\n{self.log}")
        self.starts += 1

    async def kill_after(self, seen: Counted, low: int, high: int, done: Callable[[], bool]) -> None:
        """SIGKILL once `seen()` reaches a number drawn in [low, high], or once the work is `done()`
        (then the kill comes at its end)."""
        target = self.rng.randint(low, max(low, high))
        self.kills.append(target)
        await self.emulator.wait_for(lambda _: seen() >= target or done(), timeout=WAIT)
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.process.wait, 30)
        self.in_flight.update(await claimed_rows(self.database_url))

    async def crash_twice(self, seen: Counted, low: int, high: int, done: Callable[[], bool]) -> None:
        """Killed at a random moment and restarted at once (well within the lease: its claims are
        still young), then killed again and restarted once the lease has passed. `seen` counts the
        calls of the capability's main path; the kill points are drawn in [low, high] of them (the
        second one after the first restart), or come when the work is `done()`."""
        await self.kill_after(seen, low, high, done)
        await self.start()
        now = seen()
        await self.kill_after(seen, now + 1, now + max(1, high - low), done)
        await claims_stale(self.database_url)  # "after the lease"
        await self.start()

    async def answer_or_silence(self, answered: Callable[[BotAPIEmulator], bool], starts: int) -> None:
        """Wait until `answered(emulator)`, or until the bot clearly said nothing: `PATIENCE`
        seconds passed, or it was restarted since (more than `starts` starts), the new process
        fetched every update waiting and `LOST_AFTER` seconds went by with no answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        caught_up: float | None = None  # when the restarted process had fetched every update
        while not answered(self.emulator):
            now = loop.time()
            if caught_up is None and self.starts > starts and not self.emulator.pending_updates:
                caught_up = now
            give_up = deadline if caught_up is None else min(deadline, caught_up + LOST_AFTER)
            if now >= give_up:
                return
            with contextlib.suppress(TimeoutError):  # woken by the next call, or to look again
                await self.emulator.wait_for(answered, timeout=min(0.25, give_up - now))

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, 60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)

    @property
    def log(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in self.logs if path.exists())

    def calls(self, method: str, **params: Any) -> int:
        """How many calls of `method` (with these parameters) the bot made so far."""
        return sum(
            1
            for call in self.emulator.calls
            if call.method == method and all(call.params.get(k) == v for k, v in params.items())
        )

    def check_delivered(self, counts: Counter[int], users: list[SimUser]) -> None:
        """Per chat, how many copies of a message arrived: everyone got it, and a chat got more than
        one only for rows to it being sent at a kill (one more copy per kill that caught one)."""
        lost = [user.first_name for user in users if user.id not in counts]
        assert not lost, self.say(f"never got it: {lost}")
        extra = {chat: count - 1 for chat, count in counts.items() if count - 1 > self.in_flight[chat]}
        assert not extra, self.say(f"copies beyond those in flight at the kills: {extra} ({self.in_flight})")

    def check_seats(
        self, rows: list[tuple[int, Any]], users: int, held: Any, waiting: Any, seats: int
    ) -> None:
        """(member, status) rows: one per person, exactly `seats` held and the rest waiting."""
        statuses = Counter(status for _, status in rows)
        assert len(rows) == users and len({member for member, _ in rows}) == users, self.say(f"rows: {rows}")
        assert (statuses[held], statuses[waiting]) == (seats, users - seats), self.say(f"seats: {statuses}")

    def check_common(self, users: list[SimUser]) -> None:
        """What holds for every scenario: each callback query answered at most once (an update
        handled before the kill is not handled again), no apology, no traceback."""
        answers = Counter(
            call.params.get("callback_query_id")
            for call in self.emulator.calls
            if call.method == "answerCallbackQuery"
        )
        twice = {query: count for query, count in answers.items() if count > 1}
        assert not twice, self.say(f"callback queries answered more than once: {twice}")
        apologized = [
            user.first_name
            for user in users
            if any(m.get("text") == APOLOGY for m in self.emulator.transcript(user.id) if m["outgoing"])
        ]
        assert not apologized, self.say(f"apologies to {apologized}")
        assert "Traceback" not in self.log, self.say(f"a traceback in the logs:\n{self.log}")


async def claimed_rows(database_url: str) -> list[int]:
    """The chats of the outbox rows being sent (claimed) right now, one entry a row: those rows may
    arrive once more after a kill."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await session.exec(
                select(OutboxMessage.chat_id).where(col(OutboxMessage.status) == DeliveryStatus.SENDING)
            )
            return list(rows.all())
    finally:
        await engine.dispose()


async def claims_stale(database_url: str, lease: float = LEASE) -> None:
    """Wait until the claims the killed process left on messages (outbox rows being sent, reminders
    being sent), if any, are older than the lease: it renews none of them any more, so their newest
    `claimed_at` says when; no claim left, no wait. (Its inbox claims need no wait: a process that
    starts polling releases them at once.)"""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            newest = [
                (
                    await session.exec(select(func.max(model.claimed_at)).where(col(model.status) == status))
                ).one()
                for model, status in (
                    (OutboxMessage, DeliveryStatus.SENDING),
                    (Reminder, ReminderStatus.CLAIMED),
                )
            ]
    finally:
        await engine.dispose()
    claimed = [moment.replace(tzinfo=moment.tzinfo or UTC) for moment in newest if moment is not None]
    if claimed:
        await asyncio.sleep(max(0.0, (max(claimed) - utcnow()).total_seconds() + lease + 0.1))


async def settle(emulator: BotAPIEmulator, done: Callable[[], Awaitable[bool]], what: str, tag: str) -> None:
    """Wait (checking on every call the bot makes) until `done()`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await done():
        assert loop.time() < deadline, f"{tag}: {what} did not happen within {WAIT} s"
        with contextlib.suppress(TimeoutError):  # woken by the next call the bot makes
            await emulator.wait_for(lambda _: False, timeout=0.5)


def last_with_buttons(emulator: BotAPIEmulator, user: SimUser) -> dict[str, Any] | None:
    """The bot's latest message to `user` that has inline buttons (in its current state)."""
    for message in reversed(emulator.transcript(user.id)):
        if message["outgoing"] and (message.get("reply_markup") or {}).get("inline_keyboard"):
            return message
    return None


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in message["reply_markup"]["inline_keyboard"] for button in row]


def chat_state(emulator: BotAPIEmulator, user: SimUser) -> tuple[Any, ...]:
    """What the bot shows the person: changes when it sends or edits anything in the chat."""
    said = [m for m in emulator.transcript(user.id) if m["outgoing"]]
    return (len(said), *((m.get("text"), str(m.get("reply_markup"))) for m in said[-3:]))


async def person(bot: CrashBot, user: SimUser, act: Callable[[], Awaitable[bool]], steps: int = 60) -> None:
    """A person: `act()` does what the chat asks next (False when they are done); they wait until
    the chat changes, and when the bot says nothing (it was killed, their message was lost:
    `CrashBot.answer_or_silence`) they simply act again, as people do."""
    emulator = bot.emulator
    for _ in range(steps):
        before = chat_state(emulator, user)
        starts = bot.starts
        if not await act():
            return
        await bot.answer_or_silence(lambda emu, seen=before: chat_state(emu, user) != seen, starts)
    chat = [
        ("bot: " if m["outgoing"] else "user: ") + str(m.get("text"))[:80]
        for m in emulator.transcript(user.id)
    ]
    raise AssertionError(
        f"{bot.tag}: {user.first_name} did not get through in {steps} steps:\n" + "\n".join(chat[-12:])
    )


# -- people and events of the scenarios ---------------------------------------------------------


async def members(db: Any, emulator: BotAPIEmulator, count: int, prefix: str = "M") -> list[SimUser]:
    """`count` consented members (English, UTC) of the bot's organization, without quiet hours."""
    users = [emulator.create_user(f"{prefix}{i}", language_code="en") for i in range(count)]
    async with db() as session:
        organization = await bot_organization(session)
        organization.quiet_start = organization.quiet_end = 0
        session.add(organization)
        await consented(session, organization.id, users)
        await session.commit()
    return users


async def member_ids(db: Any, users: list[SimUser]) -> dict[int, SimUser]:
    async with db() as session:
        rows = await session.exec(
            select(Member.id, Member.telegram_id).where(
                col(Member.telegram_id).in_([user.id for user in users])
            )
        )
        by_telegram = {user.id: user for user in users}
        return {member_id: by_telegram[telegram_id] for member_id, telegram_id in rows.all()}


async def ids_of(db: Any, users: list[SimUser]) -> dict[int, int]:
    """{Telegram id: member id} of `users`."""
    return {user.id: member_id for member_id, user in (await member_ids(db, users)).items()}


async def in_two_days(session: Any, title: str, *, announce: bool, **values: Any) -> Any:
    """A published event of the bot's organization, starting in two days."""
    organization = await bot_organization(session)
    event = await event_service.create_event(
        session,
        organization_id=organization.id or 0,
        title=title,
        starts_at=utcnow() + timedelta(days=2),
        now=utcnow(),
        **values,
    )
    await event_service.publish(session, event, organization, utcnow(), announce=announce)
    return event


def sent_to(emulator: BotAPIEmulator, wanted: Any) -> Counter[int]:
    """Per chat, how many messages whose text is `wanted` the bot sent (and Telegram took)."""
    return Counter(
        call.params["chat_id"]
        for call in emulator.calls
        if call.method == "sendMessage" and call.ok and wanted(call.params.get("text") or "")
    )


def last_notice(emulator: BotAPIEmulator, user: SimUser) -> str:
    said = [m.get("text") or "" for m in emulator.transcript(user.id) if m["outgoing"]]
    return next(text for text in reversed(said) if text != "Crash news")


async def outbox_done(db: Any, meeting_id: int) -> bool:
    """The meeting's reminders all handed over, and nothing left to send."""
    async with db() as session:
        waiting = await session.exec(
            select(func.count()).where(
                Reminder.event_id == meeting_id,
                col(Reminder.status).in_([ReminderStatus.PENDING, ReminderStatus.CLAIMED]),
            )
        )
        left = await session.exec(
            select(func.count()).where(
                col(OutboxMessage.status).in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
            )
        )
        return waiting.one() == 0 and left.one() == 0

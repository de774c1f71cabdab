"""Two real bot processes in webhook mode behind a round-robin proxy, on one PostgreSQL and one
Redis, against the emulator (Telegram's flood limits on): 200 members tap Going for 20 seats, a
burst of reminders and a broadcast go out, a member's registration dialog alternates between the
processes (each step on the process the test chooses), and one process is killed with SIGKILL mid-broadcast.

Then: exactly 20 seats, every tap answered once, every reminder and every announcement delivered
(only messages in flight at the kill may arrive twice), the two processes together kept
`DELIVERY_RATE` (it is the bot's rate, not each process's), and the dialog was finished on the
other process than the one that started it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.sandbox import BotAPIEmulator, Limits
from bot.services import events as service
from bot.views.events import EventAction
from storage.db import create_engine, create_session_factory
from storage.models import DeliveryStatus, InboxUpdate, OutboxMessage, RsvpStatus
from storage.types import utcnow
from tests.bot_process import spares_loaded
from tests.e2e.helpers import (
    STALL,
    bot_organization,
    consented,
    consents_in_swahili,
    meeting_reminded_in,
    progress,
    urgent_announcement,
)
from tests.e2e.webhook_helpers import BotProcess, Front

# Two bot processes sharing a Redis flood budget: out of the parallel run, beside it (`make test`);
# every step waits on conditions, and the rate is checked from below only (see the end of the test).
pytestmark = pytest.mark.serial

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RATE = 20  # DELIVERY_RATE of the bot: both processes together
NEWS = "Shared news for everyone"
# Every wait is for a condition; this guards against one that never comes: a wait fails only once
# what it counts has not moved for this long (a loaded machine is slow, not stuck).


@contextlib.contextmanager
def alone(balancer: Front, processes: list[BotProcess], index: int) -> Iterator[None]:
    """Only `processes[index]` receives and claims updates: the others are paused meanwhile."""
    targets = balancer.targets
    others = [process for number, process in enumerate(processes) if number != index]
    balancer.targets = [targets[index]]
    for process in others:
        process.process.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for process in others:
            process.process.send_signal(signal.SIGCONT)
        balancer.targets = targets


@pytest.fixture
async def redis_available() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    finally:
        await client.aclose()


@pytest.fixture
async def proxy() -> AsyncIterator[Front]:
    """A load balancer in front of the processes: each post to the next one."""
    front = Front()
    await front.start()
    yield front
    await front.stop()


async def test_two_processes_share_the_work(
    redis_available: None, proxy: Front, tmp_path: Path, migrated_url: str
) -> None:
    database_url = migrated_url  # a copy of the migrated template
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share one PostgreSQL database")
    balancer = proxy
    token = f"{random.randint(10**8, 10**9)}:TWO-processes"  # Redis keys of its own
    # Telegram's flood limits, not its 15 s to answer a press: the emulator posts the 200 taps one
    # by one, and on a loaded machine the last ones reached the bots more than 15 s after they were
    # made (their answers refused: 177 of 200 answered, here). What a tap's answer proves here is
    # that it came once, not how soon.
    limits = Limits(callback_answer_timeout=None)
    emulator = BotAPIEmulator(token=token, limits=limits, bot_username="diaspora_bridge_bot")
    await emulator.start(host="127.0.0.1", port=0)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    processes: list[BotProcess] = []
    try:
        members = [emulator.create_user(f"M{i}", language_code="en") for i in range(200)]
        async with sessions() as session:
            org = await bot_organization(session)
            ids = [member.id or 0 for member in await consented(session, org.id, members)]
            gala = await service.create_event(
                session,
                organization_id=org.id or 0,
                title="Gala",
                starts_at=utcnow() + timedelta(days=2),
                now=utcnow(),
                capacity=20,
            )
            await service.publish(session, gala, org, utcnow(), announce=False)
            await session.commit()

        env = {"REDIS_URL": REDIS_URL, "DELIVERY_RATE": str(RATE), "DELIVERY_LEASE_SECONDS": "3"}
        await spares_loaded()  # both processes from loaded interpreters
        for _ in range(2):
            processes.append(
                BotProcess(emulator, tmp_path, database_url, webhook_url=balancer.url, token=token, **env)
            )
        await asyncio.gather(*(process.ready() for process in processes))
        balancer.targets = [f"{process.base}/telegram" for process in processes]

        # A registration dialog begun on one process and finished on the other: the process that
        # is not meant to take a step is paused (SIGSTOP), so which one claims it is not left to timing.
        with alone(balancer, processes, 0):
            newcomer = await consents_in_swahili(emulator)
            await emulator.next_bot_message(newcomer.id, timeout=STALL)
            await emulator.next_bot_message(newcomer.id, timeout=STALL)  # the name question
        with alone(balancer, processes, 1):
            await emulator.send_text(newcomer, "Wanjiru Kamau")
            await emulator.next_bot_message(newcomer.id, timeout=STALL)
            await emulator.next_bot_message(newcomer.id, timeout=STALL)  # the origin question
            await emulator.send_text(newcomer, "Kenya")
            echo = await emulator.next_bot_message(newcomer.id, timeout=STALL)
        assert "Kenya" in echo["text"]

        # A reminder due in a few seconds, for 60 members: after the dialog, whose pauses would
        # otherwise hold claims of the paused process past the lease (the other process then sends
        # them as a dead one's, and the paused one once it resumes: a lease's nature, of the test's
        # making).
        async with sessions() as session:
            meeting = await meeting_reminded_in(session, await bot_organization(session), seconds=5)
            for member_id in ids[:60]:
                await service.rsvp(session, meeting.id or 0, member_id, "maybe", utcnow())
            await session.commit()

        # 200 members open /events, then all tap Going at once.
        for user in members:
            await emulator.send_text(user, "/events")
        lists = [await emulator.next_bot_message(user.id, timeout=STALL) for user in members]
        data = EventAction(action="going", id=gala.id).pack()
        queries = await asyncio.gather(
            *(
                emulator.press_button(user, listing, callback_data=data, forge=True)
                for user, listing in zip(members, lists, strict=True)
            )
        )
        await progress(
            emulator, lambda: sum(emulator.callback_answers.get(query) is not None for query in queries), 200
        )

        # The broadcast; one process is killed once a third of it is out.
        queued_at = emulator.now()  # before the broadcast exists: none of its slots is booked sooner
        async with sessions() as session:
            await urgent_announcement(session, await bot_organization(session), members[0], NEWS)
            await session.commit()

        def news() -> list[object]:
            return [
                call
                for call in emulator.calls
                if call.method == "sendMessage" and call.ok and call.params.get("text") == NEWS
            ]

        await progress(emulator, lambda: len(news()), 70)
        await processes[0].stop(signal.SIGKILL)
        async with sessions() as session:
            in_flight = Counter(  # per chat, the messages being sent at the kill
                await session.exec(
                    select(OutboxMessage.chat_id).where(
                        OutboxMessage.status == DeliveryStatus.SENDING,
                        OutboxMessage.claimed_by.startswith(processes[0].worker_prefix),  # type: ignore[union-attr]
                    )
                )
            )
        await progress(emulator, lambda: len({call.params["chat_id"] for call in news()}), 201)
        # The reminder came due during the test: waited for, not assumed.
        await progress(emulator, lambda: len(set(reminders(emulator))), 60)

        async with sessions() as session:
            counts = await service.counts(session, gala.id or 0)
            dialog_workers = set(
                (
                    await session.exec(
                        select(InboxUpdate.claimed_by).where(InboxUpdate.chat_key == f"c{newcomer.id}")
                    )
                ).all()
            )
            # Every message arrived; their rows' sent status may follow a moment later.
            deadline = asyncio.get_running_loop().time() + STALL
            while left := (
                await session.exec(
                    select(OutboxMessage.id).where(
                        OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])  # type: ignore[attr-defined]
                    )
                )
            ).all():
                if asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.2)
        assert await processes[1].stop() == 0
    finally:
        for process in processes:
            await process.stop(signal.SIGKILL)
        await engine.dispose()
        await emulator.stop()

    # Exactly 20 seats; every tap answered once, by one process or the other.
    assert (counts[RsvpStatus.GOING], counts[RsvpStatus.WAITLISTED]) == (20, 180)
    answers = [emulator.callback_answers[query]["text"] for query in queries]
    assert sum(text == "✅ You're going. See you there!" for text in answers) == 20
    assert len(lists) == 200 and all(
        sum(
            1
            for call in emulator.calls
            if call.method == "answerCallbackQuery" and call.params.get("callback_query_id") == query
        )
        == 1
        for query in queries
    )
    # The reminder and the broadcast: nobody lost, doubles only among the messages in flight at
    # the kill (per chat).
    reminded = Counter(reminders(emulator))
    assert set(reminded) == {user.id for user in members[:60]}
    received = Counter(call.params["chat_id"] for call in news())
    assert set(received) == {user.id for user in [*members, newcomer]}  # the newcomer registered
    doubles = reminded + received - Counter(reminded.keys()) - Counter(received.keys())
    assert not doubles - in_flight, f"copies beyond those in flight at the kill: {doubles} ({in_flight})"
    assert not left
    # The two processes together kept the bot's rate: they book one schedule in Redis, a slot every
    # 1 / RATE s with a burst of RATE / 5, so the k-th copy (from 0) goes out no sooner than k - (RATE
    # / 5 - 1) intervals after the broadcast was queued (unshared, the 70th would come at 1.75 s, not
    # 3.35). Only a bound from below: a busy machine delays copies and bunches them up on arrival, so
    # the busiest second seen by the emulator says nothing, but no copy can come ahead of its slot.
    times = sorted(call.timestamp - queued_at for call in news())
    burst = RATE // 5
    early = [(k, round(t, 3)) for k, t in enumerate(times) if t < (k - (burst - 1)) / RATE - 0.01]
    assert not early, f"{len(early)} copies ahead of DELIVERY_RATE={RATE} (k, seconds): {early[:5]}"
    assert not [
        call for call in emulator.errors if call.error_code == 429 and call.params.get("text") == NEWS
    ]
    # The dialog went through both processes, and no process logged a traceback.
    assert len(dialog_workers) == 2, dialog_workers
    assert all("Traceback" not in process.log for process in processes)


def reminders(emulator: BotAPIEmulator) -> list[int]:
    """The chats of the reminders the bot sent (one item per message)."""
    return [
        call.params["chat_id"]
        for call in emulator.calls
        if call.method == "sendMessage" and call.ok and (call.params.get("text") or "").startswith("⏰")
    ]

"""The delivery engine against the emulator over HTTP: rates, 429, 403, 400, 5xx, and two senders
on one outbox never sending a row twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import SendMessage
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from bot.delivery import DeliveryEngine, EngineConfig
from bot.delivery.outbox import Claimed
from bot.sandbox import BotAPIEmulator, Faults, Limits, SimUser
from bot.services.members import TelegramIdentity, record_consent
from storage.db import create_session_factory
from storage.models import DeliveryStatus, Member, MemberStatus, OutboxMessage
from storage.types import utcnow

TOKEN = "42:delivery-test"


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(token=TOKEN, limits=Limits(flood_control=False)) as emulator:
        yield emulator


def make_bot(emulator: BotAPIEmulator) -> Bot:
    return Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))


async def render(row: Claimed) -> SendMessage:
    return SendMessage(chat_id=row.chat_id, text=f"news #{row.ref_id} for {row.chat_id}")


async def given_members(engine: AsyncEngine, emulator: BotAPIEmulator, count: int) -> list[SimUser]:
    users = [emulator.create_user(f"U{i}", language_code="en") for i in range(count)]
    sessions = create_session_factory(engine)
    async with sessions() as session:
        members = [
            await record_consent(session, TelegramIdentity(user.id, None, user.first_name), "en", "UTC", None)
            for user in users
        ]
        await session.flush()
        await (await session.connection()).execute(
            insert(OutboxMessage),
            [
                {
                    "kind": "test",
                    "ref_id": 1,
                    "member_id": member.id,
                    "chat_id": member.telegram_id,
                    "language": "en",
                    "payload": {},
                    "status": DeliveryStatus.PENDING,
                    "not_before": utcnow(),
                    "attempts": 0,
                    "created_at": utcnow(),
                }
                for member in members
            ],
        )
        await session.commit()
    return users


async def run_until_done(engine: AsyncEngine, senders: list[DeliveryEngine], timeout: float = 60) -> None:
    sessions = create_session_factory(engine)
    for sender in senders:
        sender.start()
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with sessions() as session:
                    open_rows = (
                        await session.exec(
                            select(OutboxMessage).where(
                                OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])
                            )
                        )
                    ).all()
                if not open_rows:
                    return
                await asyncio.sleep(0.1)
    finally:
        for sender in senders:
            await sender.stop()
            await sender.bot.session.close()


def delivered(emulator: BotAPIEmulator, users: list[SimUser]) -> Counter[int]:
    return Counter(
        user.id for user in users for message in emulator.transcript(user.id) if message["outgoing"]
    )


def sender(engine: AsyncEngine, emulator: BotAPIEmulator, **config: object) -> DeliveryEngine:
    settings = {"rate": 200.0, "per_chat_interval": 0.0, "backoff_base": 0.05, "flush_interval": 0.05}
    settings.update(config)
    return DeliveryEngine(
        make_bot(emulator), create_session_factory(engine), {"test": render}, EngineConfig(**settings)
    )  # type: ignore[arg-type]


async def test_everyone_gets_exactly_one_message(engine: AsyncEngine, emulator: BotAPIEmulator) -> None:
    users = await given_members(engine, emulator, 60)
    await run_until_done(engine, [sender(engine, emulator)])
    assert delivered(emulator, users) == Counter({user.id: 1 for user in users})
    async with create_session_factory(engine)() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert {row.status for row in rows} == {DeliveryStatus.SENT}
    assert all(row.telegram_message_id and row.sent_at for row in rows)


async def test_after_send_hooks_see_each_sent_message_once_and_a_failing_hook_sends_nothing_twice(
    engine: AsyncEngine, emulator: BotAPIEmulator
) -> None:
    users = await given_members(engine, emulator, 6)
    seen: list[tuple[int, int]] = []

    async def remember(row: Claimed, result: object) -> None:
        seen.append((row.chat_id, getattr(result, "message_id", 0)))
        if len(seen) % 2:
            raise RuntimeError("a broken hook")

    engine_ = sender(engine, emulator)
    engine_.after_send = {"test": remember}
    await run_until_done(engine, [engine_])
    assert delivered(emulator, users) == Counter({user.id: 1 for user in users})
    async with create_session_factory(engine)() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert sorted(seen) == sorted((row.chat_id, row.telegram_message_id) for row in rows)
    assert {row.status for row in rows} == {DeliveryStatus.SENT}


async def test_flood_control_429_is_honoured_without_skips_or_doubles(engine: AsyncEngine) -> None:
    async with BotAPIEmulator(token=TOKEN, limits=Limits(global_per_second=20)) as emulator:
        users = await given_members(engine, emulator, 50)
        await run_until_done(engine, [sender(engine, emulator, rate=80.0)], timeout=90)
        flood = [call for call in emulator.errors if call.error_code == 429]
        assert flood, "sending at 80/s against a 20/s limit must provoke 429"
        assert delivered(emulator, users) == Counter({user.id: 1 for user in users})


async def test_blocked_and_missing_chats_are_marked(engine: AsyncEngine, emulator: BotAPIEmulator) -> None:
    users = await given_members(engine, emulator, 6)
    await emulator.block_bot(users[0])
    emulator.faults.missing_chats.add(users[1].id)
    await run_until_done(engine, [sender(engine, emulator)])
    async with create_session_factory(engine)() as session:
        rows = {row.chat_id: row for row in (await session.exec(select(OutboxMessage))).all()}
        members = {m.telegram_id: m for m in (await session.exec(select(Member))).all()}
    assert rows[users[0].id].status == DeliveryStatus.BLOCKED
    assert members[users[0].id].status == MemberStatus.BLOCKED
    assert rows[users[1].id].status == DeliveryStatus.UNREACHABLE
    assert members[users[1].id].status == MemberStatus.UNREACHABLE
    assert {rows[user.id].status for user in users[2:]} == {DeliveryStatus.SENT}


async def test_server_errors_are_retried_then_given_up(engine: AsyncEngine) -> None:
    async with BotAPIEmulator(
        token=TOKEN, limits=Limits(flood_control=False), faults=Faults(error_rate=0.4, seed=3)
    ) as emulator:
        users = await given_members(engine, emulator, 40)
        await run_until_done(engine, [sender(engine, emulator, max_attempts=8)])
        assert [call for call in emulator.errors if call.error_code in (500, 502)]
        assert delivered(emulator, users) == Counter({user.id: 1 for user in users})
        async with create_session_factory(engine)() as session:
            rows = (await session.exec(select(OutboxMessage))).all()
        assert max(row.attempts for row in rows) > 1

        # With every call failing, a row ends as failed with the reason, after max_attempts.
        emulator.faults.error_rate = 1.0
        more = await given_members(engine, emulator, 1)
        await run_until_done(engine, [sender(engine, emulator, max_attempts=3)])
        async with create_session_factory(engine)() as session:
            row = (await session.exec(select(OutboxMessage).where(OutboxMessage.chat_id == more[0].id))).one()
        assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 3)
        assert "TelegramServerError" in (row.last_error or "")


async def test_two_senders_on_one_outbox_never_send_a_row_twice(
    engine: AsyncEngine, emulator: BotAPIEmulator, migrated_url: str
) -> None:
    users = await given_members(engine, emulator, 300)
    first = sender(engine, emulator, worker="one", rate=1000.0)
    second = sender(engine, emulator, worker="two", rate=1000.0)
    await run_until_done(engine, [first, second])
    assert delivered(emulator, users) == Counter({user.id: 1 for user in users})
    async with create_session_factory(engine)() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert {row.status for row in rows} == {DeliveryStatus.SENT}


async def claim_all_as(engine: AsyncEngine, worker: str) -> None:
    """Every pending row claimed by `worker` just now, as a sender does right before it dies."""
    async with create_session_factory(engine)() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        for row in rows:
            row.status, row.claimed_by, row.claimed_at = DeliveryStatus.SENDING, worker, utcnow()
            session.add(row)
        await session.commit()


async def test_a_dead_senders_fresh_claims_are_released_once_they_pass_the_lease(
    engine: AsyncEngine, emulator: BotAPIEmulator
) -> None:
    """A sender restarted within the lease (as systemd or Docker do) finds claims too young to
    release at its start; it must still release them once they pass the lease, and send them."""
    users = await given_members(engine, emulator, 8)
    await claim_all_as(engine, "host:1234:dead")
    await run_until_done(engine, [sender(engine, emulator, lease=1.5)], timeout=15)
    assert delivered(emulator, users) == Counter({user.id: 1 for user in users})


async def test_a_live_sender_holding_claims_longer_than_the_lease_keeps_them(
    engine: AsyncEngine, emulator: BotAPIEmulator
) -> None:
    """Claims of a sender that is alive but slow (a long flood wait, a slow answer) are renewed:
    another sender does not take them for a dead one's and send them a second time.

    No sleep of a set length: the slow sender holds its claims until the other one has looked for
    stale claims twice at a time their first claim was past the lease (3 s, renewed every second:
    only a renewal more than two seconds late on a busy machine would let them go)."""
    users = await given_members(engine, emulator, 6)
    lease = 3.0
    quick = sender(engine, emulator, worker="quick", lease=lease)
    claimed_at: list[float] = []  # when the slow sender began rendering (loop time): after its claims
    passes_past_the_lease = 0  # the quick sender's looks for stale claims once those were stale
    looked_twice = asyncio.Event()
    keep_leases = quick._keep_leases

    async def counted() -> None:
        nonlocal passes_past_the_lease
        if claimed_at and asyncio.get_running_loop().time() > claimed_at[0] + lease:
            passes_past_the_lease += 1
        await keep_leases()
        if passes_past_the_lease >= 2:
            looked_twice.set()

    quick._keep_leases = counted  # type: ignore[method-assign]

    async def slow(row: Claimed) -> SendMessage:
        claimed_at.append(asyncio.get_running_loop().time())
        await asyncio.wait_for(looked_twice.wait(), 120)  # a hang guard
        return await render(row)

    first = sender(engine, emulator, worker="slow", lease=lease)
    first.renderers = {"test": slow}
    first.start()
    try:
        async with create_session_factory(engine)() as session, asyncio.timeout(60):
            while True:  # the slow sender has claimed everything
                statuses = (await session.exec(select(OutboxMessage.status))).all()
                if set(statuses) == {DeliveryStatus.SENDING}:
                    break
                await asyncio.sleep(0.05)
        await run_until_done(engine, [quick])
    finally:
        await first.stop()
        await first.bot.session.close()
    assert passes_past_the_lease >= 2
    assert delivered(emulator, users) == Counter({user.id: 1 for user in users})


def test_replies_and_outbox_booked_on_one_chat_budget_never_exceed_telegrams_bucket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever the mix of outbox messages and quick replies to one private chat, the send times the
    shared budget gives conform to a bucket of 3 messages refilled at one a second (the emulator's
    model of Telegram's limit), with room to spare for timing jitter; replies keep a small burst."""
    import random

    from bot.delivery import ratelimit

    clock = [1000.0]
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock[0])
    budget = ratelimit.ChatBudget(interval=1.0)
    rng = random.Random(11)
    sends: list[float] = []
    for _ in range(300):
        clock[0] += rng.choice([0.0, 0.05, 0.1, 0.3, 1.0])
        delay = budget.reserve_reply(7) if rng.random() < 0.6 else budget.reserve(7)
        sends.append(clock[0] + delay)
    tokens, last = 3.0, sends[0]
    for at in sorted(sends):
        tokens = min(3.0, tokens + (at - last) * 1.0)
        last = at
        assert tokens >= 1.15, f"a message at {at - 1000:.2f} s would get a 429"
        tokens -= 1
    clock[0] += 60  # an idle chat: a reply and the next two go at once
    assert [budget.reserve_reply(8) for _ in range(2)] == [0.0, 0.0]

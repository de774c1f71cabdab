"""Broadcast benchmark: the delivery engine against the emulator, figures printed (not a test).

    .venv/bin/python -m bench.broadcast            # 10,000 members; 100,000 rows for memory
    .venv/bin/python -m bench.broadcast --quick    # smaller, for a smoke run

Three measurements, each with a ratio against a baseline measured in the same run:
1. Rate-limited: the emulator enforces Telegram's limits scaled up (300 messages/s for the bot);
   the engine is configured just under it. Ratio = achieved rate / configured rate (target ≥ 0.95),
   with zero 429 answers, zero duplicates and zero losses.
2. Raw throughput, limits off, on SQLite: engine messages/s, and the ratio to a bare loop of the
   same Bot API calls with no database at all (the cost of the outbox bookkeeping).
3. Memory: peak RSS of the sender while it drains 100,000 outbox rows, minus its idle RSS
   (target ≤ 60 MB: recipients are never all loaded at once).

The sender runs in its own process (so its RSS and CPU are its own); the emulator runs here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import insert_members

TOKEN = "1000:bench"


def rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the sender process ---------------------------------------------------------------------------


async def sender(
    api: str, database_url: str, rate: float, concurrency: int, baseline: int
) -> dict[str, float]:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.methods import SendMessage
    from sqlmodel import func, select

    from bot.delivery import DeliveryEngine, EngineConfig
    from bot.delivery.outbox import Claimed
    from storage.db import create_engine, create_session_factory
    from storage.models import DeliveryStatus, OutboxMessage

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    if baseline:  # the same calls, no database: what the HTTP path alone costs
        semaphore = asyncio.Semaphore(concurrency)

        async def one(chat_id: int) -> None:
            async with semaphore:
                await bot(SendMessage(chat_id=chat_id, text="baseline"))

        started = time.perf_counter()
        await asyncio.gather(*(one(100001 + i % 1000) for i in range(baseline)))
        elapsed = time.perf_counter() - started
        await bot.session.close()
        return {"sent": baseline, "seconds": elapsed}

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)

    async def render(row: Claimed) -> SendMessage:
        return SendMessage(chat_id=row.chat_id, text="Big news for the whole community")

    delivery = DeliveryEngine(
        bot,
        sessions,
        {"announcement": render},
        EngineConfig(rate=rate, per_chat_interval=1.0, concurrency=concurrency, poll_interval=0.05),
    )
    idle = rss_mb()
    started = time.perf_counter()
    delivery.start()
    while True:
        await asyncio.sleep(0.25)
        async with sessions() as session:
            left = (
                await session.exec(
                    select(func.count()).where(
                        OutboxMessage.status.in_([DeliveryStatus.PENDING, DeliveryStatus.SENDING])  # type: ignore[attr-defined]
                    )
                )
            ).one()
        if not left:
            break
    elapsed = time.perf_counter() - started
    await delivery.stop()
    await bot.session.close()
    await engine.dispose()
    return {"seconds": elapsed, "idle_rss_mb": idle, "peak_rss_mb": rss_mb("VmHWM")}


# -- the bench --------------------------------------------------------------------------------------


async def prepare(database_url: str, members: int) -> list[int]:
    """`members` members in one organization and one announcement enqueued to all of them."""
    from sqlalchemy import insert

    from bot.services.announcements import enqueue_announcement
    from bot.services.roles import ensure_default_organization
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_to_head
    from storage.models import Announcement, Membership
    from storage.types import utcnow

    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    chat_ids = [100001 + i for i in range(members)]
    async with create_session_factory(engine)() as session:
        org = await ensure_default_organization(session, "Bench", "en", "UTC")
        connection = await session.connection()
        now = utcnow()
        await insert_members(connection, chat_ids, now)
        await connection.execute(
            insert(Membership).from_select(
                ["organization_id", "member_id", "role", "created_at", "updated_at"],
                select_members(org.id, now),
            )
        )
        announcement = Announcement(
            organization_id=org.id, author_chat_id=chat_ids[0], text="Big news", urgent=True
        )
        session.add(announcement)
        await session.flush()
        await enqueue_announcement(session, announcement, org)
        await session.commit()
    await engine.dispose()
    return chat_ids


def select_members(org_id: int, now: object):  # type: ignore[no-untyped-def]
    from sqlalchemy import literal, select

    from storage.models import Member

    return select(literal(org_id), Member.id, literal("member"), literal(now), literal(now))


def run_sender(
    api: str, database_url: str, rate: float, concurrency: int, baseline: int = 0
) -> dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "bench.broadcast",
        "--sender",
        api,
        database_url,
        str(rate),
        str(concurrency),
        str(baseline),
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


async def measure(members: int, memory_rows: int) -> None:
    from bot.sandbox import BotAPIEmulator, Limits

    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))

    async def emulator_with(limits: Limits, users: int) -> BotAPIEmulator:
        emulator = BotAPIEmulator(token=TOKEN, limits=limits)
        for i in range(users):
            emulator.create_user(f"M{i}", language_code="en")
        await emulator.start()
        return emulator

    async def broadcast_to(name: str, rows: int, limits: Limits) -> tuple[str, list[int], BotAPIEmulator]:
        """A database with `rows` members and one announcement to them all, and an emulator with as
        many users: the database URL, the members' chat ids, the running emulator."""
        url = f"sqlite+aiosqlite:///{workdir / f'{name}.sqlite3'}"
        chat_ids = await prepare(url, rows)
        return url, chat_ids, await emulator_with(limits, rows)

    def outcome(emulator: BotAPIEmulator, chat_ids: list[int]) -> tuple[int, int, int]:
        received = Counter(
            call.params.get("chat_id") for call in emulator.calls if call.method == "sendMessage" and call.ok
        )
        lost = sum(1 for chat_id in chat_ids if received[chat_id] == 0)
        doubled = sum(count - 1 for count in received.values() if count > 1)
        flood = sum(1 for call in emulator.calls if call.error_code == 429)
        return lost, doubled, flood

    # 1. Rate-limited broadcast.
    limit, configured = 300.0, 290.0
    url, chat_ids, emulator = await broadcast_to("limited", members, Limits(global_per_second=limit))
    result = await asyncio.to_thread(run_sender, emulator.base_url, url, configured, 32)
    lost, doubled, flood = outcome(emulator, chat_ids)
    await emulator.stop()
    achieved = members / result["seconds"]
    print(f"\n1. {members:,} members, emulator limit {limit:.0f}/s, engine configured {configured:.0f}/s")
    print(
        f"   achieved {achieved:.1f} msg/s in {result['seconds']:.1f} s -> ratio achieved/configured "
        f"{achieved / configured:.3f} (target >= 0.95)"
    )
    print(f"   429 answers: {flood}, duplicates: {doubled}, lost: {lost}")

    # 2. Raw throughput, limits off, against a bare HTTP loop.
    url, chat_ids, emulator = await broadcast_to("raw", members, Limits(flood_control=False))
    baseline = await asyncio.to_thread(run_sender, emulator.base_url, url, 1e6, 64, members)
    emulator.calls.clear()
    result = await asyncio.to_thread(run_sender, emulator.base_url, url, 1e6, 64)
    lost, doubled, flood = outcome(emulator, chat_ids)
    await emulator.stop()
    engine_rate, bare_rate = members / result["seconds"], baseline["sent"] / baseline["seconds"]
    print(
        f"\n2. limits off, SQLite: engine {engine_rate:.0f} msg/s (target >= 1000); bare Bot API loop "
        f"{bare_rate:.0f} msg/s -> ratio engine/bare {engine_rate / bare_rate:.2f}"
    )
    print(f"   duplicates: {doubled}, lost: {lost}")

    # 3. Memory while draining many rows.
    url, chat_ids, emulator = await broadcast_to("memory", memory_rows, Limits(flood_control=False))
    emulator.keep_history = False if hasattr(emulator, "keep_history") else None
    result = await asyncio.to_thread(run_sender, emulator.base_url, url, 1e6, 64)
    lost, doubled, _ = outcome(emulator, chat_ids)
    await emulator.stop()
    growth = result["peak_rss_mb"] - result["idle_rss_mb"]
    print(
        f"\n3. {memory_rows:,} outbox rows: sender idle RSS {result['idle_rss_mb']:.0f} MB, peak "
        f"{result['peak_rss_mb']:.0f} MB -> growth {growth:.1f} MB (target <= 60 MB); "
        f"duplicates {doubled}, lost {lost}"
    )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--sender":
        api, database_url, rate, concurrency, baseline = sys.argv[2:7]
        result = asyncio.run(sender(api, database_url, float(rate), int(concurrency), int(baseline)))
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1,000 members and 10,000 rows")
    args = parser.parse_args()
    members, memory_rows = (1000, 10_000) if args.quick else (10_000, 100_000)
    asyncio.run(measure(members, memory_rows))


if __name__ == "__main__":
    main()

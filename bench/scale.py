"""Scale benchmark (issue 14): one bot process against two, webhook mode, on PostgreSQL.

    .venv/bin/python -m bench.scale                 # 150 members, 6 actions each, per run
    .venv/bin/python -m bench.scale --members 60 --actions 4    # a smoke run
    .venv/bin/python -m bench.scale --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

For each run (1 process, then 2) a fresh PostgreSQL database, the emulator (Telegram's flood
limits off: this measures the bot, not Telegram's 30 messages/s) and real `diaspora-bridge run
--webhook` processes, each on its own port. The benchmark plays Telegram's webhook delivery: it
takes the updates from the emulator (`getUpdates`) and posts them to the processes in turn, up to
40 at once (Telegram's default `max_connections`). Registered members act in a closed loop, each
waiting for the bot's answer before the next action: they alternately tap Going / Maybe on an
event (a forged button press on their /events list) and send /events. Printed for each run:

- updates handled per second (wall clock of the measured phase, after a warm-up);
- p50 / p99 latency of one action: from the update being queued at "Telegram" to the bot's answer
  (the callback answer, or the reply message);
- the ratio of the two runs' throughput (target: two processes >= 1.6 x one).

The machine matters: the processes, PostgreSQL, the emulator and this driver share its cores; on
two cores, two bot processes compete with everything else for the second one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import cpu_seconds, percentile
from tests.e2e.webhook_helpers import SECRET, BotProcess
from tests.postgres import create_database, drop_database

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CONNECTIONS = 40


class Delivery:
    """Telegram's side of webhooks: getUpdates from the emulator, posted to the processes in turn."""

    def __init__(self, api: str, targets: list[str]) -> None:
        self.api = api
        self.targets = itertools.cycle(targets)
        self.slots = asyncio.Semaphore(CONNECTIONS)
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self, http: aiohttp.ClientSession) -> None:
        offset = 0
        while True:
            async with http.post(f"{self.api}/getUpdates", json={"offset": offset, "timeout": 1}) as response:
                updates = (await response.json())["result"]
            for update in updates:
                offset = update["update_id"] + 1
                await self.slots.acquire()
                task = asyncio.create_task(self._post(http, update))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)

    async def _post(self, http: aiohttp.ClientSession, update: dict[str, Any]) -> None:
        try:
            for _ in range(20):  # as Telegram: again until a 2xx
                target = next(self.targets)
                try:
                    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                    async with http.post(target, json=update, headers=headers) as response:
                        if response.status < 300:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        finally:
            self.slots.release()


async def run(processes: int, members: int, actions: int, server_url: str) -> dict[str, float]:
    from bot.sandbox import BotAPIEmulator, Limits
    from bot.services import events as service
    from bot.views.events import EventAction
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_to_head
    from storage.types import utcnow
    from tests.e2e.helpers import bot_organization, consented

    database_url = await create_database(server_url, "bench_scale")
    token = f"{random.randint(10**8, 10**9)}:BENCH-scale"
    emulator = BotAPIEmulator(token=token, limits=Limits(flood_control=False))
    await emulator.start()
    bots: list[BotProcess] = []
    workdir = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        await asyncio.to_thread(upgrade_to_head, database_url)
        users = [emulator.create_user(f"M{i}", language_code="en") for i in range(members)]
        engine = create_engine(database_url)
        async with create_session_factory(engine)() as session:
            org = await bot_organization(session)
            await consented(session, org.id, users)
            event = await service.create_event(
                session,
                organization_id=org.id or 0,
                title="Assembly",
                starts_at=utcnow() + timedelta(days=3),
                now=utcnow(),
            )
            await service.publish(session, event, org, utcnow(), announce=False)
            await session.commit()
        await engine.dispose()

        env = {"LOG_LEVEL": "WARNING", "MAX_CONCURRENT_UPDATES": "10"}
        for _ in range(processes):
            bots.append(BotProcess(emulator, workdir, database_url, token=token, **env))
        await asyncio.gather(*(bot.ready() for bot in bots))
        async with aiohttp.ClientSession() as http:
            api = f"{emulator.base_url}/bot{token}"
            async with http.post(f"{api}/deleteWebhook") as response:  # the benchmark delivers
                assert (await response.json())["ok"]
            delivery = Delivery(api, [f"{bot.base}/telegram" for bot in bots])
            delivering = asyncio.create_task(delivery.run(http))
            listings: dict[int, dict[str, Any]] = {}
            latencies: list[float] = []
            going = EventAction(action="going", id=event.id).pack()
            maybe = EventAction(action="maybe", id=event.id).pack()

            async def act(user: Any, step: int, measured: bool) -> None:
                started = time.perf_counter()
                if step % 2 == 0 or user.id not in listings:
                    await emulator.send_text(user, "/events")
                    listings[user.id] = await emulator.next_bot_message(user.id, timeout=120)
                else:
                    data = going if step % 4 == 1 else maybe
                    query = await emulator.press_button(
                        user, listings[user.id], callback_data=data, forge=True
                    )
                    await emulator.wait_for(
                        lambda emu: emu.callback_answers.get(query) is not None, timeout=120
                    )
                if measured:
                    latencies.append(time.perf_counter() - started)

            await asyncio.gather(*(act(user, 0, False) for user in users))  # warm-up: every list
            started = time.perf_counter()
            cpu_before = [cpu_seconds(bot.process.pid) for bot in bots], cpu_seconds()

            async def member(user: Any) -> None:
                for step in range(1, actions + 1):
                    await act(user, step, True)

            await asyncio.gather(*(member(user) for user in users))
            elapsed = time.perf_counter() - started
            bots_cpu = sum(cpu_seconds(bot.process.pid) for bot in bots) - sum(cpu_before[0])
            driver_cpu = cpu_seconds() - cpu_before[1]
            delivering.cancel()
            with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                await delivering
        return {
            "updates_per_s": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "updates": float(len(latencies)),
            "bot_cpu_ms": bots_cpu / len(latencies) * 1000,
            "driver_cpu_share": driver_cpu / elapsed,
            "load": os.getloadavg()[0],
        }
    finally:
        for bot in bots:
            await bot.stop()
        await emulator.stop()
        await drop_database(server_url, database_url)


async def main_async(members: int, actions: int, server_url: str) -> int:
    results = {}
    for processes in (1, 2):
        results[processes] = await run(processes, members, actions, server_url)
        figures = results[processes]
        print(
            f"{processes} process{'es' if processes > 1 else ''}: {figures['updates']:.0f} updates, "
            f"{figures['updates_per_s']:.1f} updates/s, p50 {figures['p50_ms']:.0f} ms, "
            f"p99 {figures['p99_ms']:.0f} ms; bot CPU {figures['bot_cpu_ms']:.1f} ms per update, "
            f"emulator and driver busy {figures['driver_cpu_share']:.0%} of a core, "
            f"load average {figures['load']:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
    ratio = results[2]["updates_per_s"] / results[1]["updates_per_s"]
    print(f"ratio two/one: {ratio:.2f} (target >= 1.6)")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=150)
    parser.add_argument("--actions", type=int, default=6, help="actions per member in the measured phase")
    parser.add_argument("--database-url", default=DEFAULT_PG, help="PostgreSQL server URL")
    args = parser.parse_args()
    sys.exit(asyncio.run(main_async(args.members, args.actions, args.database_url)))


if __name__ == "__main__":
    main()

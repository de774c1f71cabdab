"""Updates benchmark (issue 15): the whole bot against a bare aiogram echo bot, each on its own
Bot API emulator (in this process, Telegram's flood limits off), in one run.

    .venv/bin/python -m bench.updates                       # SQLite in a temp folder
    .venv/bin/python -m bench.updates --seconds 4 --population 2000 --events 50   # a smoke run
    .venv/bin/python -m bench.updates --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    .venv/bin/python -m bench.updates --profile /tmp/bot.txt   # py-spy's collapsed stacks of the load

The database holds `--population` members (100,000) and `--events` published events (1,000) of the
organization, plus the `--members` (30) registered members who act. Each bot runs as a process of
its own, long polling: the baseline, `bench.echo_bot` (aiogram with one handler that echoes, no
database), and the real bot (`python -m bot run`, its defaults but CHAT_INTERVAL=0.01, as the
tests: the emulator has no flood limits to respect). Printed:

- start-up: from the process being started to its first `getUpdates`, in CPU seconds (what the
  machine's load hardly changes) and wall clock;
- idle RSS: the process's resident memory once started and idle (and again after the load);
- for `/help`, `/events` and an RSVP (a Going / Maybe tap on the /events list, alternately, so
  every tap writes), a closed loop: every member sends the next one when the answer to the last
  arrived (the reply message; for a tap, the callback answer, which the bot sends after its
  work). Round trips per second over `--seconds`, measured in slices with the two bots in turn
  (a change in the machine's load weighs on both alike), p50 / p99 latency, the bot's CPU
  milliseconds per round trip;
- the ratios full / echo (targets: /help >= 0.5, /events and RSVP >= 0.3) and the differences in
  start-up (target <= +1.0 s) and idle RSS (target <= +60 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.bot_processes import Process, profiler, rss_mb
from bench.common import cpu_seconds, insert_members, percentile
from bench.surveys import fresh_database
from bot.sandbox import BotAPIEmulator, Limits, SimUser
from tests.bot_process import bot_command, bot_environment

SCENARIOS = ("/help", "/events", "rsvp")
TARGETS = {"/help": 0.5, "/events": 0.3, "rsvp": 0.3}
STARTUP_TARGET_S, RSS_TARGET_MB = 1.0, 60.0
IDLE_SECONDS = 3.0  # after the first getUpdates, before the idle RSS is read
ROUNDS = 4  # slices of each scenario, the two bots in turn
WARM_UP = 0.5  # seconds at the start of each slice that are not measured
TIMEOUT = 60.0  # an answer that takes longer is an error


class Emulator(BotAPIEmulator):
    """The emulator, telling the waiting member the moment the bot's answer is in (a future per
    chat and per button press) rather than waking every waiter on every call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.answers: dict[str, asyncio.Future[None]] = {}
        self.first_poll: asyncio.Future[float] | None = None

    def _finish(self, record: Any, params: Any, result: Any, error: Any) -> None:
        super()._finish(record, params, result, error)
        if error is not None:
            return
        if record.method == "sendMessage" and isinstance(result, dict):
            waiter = self.replies.pop(result["chat"]["id"], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(result)
        elif record.method == "answerCallbackQuery":
            waiter = self.answers.pop(str(record.params.get("callback_query_id")), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def call(self, method: str, params: Any, *, source: str = "http") -> Any:
        if method.lower() == "getupdates" and self.first_poll is not None and not self.first_poll.done():
            self.first_poll.set_result(time.perf_counter())
        return super().call(method, params, source=source)


@dataclass
class Figures:
    startup_s: float = 0.0
    startup_cpu_s: float = 0.0
    idle_rss_mb: float = 0.0
    loaded_rss_mb: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)
    p50_ms: dict[str, float] = field(default_factory=dict)
    p99_ms: dict[str, float] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def seed(database_url: str, users: list[SimUser], population: int, events: int) -> int:
    """Migrated database: the organization, `population` members, `events` published events (the
    first one through the service: the one members tap), and `users` registered. Returns the
    tapped event's id."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from bot.services import events as service
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_to_head
    from storage.models import Event, EventStatus, Member, Membership
    from storage.types import utcnow
    from tests.e2e.helpers import bot_organization, consented

    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        organization = await bot_organization(session)
        now = utcnow()
        connection = await session.connection()
        await insert_members(connection, [900_000_000 + i for i in range(population)], now)
        ids = list((await session.exec(select(Member.id).order_by(col(Member.id)))).all())
        stamps = {"created_at": now, "updated_at": now}
        for start in range(0, len(ids), 5000):
            await connection.execute(
                insert(Membership),
                [
                    {"organization_id": organization.id, "member_id": i, "role": "member", **stamps}
                    for i in ids[start : start + 5000]
                ],
            )
        tapped = await service.create_event(
            session,
            organization_id=organization.id or 0,
            title="Assembly",
            starts_at=now + timedelta(days=1),
            now=now,
        )
        await service.publish(session, tapped, organization, now, announce=False)
        rows = [
            {
                "organization_id": organization.id,
                "title": f"Meetup {n}",
                "description": "Come along.",
                "language": "en",
                "translations": {},
                "starts_at": now + timedelta(days=2, hours=n),
                "timezone": "UTC",
                "reminder_offsets": [],
                "audience": {},
                "open_to_all": False,
                "status": EventStatus.PUBLISHED,
                "rsvp_seq": 0,
                **stamps,
            }
            for n in range(max(0, events - 1))
        ]
        for start in range(0, len(rows), 500):
            await connection.execute(insert(Event), rows[start : start + 500])
        await consented(session, organization.id, users)
        await session.commit()
        event_id = tapped.id or 0
    await engine.dispose()
    return event_id


async def round_trip(emulator: Emulator, user: SimUser, scenario: str, state: dict[int, Any]) -> None:
    """One action of a member, until its answer is in."""
    loop = asyncio.get_running_loop()
    if scenario == "rsvp":
        waiter: asyncio.Future[Any] = loop.create_future()
        flip = state[("flip", user.id)] = not state.get(("flip", user.id), False)
        query = await emulator.press_button(
            user, state[user.id], callback_data=state["taps"][flip], forge=True
        )
        emulator.answers[query] = waiter
    else:
        waiter = emulator.replies[user.id] = loop.create_future()
        await emulator.send_text(user, scenario)
    reply = await asyncio.wait_for(waiter, TIMEOUT)
    if scenario == "/events":
        state[user.id] = reply


async def closed_loop(
    emulator: Emulator, users: list[SimUser], scenario: str, seconds: float, state: dict[Any, Any]
) -> tuple[list[float], list[str], int]:
    """Every member acting in turn until the time is up: (latencies, errors) of the round trips
    that ended within the measured `seconds`, after a warm-up, and how many ended in all (warm-up
    and tail included: what the bot's CPU over the whole slice is divided by)."""
    started = time.perf_counter()
    measured_from, until = started + WARM_UP, started + WARM_UP + seconds
    latencies: list[float] = []
    errors: list[str] = []
    ended_in_all = 0

    async def member(user: SimUser) -> None:
        nonlocal ended_in_all
        while (begun := time.perf_counter()) < until:
            try:
                await round_trip(emulator, user, scenario, state)
            except Exception as error:  # counted and printed: the bench reports, it does not stop
                errors.append(f"{scenario}: {type(error).__name__}: {error}"[:200])
                return
            ended = time.perf_counter()
            ended_in_all += 1
            if measured_from <= ended <= until:
                latencies.append(ended - begun)

    await asyncio.gather(*(member(user) for user in users))
    return latencies, errors, ended_in_all


@dataclass
class Contender:
    """One bot under measurement: its own emulator and members, its process, its figures."""

    name: str
    emulator: Emulator
    users: list[SimUser]
    taps: tuple[str, str]
    bot: Process | None = None
    figures: Figures = field(default_factory=Figures)
    state: dict[Any, Any] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    round_trips: dict[str, int] = field(default_factory=dict)  # in all, for the CPU per round trip

    async def start(self, command: list[str], env: dict[str, str], workdir: Path) -> None:
        """Start the process; start-up (wall clock and CPU) to the first getUpdates, idle RSS."""
        self.emulator.first_poll = asyncio.get_running_loop().create_future()
        spawned = time.perf_counter()
        self.bot = bot = await Process.start(command, env, workdir / f"{self.name}.log")
        try:
            first_poll = await asyncio.wait_for(asyncio.shield(self.emulator.first_poll), 180)
        except TimeoutError:
            raise RuntimeError(f"{self.name} did not poll:\n{bot.log_path.read_text()[-3000:]}") from None
        self.figures.startup_cpu_s = cpu_seconds(bot.process.pid)
        self.figures.startup_s = first_poll - spawned
        await asyncio.sleep(IDLE_SECONDS)
        self.figures.idle_rss_mb = rss_mb(bot.process.pid)
        self.state["taps"] = self.taps

    async def run(self, scenario: str, seconds: float) -> None:
        """One slice of `scenario` (the figures add up over the slices)."""
        assert self.bot is not None
        if scenario == "rsvp" and self.users[0].id not in self.state:  # tapped on their /events list
            await asyncio.gather(*(round_trip(self.emulator, u, "/events", self.state) for u in self.users))
        cpu = cpu_seconds(self.bot.process.pid)
        latencies, errors, ended = await closed_loop(self.emulator, self.users, scenario, seconds, self.state)
        self.cpu[scenario] = self.cpu.get(scenario, 0.0) + cpu_seconds(self.bot.process.pid) - cpu
        self.round_trips[scenario] = self.round_trips.get(scenario, 0) + ended
        self.latencies.setdefault(scenario, []).extend(latencies)
        self.figures.errors += errors

    def settle(self, scenario: str, seconds: float) -> None:
        latencies, figures = self.latencies.get(scenario, []), self.figures
        figures.rates[scenario] = len(latencies) / seconds
        figures.p50_ms[scenario] = percentile(latencies, 0.5) * 1000 if latencies else 0.0
        figures.p99_ms[scenario] = percentile(latencies, 0.99) * 1000 if latencies else 0.0
        round_trips = max(1, self.round_trips.get(scenario, 0))
        figures.cpu_ms[scenario] = self.cpu.get(scenario, 0.0) / round_trips * 1000
        print(
            f"  {self.name:5} {scenario:8} {figures.rates[scenario]:8,.0f} round trips/s"
            f"   p50 {figures.p50_ms[scenario]:6.0f} ms   p99 {figures.p99_ms[scenario]:6.0f} ms"
            f"   bot CPU {figures.cpu_ms[scenario]:5.2f} ms each",
            flush=True,
        )

    async def stop(self) -> None:
        if self.bot is None:
            return
        self.figures.loaded_rss_mb = rss_mb(self.bot.process.pid) if self.bot.running else 0.0
        if not self.bot.running:
            self.figures.errors.append(f"{self.name} exited:\n{self.bot.log_path.read_text()[-2000:]}")
        await self.bot.stop()


async def compare(
    echo: Contender, full: Contender, seconds: float, profile: str, scenarios: tuple[str, ...]
) -> None:
    """Each scenario in ROUNDS slices, the two bots in turn (so that a change in the machine's
    load between them weighs on both alike)."""
    assert full.bot is not None
    spy = profiler(full.bot.process.pid, profile) if profile else None
    for scenario in scenarios:
        for _ in range(ROUNDS):
            for contender in (echo, full):
                await contender.run(scenario, seconds / ROUNDS)
        for contender in (echo, full):
            contender.settle(scenario, seconds)
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await asyncio.to_thread(spy.wait, 30)


def taps_on(event_id: int) -> tuple[str, str]:
    """The two buttons members press in turn: Going, Maybe."""
    from bot.views.events import EventAction

    return EventAction(action="going", id=event_id).pack(), EventAction(action="maybe", id=event_id).pack()


async def contender(name: str, members: int) -> Contender:
    token = f"{random.randint(10**8, 10**9)}:BENCH-{name}"
    emulator = Emulator(token=token, limits=Limits(flood_control=False))
    await emulator.start()
    users = [emulator.create_user(f"Member {i}", language_code="en") for i in range(members)]
    return Contender(name, emulator, users, taps_on(0))


async def main_async(
    database_url: str | None,
    members: int,
    seconds: float,
    population: int,
    events: int,
    profile: str,
    scenarios: tuple[str, ...] = SCENARIOS,
) -> int:
    backend = "PostgreSQL" if database_url else "SQLite"
    echo = await contender("echo", members)
    full = await contender("full", members)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-updates-") as folder:
            workdir = Path(folder)
            async with fresh_database(database_url, workdir, "updates") as url:
                seeding = time.perf_counter()
                event_id = await seed(url, full.users, population, events)
                full.taps = taps_on(event_id)
                print(
                    f"updates bench: {members} members in a closed loop, {seconds:g} s per scenario "
                    f"({ROUNDS} slices, the bots in turn), {backend}; {population:,} members and "
                    f"{events:,} events in the database (seeded in {time.perf_counter() - seeding:.0f} s); "
                    f"load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                try:
                    for bot, command, extra in (
                        (echo, [sys.executable, "-m", "bench.echo_bot"], {}),
                        (full, bot_command("run"), {"DATABASE_URL": url, "CHAT_INTERVAL": "0.01"}),
                    ):
                        token = bot.emulator.token
                        env = bot_environment(
                            workdir, BOT_TOKEN=token, TELEGRAM_API_URL=bot.emulator.base_url
                        )
                        await bot.start(command, env | extra, workdir)
                    await compare(echo, full, seconds, profile, scenarios)
                finally:
                    for bot in (echo, full):
                        await bot.stop()
    finally:
        for bot in (echo, full):
            await bot.emulator.stop()
    return report(echo.figures, full.figures, scenarios)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def report(echo: Figures, full: Figures, scenarios: tuple[str, ...] = SCENARIOS) -> int:
    ok = True
    for scenario in scenarios:
        ratio = full.rates[scenario] / echo.rates[scenario] if echo.rates.get(scenario) else 0.0
        met = ratio >= TARGETS[scenario]
        ok &= met
        print(
            f"  {scenario:8} full/echo {ratio:.2f} (target >= {TARGETS[scenario]}: {verdict(met)}); "
            f"p99 {full.p99_ms[scenario]:.0f} ms vs {echo.p99_ms[scenario]:.0f} ms"
        )
    startup = full.startup_s - echo.startup_s
    rss = full.idle_rss_mb - echo.idle_rss_mb
    print(
        f"  start-up to first getUpdates: CPU full {full.startup_cpu_s:.2f} s, "
        f"echo {echo.startup_cpu_s:.2f} s, {full.startup_cpu_s - echo.startup_cpu_s:+.2f} s; wall clock "
        f"full {full.startup_s:.2f} s, echo {echo.startup_s:.2f} s, "
        f"{startup:+.2f} s (target <= +{STARTUP_TARGET_S}: {verdict(startup <= STARTUP_TARGET_S)})"
    )
    print(
        f"  idle RSS: full {full.idle_rss_mb:.0f} MB, echo {echo.idle_rss_mb:.0f} MB, {rss:+.0f} MB "
        f"(target <= +{RSS_TARGET_MB:.0f}: {verdict(rss <= RSS_TARGET_MB)}); "
        f"after the load: full {full.loaded_rss_mb:.0f} MB, echo {echo.loaded_rss_mb:.0f} MB"
    )
    ok &= startup <= STARTUP_TARGET_S and rss <= RSS_TARGET_MB
    for error in sorted(set(echo.errors + full.errors))[:5]:
        print(f"  error: {error}")
    errors = bool(echo.errors or full.errors)
    print("  result:", "FAILED (errors)" if errors else "targets met" if ok else "targets NOT met")
    return 1 if errors else 0


def scenarios(text: str, parser: argparse.ArgumentParser) -> tuple[str, ...]:
    chosen = tuple(name.strip() for name in text.split(",") if name.strip())
    if not chosen or set(chosen) - set(SCENARIOS):
        parser.error(f"--scenarios: choose among {', '.join(SCENARIOS)}")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=30, help="members acting in the closed loop")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per scenario")
    parser.add_argument("--population", type=int, default=100_000, help="members in the database")
    parser.add_argument("--events", type=int, default=1000, help="published events in the database")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL server URL (default: TEST_DATABASE_URL, else SQLite)",
    )
    parser.add_argument("--profile", default="", help="record the full bot with py-spy into this file")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, among {', '.join(SCENARIOS)} (default: all)",
    )
    arguments = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(
            asyncio.run(
                main_async(
                    arguments.database_url,
                    arguments.members,
                    arguments.seconds,
                    arguments.population,
                    arguments.events,
                    arguments.profile,
                    scenarios(arguments.scenarios, parser),
                )
            )
        )


if __name__ == "__main__":
    main()

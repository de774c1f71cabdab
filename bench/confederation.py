"""Confederation benchmark (issue 13): 200 organizations, 100,000 members spread over them and
5,000 events, with the directory, /stats and an audience count measured beside a /help round
trip in the same run.

    .venv/bin/python -m bench.confederation                  # full size, SQLite in a temp folder
    .venv/bin/python -m bench.confederation --scale 0.1 --rounds 10   # a smoke run
    .venv/bin/python -m bench.confederation --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

The rows go in with core INSERTs (no services, no ORM objects), then PostgreSQL's ANALYZE (right
after a bulk load its planner knows nothing of the tables and picks nested loops). The bot runs
as in the end-to-end tests (Dispatcher polling the emulator over HTTP, in this process); one
member, admin of the bot's organization (`--scale` × 10,000 members, the largest), types. Each
round measures, from the update sent to the bot's answer seen by the emulator:

- `/help` (the baseline);
- `/directory`: the directory's first page;
- `/directory <name>`: a search by a typed name (folded, in any script);
- `/stats`: the text summary of the organization of 10,000 members (last 30 days);
- the audience count: the service `count_members` called directly (what the announcement
  composer's "It reaches N members" runs) for a confederation-wide audience ({"reach": {"all":
  true}}, 100,000 members), in a session of the bot's engine — the composer's dialog, a dozen
  taps, is not replayed.

Printed: p50 / p99 of each, their ratios to /help's, and the targets: directory and audience
count within 3× of /help; the stats text within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import CHUNK, insert_members, percentile
from bench.resources import report, round_trip
from tests.postgres import create_database, drop_database

COUNTRIES = ("DE", "FR", "SN", "UA", "SD", "NG", "IT", "ES", "GB", "SE")
LANGUAGES = ("en", "fr", "ar", "uk", "de", "sw", "es", "ru")
TOPICS = ("culture", "jobs", "housing", "education", "health", "youth", "women", "sport")
NAMES = ("Solidarité", "Союз", "جمعية", "Union", "Network", "Verein", "Asociación", "Jumuiya")
SEARCHES = ("solidarite", "союз", "جمعيه", "UNION 1", "verein 7", "jumuiya")
TARGET_RATIO, STATS_TARGET_S = 3.0, 2.0


def organization_rows(count: int) -> list[dict[str, Any]]:
    """`count` listed organizations (every eighth a network), names in several scripts."""
    from storage.models import Organization, OrgKind

    rows = []
    for n in range(count):
        organization = Organization(
            slug=f"bench-{n}",
            name=f"{NAMES[n % len(NAMES)]} {n}",
            kind=OrgKind.NETWORK if n % 8 == 7 else OrgKind.ORGANIZATION,
            description=f"Diaspora organization number {n}.",
            countries=[COUNTRIES[n % len(COUNTRIES)], COUNTRIES[(n + 3) % len(COUNTRIES)]],
            languages=[LANGUAGES[n % len(LANGUAGES)], "en"],
            topics=[TOPICS[n % len(TOPICS)]],
            invite_code=secrets.token_urlsafe(9),
        )
        rows.append(organization.model_dump(exclude={"id"}))
    return rows


def event_rows(organization_ids: list[int], count: int, now: Any) -> list[dict[str, Any]]:
    """`count` published events, upcoming, spread over the organizations."""
    from storage.models import EventStatus

    return [
        {
            "organization_id": organization_ids[n % len(organization_ids)],
            "title": f"Gathering {n}",
            "description": "All welcome.",
            "language": "en",
            "translations": {},
            "starts_at": now + timedelta(days=1 + n % 60, hours=n % 24),
            "timezone": "UTC",
            "reminder_offsets": [],
            "audience": {},
            "open_to_all": n % 10 == 0,
            "status": EventStatus.PUBLISHED,
            "rsvp_seq": 0,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]


async def seed(session: Any, home_id: int, scale: float) -> None:
    """Organizations, members (their profiles varied, for /stats), memberships (`scale` × 10,000
    in the bot's organization `home_id`, the rest spread over the others) and events."""
    from sqlalchemy import insert, text, update
    from sqlmodel import col, select

    from storage.models import Event, Member, Membership, Organization
    from storage.types import utcnow

    now = utcnow()
    connection = await session.connection()
    await connection.execute(insert(Organization), organization_rows(199))
    others = [i for i in (await session.exec(select(Organization.id))).all() if i != home_id]
    members, home = int(100_000 * scale), int(10_000 * scale)
    await insert_members(connection, [800_000_000 + i for i in range(members)], now)
    ids = list((await session.exec(select(Member.id).order_by(col(Member.id)))).all())
    for k, (country, language) in enumerate(zip(COUNTRIES, LANGUAGES * 2, strict=False)):
        await connection.execute(
            update(Member)
            .where(col(Member.id) % len(COUNTRIES) == k)
            .values(
                residence_country=country,
                residence_city=f"City {k % 4}",
                origin_country=COUNTRIES[-1 - k],
                language=language,
                interests=[TOPICS[k % len(TOPICS)]],
                profile_completed_at=now,
            )
        )
    stamps = {"role": "member", "created_at": now, "updated_at": now}
    rows = [
        {"organization_id": home_id if n < home else others[n % len(others)], "member_id": i, **stamps}
        for n, i in enumerate(ids)
    ]
    for start in range(0, len(rows), CHUNK):
        await connection.execute(insert(Membership), rows[start : start + CHUNK])
    events = event_rows([home_id, *others], int(5000 * scale), now)
    for start in range(0, len(events), 1000):
        await connection.execute(insert(Event), events[start : start + 1000])
    await session.commit()
    if connection.dialect.name == "postgresql":  # fresh statistics, as autovacuum would leave them
        await (await session.connection()).execute(text("ANALYZE"))
        await session.commit()


async def admin(harness: Any, home_id: int) -> Any:
    """The member who measures: registered, admin of the bot's organization."""
    from sqlalchemy import update

    from bot.services.members import TelegramIdentity, complete_profile, record_consent
    from storage.db import create_session_factory
    from storage.models import Membership, Role

    user = harness.emulator.create_user("Bench", language_code="en")
    async with create_session_factory(harness.app.engine)() as session:
        member = await record_consent(session, TelegramIdentity(user.id, None, "Bench"), "en", "UTC", home_id)
        await complete_profile(session, member)
        await (await session.connection()).execute(
            update(Membership)
            .where(Membership.member_id == member.id, Membership.organization_id == home_id)
            .values(role=Role.ADMIN)
        )
        await session.commit()
    return user


async def audience_count(harness: Any, home_id: int) -> tuple[float, int]:
    """Seconds of one confederation-wide `count_members` (its own session, as a handler's), and N."""
    from bot.services.audience import count_members
    from storage.db import create_session_factory

    started = time.perf_counter()
    async with create_session_factory(harness.app.engine)() as session:
        reached = await count_members(session, home_id, {"reach": {"all": True}}, "announcements")
    return time.perf_counter() - started, reached


async def run(database_url: str, scale: float, rounds: int) -> dict[str, list[float]]:
    from storage.db import create_session_factory
    from tests.e2e.conftest import start_harness

    timings: dict[str, list[float]] = {
        name: [] for name in ("help", "directory", "search", "stats", "audience")
    }
    async for harness in start_harness(database_url):
        home_id = harness.app.dispatcher["organization"].id
        started = time.perf_counter()
        async with create_session_factory(harness.app.engine)() as session:
            await seed(session, home_id, scale)
        print(
            f"confederation bench: 200 organizations, {int(100_000 * scale):,} members "
            f"({int(10_000 * scale):,} in the measured one), {int(5000 * scale):,} events; "
            f"seeded in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        user = await admin(harness, home_id)
        stats = await harness.send(user, "/stats")  # warm-up
        print("  /stats:", " / ".join(stats["text"].splitlines()[2:4])[:120])
        _, reached = await audience_count(harness, home_id)
        print(f"  audience: reaches {reached:,} members")
        for index in range(rounds):
            timings["help"].append(await round_trip(harness, user, "/help"))
            timings["directory"].append(await round_trip(harness, user, "/directory"))
            search = SEARCHES[index % len(SEARCHES)]
            timings["search"].append(await round_trip(harness, user, f"/directory {search}"))
            timings["stats"].append(await round_trip(harness, user, "/stats"))
            timings["audience"].append((await audience_count(harness, home_id))[0])
    return timings


def verdicts(timings: dict[str, list[float]]) -> None:
    """The targets, met or not."""
    base = percentile(timings["help"], 0.5)
    for name in ("directory", "search", "audience"):
        ratio = percentile(timings[name], 0.5) / base
        met = "met" if ratio <= TARGET_RATIO else "NOT met"
        print(f"  {name}: p50 {ratio:.2f}× /help (target <= {TARGET_RATIO:g}×: {met})")
    stats = percentile(timings["stats"], 0.99)
    met = "met" if stats <= STATS_TARGET_S else "NOT met"
    print(f"  stats text: p99 {stats:.2f} s (target <= {STATS_TARGET_S:g} s: {met})")


async def main(arguments: argparse.Namespace) -> None:
    if arguments.database_url:
        url = await create_database(arguments.database_url, "bench_confederation")
        try:
            timings = await run(url, arguments.scale, arguments.rounds)
        finally:
            await drop_database(arguments.database_url, url)
    else:
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
            timings = await run(url, arguments.scale, arguments.rounds)
    report(timings)
    verdicts(timings)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="members and events × this (smoke: 0.1)")
    parser.add_argument("--rounds", type=int, default=50, help="measured rounds of each request")
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL server URL (a fresh database is made)"
    )
    asyncio.run(main(parser.parse_args()))

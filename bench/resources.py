"""Library benchmark (issue 18): 10,000 resources in 8 languages, searched and browsed through the
real bot on the emulator, beside a /help round trip in the same run.

    .venv/bin/python -m bench.resources                  # 10,000 resources, SQLite in a temp folder
    .venv/bin/python -m bench.resources --resources 1000 --rounds 20   # a smoke run
    .venv/bin/python -m bench.resources --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

The bot runs as in the end-to-end tests (Dispatcher polling the emulator over HTTP, in this
process); one registered member types and taps. Each round measures, from the update sent to the
bot's answer seen by the emulator:

- `/help` (the baseline: a command answered from memory and one member lookup);
- a search: a word typed after /resources (the full-text index: FTS5 on SQLite, GIN on
  PostgreSQL), its page of 8 results with the total;
- a category page: the category button pressed, the page edited in place (a page of one category
  out of 10,000, the member's language first).

Printed: p50 / p99 of each, and the ratio of each p50 and p99 to /help's (target: within 3×).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import percentile
from tests.postgres import create_database, drop_database

LANGUAGES = ("en", "fr", "es", "ar", "ru", "sw", "zh_Hans", "de")
WORDS = {
    "en": ["grant", "housing", "visa", "health", "school", "work", "guide", "rights", "youth", "women"],
    "fr": [
        "subvention",
        "logement",
        "séjour",
        "santé",
        "école",
        "emploi",
        "guide",
        "droits",
        "jeunesse",
        "femmes",
    ],
    "es": [
        "subvención",
        "vivienda",
        "visado",
        "salud",
        "escuela",
        "empleo",
        "guía",
        "derechos",
        "juventud",
        "mujeres",
    ],
    "ar": ["منحة", "سكن", "تأشيرة", "صحة", "مدرسة", "عمل", "دليل", "حقوق", "شباب", "نساء"],
    "ru": [
        "грант",
        "жильё",
        "виза",
        "здоровье",
        "школа",
        "работа",
        "пособие",
        "права",
        "молодёжь",
        "женщины",
    ],
    "sw": ["ruzuku", "makazi", "viza", "afya", "shule", "kazi", "mwongozo", "haki", "vijana", "wanawake"],
    "zh_Hans": ["资助", "住房", "签证", "健康", "学校", "工作", "指南", "权利", "青年", "妇女"],
    "de": [
        "Förderung",
        "Wohnung",
        "Visum",
        "Gesundheit",
        "Schule",
        "Arbeit",
        "Leitfaden",
        "Rechte",
        "Jugend",
        "Frauen",
    ],
}
QUERIES = ["SANTE", "viza", "права", "سكن", "签证", "Förderung", "guide", "emploi"]


def resource_rows(count: int, organization_id: int, now: Any) -> list[dict[str, Any]]:
    """`count` published resources, spread over the 8 languages and the 8 categories."""
    from bot.services.library import CATEGORIES
    from bot.services.library.search import search_langs, search_text
    from storage.models import Resource

    rows = []
    generator = random.Random(18)
    for index in range(count):
        language = LANGUAGES[index % len(LANGUAGES)]
        words = generator.sample(WORDS[language], 4)
        resource = Resource(
            organization_id=organization_id,
            title=" ".join(words[:3]) + f" {index}",
            summary=" ".join(generator.sample(WORDS[language], 6)),
            language=language,
            languages=[language],
            tags=words[3:],
            category=CATEGORIES[index % len(CATEGORIES)],
            status="published",
            published_at=now,
        )
        rows.append(
            {
                "organization_id": organization_id,
                "scope": "org",
                "kind": "resource",
                "status": "published",
                "title": resource.title,
                "summary": resource.summary,
                "category": resource.category,
                "language": language,
                "languages": [language],
                "tags": resource.tags,
                "translations": {},
                "search_text": search_text(resource),
                "search_langs": search_langs(resource),
                "created_at": now,
                "updated_at": now,
                "published_at": now,
            }
        )
    return rows


async def run(database_url: str, resources: int, rounds: int) -> dict[str, list[float]]:
    from sqlalchemy import insert

    from bot.services.members import TelegramIdentity, complete_profile, record_consent
    from storage.db import create_session_factory
    from storage.models import Resource
    from storage.types import utcnow
    from tests.e2e.conftest import start_harness

    timings: dict[str, list[float]] = {"help": [], "search": [], "category": []}
    async for harness in start_harness(database_url):
        user = harness.emulator.create_user("Bench", language_code="fr")
        async with create_session_factory(harness.app.engine)() as session:
            organization_id = harness.app.dispatcher["organization"].id
            member = await record_consent(
                session, TelegramIdentity(user.id, None, "Bench"), "fr", "UTC", organization_id
            )
            await complete_profile(session, member)
            rows = resource_rows(resources, organization_id, utcnow())
            started = time.perf_counter()
            for start in range(0, len(rows), 1000):
                await (await session.connection()).execute(insert(Resource), rows[start : start + 1000])
            await session.commit()
            print(f"{resources} resources inserted and indexed in {time.perf_counter() - started:.1f} s")
        await harness.send(user, "/resources")  # warm-up, and the search state

        for index in range(rounds):
            timings["help"].append(await round_trip(harness, user, "/help"))
            home = await harness.send(user, "/resources")
            timings["search"].append(await round_trip(harness, user, QUERIES[index % len(QUERIES)]))
            labels = [button["text"] for row in home["reply_markup"]["inline_keyboard"] for button in row]
            started = time.perf_counter()
            await harness.press(user, home, labels[index % 8])
            timings["category"].append(time.perf_counter() - started)
    return timings


async def round_trip(harness: Any, user: Any, text: str) -> float:
    """Seconds from a text sent to the bot's answer."""
    started = time.perf_counter()
    await harness.send(user, text)
    return time.perf_counter() - started


def report(timings: dict[str, list[float]]) -> None:
    base50, base99 = percentile(timings["help"], 0.5), percentile(timings["help"], 0.99)
    print(f"{'':10} {'p50 ms':>8} {'p99 ms':>8} {'p50 ×/help':>11} {'p99 ×/help':>11}")
    for name, values in timings.items():
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"{name:10} {p50 * 1000:8.1f} {p99 * 1000:8.1f} {p50 / base50:11.2f} {p99 / base99:11.2f}")


async def main(arguments: argparse.Namespace) -> None:
    if arguments.database_url:
        url = await create_database(arguments.database_url, "bench_resources")
        try:
            report(await run(url, arguments.resources, arguments.rounds))
        finally:
            await drop_database(arguments.database_url, url)
        return
    with tempfile.TemporaryDirectory() as folder:
        report(
            await run(
                f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}", arguments.resources, arguments.rounds
            )
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=100, help="measured rounds of each request")
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL server URL (a fresh database is made)"
    )
    asyncio.run(main(parser.parse_args()))

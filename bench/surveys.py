"""Survey benchmark (issue 7): members answering a 5-question survey at once, figures printed.

    .venv/bin/python -m bench.surveys                      # 1,000 members, SQLite in a temp folder
    .venv/bin/python -m bench.surveys --members 200        # a smoke run
    .venv/bin/python -m bench.surveys --database-url postgresql+asyncpg://postgres@127.0.0.1/bench

Every member is a task doing what the bot does for one member: one transaction per update —
`start_or_resume`, five `answer`s (single, multiple, rating, number, text) and `submit` — all
members at the same time. Printed: responses stored per second, p50/p99 answer latency (one
`answer` + its commit), and "lost answers" from counting the rows afterwards (must be 0: every
member submitted, every answer stored once). The baseline, measured in the same run on the same
database, is the same number of plain one-row INSERT transactions (no locks, no checks), so the
ratio shows what the serialization and validation cost.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

ANSWERS = (1, [0, 2], 4, "37", "More evening events, please")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def prepare(database_url: str, count: int) -> tuple[Any, int, list[int]]:
    """A migrated database, an organization, `count` members and an open 5-question survey."""
    from sqlalchemy import insert
    from sqlmodel import select

    from bot.services import surveys as service
    from bot.services.roles import ensure_default_organization
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_to_head
    from storage.models import Member, Membership
    from storage.types import utcnow

    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        organization = await ensure_default_organization(session, "Bench", "en", "UTC")
        now = utcnow()
        connection = await session.connection()
        await connection.execute(
            insert(Member),
            [
                {
                    "telegram_id": 10_000 + i,
                    "language": "en",
                    "timezone": "UTC",
                    "interests": [],
                    "muted": [],
                    "status": "active",
                    "consent_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(count)
            ],
        )
        member_ids = list((await session.exec(select(Member.id).order_by(Member.id))).all())  # type: ignore[arg-type]
        await connection.execute(
            insert(Membership),
            [{"organization_id": organization.id, "member_id": m, "role": "member"} for m in member_ids],
        )
        survey = await service.create_survey(session, organization.id or 0, "Bench survey", now)
        await service.add_question(session, survey, "single", "City?", options=["A", "B", "C"])
        await service.add_question(session, survey, "multiple", "Topics?", options=["X", "Y", "Z"])
        await service.add_question(session, survey, "rating", "Satisfied?")
        await service.add_question(session, survey, "number", "Age?", min_value=0, max_value=120)
        await service.add_question(session, survey, "text", "Ideas?", max_length=200)
        await service.open_survey(session, survey, organization, now)
        await session.commit()
    return engine, survey.id or 0, [m for m in member_ids if m is not None]


async def answer_all(engine: Any, survey_id: int, member_ids: list[int]) -> tuple[float, list[float]]:
    from sqlalchemy.exc import OperationalError

    from bot.services import surveys as service
    from storage.db import create_session_factory
    from storage.models import Member
    from storage.types import utcnow

    sessions = create_session_factory(engine)
    latencies: list[float] = []

    async def step(work: Any) -> Any:
        for attempt in range(20):  # what the bot's retries would do on a busy database
            try:
                async with sessions() as session:
                    result = await work(session)
                    await session.commit()
                    return result
            except OperationalError:
                await asyncio.sleep(0.01 * (attempt + 1))
        raise RuntimeError("gave up")

    async def resume(session: Any, member_id: int) -> Any:
        survey = await service.get_survey(session, survey_id)
        member = await session.get(Member, member_id)
        return await service.start_or_resume(session, survey, member, utcnow())

    async def member_answers(member_id: int) -> None:
        """As the bot handles each update: load where the member is, then act (one transaction)."""
        await step(lambda session: resume(session, member_id))
        for raw in ANSWERS:
            started = time.perf_counter()

            async def give(session: Any, raw: Any = raw) -> Any:
                response, question = await resume(session, member_id)
                return await service.answer(session, response, question, raw, utcnow())

            await step(give)
            latencies.append(time.perf_counter() - started)

        async def submit(session: Any) -> Any:
            response, _ = await resume(session, member_id)
            return await service.submit(session, response, utcnow())

        await step(submit)

    started = time.perf_counter()
    await asyncio.gather(*(member_answers(member_id) for member_id in member_ids))
    return time.perf_counter() - started, latencies


async def baseline(engine: Any, count: int) -> float:
    """The same number of one-row INSERT transactions, as concurrent, into a scratch table."""
    from sqlalchemy import text

    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, value TEXT)"))

    async def one(i: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO bench_plain (id, value) VALUES (:i, :v)"), {"i": i, "v": "x"}
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - started


async def run(database_url: str, count: int) -> None:
    from sqlmodel import func, select

    from storage.models import ResponseStatus, SurveyAnswer, SurveyResponse

    engine, survey_id, member_ids = await prepare(database_url, count)
    try:
        elapsed, latencies = await answer_all(engine, survey_id, member_ids)
        from storage.db import create_session_factory

        async with create_session_factory(engine)() as session:
            submitted = (
                await session.exec(
                    select(func.count())
                    .select_from(SurveyResponse)
                    .where(
                        SurveyResponse.survey_id == survey_id,
                        SurveyResponse.status == ResponseStatus.SUBMITTED,
                    )
                )
            ).one()
            answers = (await session.exec(select(func.count()).select_from(SurveyAnswer))).one()
        plain = await baseline(engine, len(ANSWERS) * count)
    finally:
        await engine.dispose()
    expected = len(ANSWERS) * count
    print(f"members answering at once:   {count} ({len(ANSWERS)} questions each)")
    print(f"responses stored per second: {submitted / elapsed:.1f} ({submitted} in {elapsed:.2f} s)")
    print(f"answer latency:              p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms")  # fmt: skip
    print(f"lost answers:                {expected - answers} (stored {answers} of {expected}; "
          f"submitted {submitted} of {count})")  # fmt: skip
    print(f"baseline:                    {expected} plain INSERT transactions in {plain:.2f} s "
          f"({expected / plain:.0f}/s)")  # fmt: skip
    print(f"answers/s vs plain inserts:  {(answers / elapsed) / (expected / plain):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: SQLite in a temp folder)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        asyncio.run(run(url, args.members))


if __name__ == "__main__":
    main()

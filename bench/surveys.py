"""Survey benchmark (issue 7): 1,000 members answering a 5-question survey at once, figures printed.

    .venv/bin/python -m bench.surveys                     # 1,000 members, SQLite in a temp folder
    .venv/bin/python -m bench.surveys --members 200       # a smoke run
    .venv/bin/python -m bench.surveys --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

Every member is one asyncio task doing what the bot does for their taps, one transaction per tap
(a fresh session, the service call, commit), all tasks started together and, as in the bot, at
most MAX_CONCURRENT_UPDATES (10) taps handled at once while the others wait their turn: Start
(`start_or_resume`), five answers (single choice, multiple choice, rating, number, text) through
`answer`, then `submit`. Each tap after Start first reads where the member is as the bot's handlers
do (`start_or_resume(begin=False)`: one statement for the response and the question being
answered; the bench used to `session.merge` the previous tap's response and question, two reads
the bot never makes). The views (the next question's screen) are not part of it. Printed:

- answers stored per second (5 per member) and responses submitted per second, wall clock;
- p50 / p99 latency of one answer (tap → committed, including the wait for its turn), as a member
  would wait for it behind everyone else's taps;
- the baseline measured in the same run on a fresh database: the same members, the same number of
  transactions at the same concurrency, each one bare `UPDATE members … WHERE id = …` and commit.
  The ratio (survey transactions/s ÷ baseline transactions/s) is the cost of the survey logic
  (response lock, survey share lock, validation, answer upsert) over a bare write transaction.
  Both parts run the same way (one task per member, the same limit on taps at once, the same
  engine, pool and fresh database), so the comparison is fair; what every transaction costs alike
  (the session, the commit, the pool's rollback as the connection goes back) weighs on both;
- lost answers: every submitted response is read back and compared with what its member sent
  (must be 0), and the number of responses must equal the members.

On PostgreSQL a fresh database is created for each part and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import insert_members, percentile
from tests.postgres import create_database, drop_database

QUESTIONS: list[dict[str, Any]] = [
    {"kind": "single", "text": "Which region are you from?", "options": ["North", "South", "East", "West"]},
    {"kind": "multiple", "text": "Which topics interest you?", "options": ["Jobs", "Culture", "Health"]},
    {"kind": "rating", "text": "How useful was our last event?", "min_value": 1, "max_value": 5},
    {"kind": "number", "text": "How many years abroad?", "min_value": 0, "max_value": 80},
    {"kind": "text", "text": "One idea for next year?", "max_length": 500},
]


def raw_answers(index: int) -> list[Any]:
    """What member number `index` answers (varied, so a mix-up between members would show)."""
    return [index % 4, sorted({index % 3, (index // 3) % 3}), 1 + index % 5, index % 81, f"idea {index}"]


def stored(index: int) -> list[Any]:
    """The values the service stores for `raw_answers(index)`."""
    single, multiple, rating, number, text = raw_answers(index)
    return [single, multiple, rating, number, text]


@asynccontextmanager
async def fresh_database(base_url: str | None, workdir: Path, name: str) -> AsyncIterator[str]:
    if base_url is None:
        yield f"sqlite+aiosqlite:///{workdir / f'{name}.sqlite3'}"
        return
    database_url = await create_database(base_url, f"bench_{name}")
    try:
        yield database_url
    finally:
        await drop_database(base_url, database_url)


async def prepare(database_url: str, members: int) -> tuple[int, list[int]]:
    """Migrated database, one organization, the members (bulk insert), an open survey."""
    from sqlalchemy import insert
    from sqlmodel import col, select

    from bot.services import surveys
    from bot.services.roles import ensure_default_organization
    from storage.db import create_engine, create_session_factory
    from storage.migrate import upgrade_to_head
    from storage.models import Member, Membership
    from storage.types import utcnow

    await asyncio.to_thread(upgrade_to_head, database_url)
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        organization = await ensure_default_organization(session, "Bench community", "en", "UTC")
        now = utcnow()
        stamps = {"created_at": now, "updated_at": now}
        connection = await session.connection()
        await insert_members(connection, [700_000 + i for i in range(members)], now)
        member_ids = list((await session.exec(select(Member.id).order_by(col(Member.id)))).all())
        await connection.execute(
            insert(Membership),
            [
                {"organization_id": organization.id, "member_id": m, "role": "member", **stamps}
                for m in member_ids
            ],
        )
        survey = await surveys.create_survey(
            session, organization.id or 0, "Community needs 2027", now, closes_at=now + timedelta(days=7)
        )
        for question in QUESTIONS:
            fields = {key: value for key, value in question.items() if key not in {"kind", "text"}}
            await surveys.add_question(session, survey, question["kind"], question["text"], **fields)
        await surveys.open_survey(session, survey, organization, now)
        await session.commit()
        survey_id = survey.id or 0
    await engine.dispose()
    return survey_id, [m or 0 for m in member_ids]


Step = Callable[[Any], Awaitable[None]]


async def run_members(
    database_url: str, member_ids: list[int], steps: Callable[[int, int], list[Step]]
) -> dict:
    """All members at once, one task each; every step is one transaction (session → commit)."""
    from bot.config import Settings
    from storage.db import create_engine, create_session_factory

    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    turn = asyncio.Semaphore(Settings().max_concurrent_updates)  # the dispatcher's limit
    latencies: list[tuple[int, float, float]] = []  # (step number, seconds with the wait, handling)
    errors: list[str] = []

    async def member(index: int, member_id: int) -> None:
        for number, step in enumerate(steps(index, member_id)):
            started = time.perf_counter()
            try:
                async with turn, sessions() as session:
                    handling = time.perf_counter()
                    await step(session)
                    await session.commit()
                    handling = time.perf_counter() - handling
            except Exception as error:  # counted and printed: the bench reports, it does not stop
                errors.append(f"{type(error).__name__}: {error}")
                return
            latencies.append((number, time.perf_counter() - started, handling))

    started = time.perf_counter()
    await asyncio.gather(*(member(i, m) for i, m in enumerate(member_ids)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return {"elapsed": elapsed, "latencies": latencies, "errors": errors}


async def survey_run(database_url: str, members: int) -> dict[str, Any]:
    from bot.services import surveys
    from storage.models import Member
    from storage.types import utcnow

    survey_id, member_ids = await prepare(database_url, members)

    def steps(index: int, member_id: int) -> list[Step]:
        state: dict[str, Any] = {}
        values = raw_answers(index)

        async def start(session: Any) -> None:
            survey = await surveys.get_survey(session, survey_id)
            member = await session.get(Member, member_id)
            await surveys.start_or_resume(session, survey, member, utcnow())
            state["survey"], state["member"] = survey, member

        async def place(session: Any) -> tuple[Any, Any]:
            """Where the member is, read as the bot reads it for every tap (`progress`: one statement)."""
            return await surveys.start_or_resume(
                session, state["survey"], state["member"], utcnow(), begin=False
            )

        def answer_step(value: Any) -> Step:
            async def step(session: Any) -> None:
                response, question = await place(session)
                await surveys.answer(session, response, question, value, utcnow())

            return step

        async def submit(session: Any) -> None:
            response, _ = await place(session)
            await surveys.submit(session, response, utcnow())

        return [start, *(answer_step(value) for value in values), submit]

    result = await run_members(database_url, member_ids, steps)
    # Steps: 0 start, 1..5 the answers, 6 submit.
    answers = [(total, handling) for n, total, handling in result["latencies"] if 1 <= n <= len(QUESTIONS)]
    result["answer_latencies"] = [total for total, _ in answers]
    result["answer_handling"] = [handling for _, handling in answers]
    result["lost"], result["responses"] = await verify(database_url, survey_id, member_ids)
    return result


async def verify(database_url: str, survey_id: int, member_ids: list[int]) -> tuple[int, int]:
    """(answers missing or different from what was sent, submitted responses)."""
    from sqlmodel import col, select

    from storage.db import create_engine, create_session_factory
    from storage.models import SurveyAnswer, SurveyQuestion, SurveyResponse

    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        questions = list(
            (
                await session.exec(
                    select(SurveyQuestion.id)
                    .where(SurveyQuestion.survey_id == survey_id)
                    .order_by(col(SurveyQuestion.position))
                )
            ).all()
        )
        responses = {
            key: response_id
            for key, response_id in (
                await session.exec(
                    select(SurveyResponse.respondent_key, SurveyResponse.id).where(
                        SurveyResponse.survey_id == survey_id, SurveyResponse.status == "submitted"
                    )
                )
            ).all()
        }
        values: dict[tuple[int, int], Any] = {
            (response_id, question_id): value
            for response_id, question_id, value in (
                await session.exec(
                    select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.value)
                )
            ).all()
        }
    await engine.dispose()
    lost = 0
    for index, member_id in enumerate(member_ids):
        response_id = responses.get(f"m{member_id}")
        expected = stored(index)
        for position, question_id in enumerate(questions):
            got = values.get((response_id or -1, question_id or -1))
            if got != expected[position]:
                lost += 1
    return lost, len(responses)


async def baseline_run(database_url: str, members: int) -> dict[str, Any]:
    """The same members and number of transactions, each one bare UPDATE and commit."""
    from sqlalchemy import update

    from storage.models import Member
    from storage.types import utcnow

    _, member_ids = await prepare(database_url, members)

    def steps(index: int, member_id: int) -> list[Step]:
        async def touch(session: Any) -> None:
            await session.exec(update(Member).where(Member.id == member_id).values(updated_at=utcnow()))

        return [touch] * (2 + len(QUESTIONS))

    return await run_members(database_url, member_ids, steps)


async def main_async(members: int, database_url: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-surveys-") as folder:
        workdir = Path(folder)
        async with fresh_database(database_url, workdir, "baseline") as url:
            baseline = await baseline_run(url, members)
        async with fresh_database(database_url, workdir, "survey") as url:
            survey = await survey_run(url, members)
    transactions = members * (2 + len(QUESTIONS))
    backend = "PostgreSQL" if database_url else "SQLite"
    base_rate = transactions / baseline["elapsed"]
    rate = transactions / survey["elapsed"]
    answers = survey["answer_latencies"]
    print(f"surveys bench: {members} members x {len(QUESTIONS)} questions, all at once, {backend}")
    print(
        f"  answers stored: {members * len(QUESTIONS) / survey['elapsed']:,.0f}/s; "
        f"responses submitted: {members / survey['elapsed']:,.0f}/s "
        f"({survey['elapsed']:.2f} s for {transactions:,} transactions)"
    )
    handling = survey["answer_handling"]
    print(
        f"  answer latency (tap → committed, waiting behind everyone else's taps): "
        f"p50 {percentile(answers, 0.5) * 1000:.0f} ms, p99 {percentile(answers, 0.99) * 1000:.0f} ms"
    )
    print(
        f"  answer handling once its turn came (session → commit): "
        f"p50 {percentile(handling, 0.5) * 1000:.1f} ms, p99 {percentile(handling, 0.99) * 1000:.1f} ms"
    )
    print(
        f"  baseline (bare UPDATE + commit, same concurrency): {base_rate:,.0f} transactions/s; "
        f"survey: {rate:,.0f} transactions/s -> ratio {rate / base_rate:.2f}"
    )
    print(f"  submitted responses: {survey['responses']} of {members}; lost answers: {survey['lost']}")
    failures = survey["errors"] + baseline["errors"]
    for error in sorted(set(failures))[:5]:
        print(f"  error: {error}")
    ok = not failures and survey["lost"] == 0 and survey["responses"] == members
    print("  result:", "OK (no lost answer)" if ok else "FAILED")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (default: SQLite)")
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main_async(arguments.members, arguments.database_url)))


if __name__ == "__main__":
    main()

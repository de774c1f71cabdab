"""Throwaway PostgreSQL databases, for the tests and the benchmarks: created under a fresh name on
the server a URL names (empty, or a copy of a template database), and dropped afterwards even with
connections left open."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


async def run_on_server(server_url: str, *statements: str) -> None:
    """Statements on the server of `server_url`, one by one on one connection (CREATE/DROP
    DATABASE run outside a transaction)."""
    import asyncpg

    url = make_url(server_url)
    connection = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "postgres",
    )
    try:
        for sql in statements:
            await connection.execute(sql)
    finally:
        await connection.close()


async def create_database(
    server_url: str, prefix: str, template: str | None = None, durable: bool = True
) -> str:
    """A new database named `prefix_` and a random suffix: empty, or a copy of the database the URL
    `template` names (which nobody may be connected to); its URL. Not `durable`: its commits do not
    wait for the disk (synchronous_commit off: what a commit shows other sessions is the same, only
    a crash of the server could lose the last ones), for the tests."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    statements = [f'CREATE DATABASE "{name}"']
    if template is not None:
        statements[0] += f' TEMPLATE "{make_url(template).database}"'
    if not durable:
        statements.append(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    await run_on_server(server_url, *statements)
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, database_url: str) -> None:
    await run_on_server(
        server_url, f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'
    )


@contextmanager
def throwaway_database(
    server_url: str, prefix: str, template: str | None = None, durable: bool = True
) -> Iterator[str]:
    """For synchronous fixtures: the URL of a new database (see `create_database`), dropped when
    the block ends."""
    database_url = asyncio.run(create_database(server_url, prefix, template, durable))
    try:
        yield database_url
    finally:
        asyncio.run(drop_database(server_url, database_url))

"""Throwaway PostgreSQL databases, for the tests and the benchmarks: created under a fresh name on
the server a URL names, and dropped afterwards even with connections left open."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url


async def run_on_server(server_url: str, sql: str) -> None:
    """One statement on the server of `server_url` (CREATE/DROP DATABASE run outside a transaction)."""
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
        await connection.execute(sql)
    finally:
        await connection.close()


async def create_database(server_url: str, prefix: str) -> str:
    """A new, empty database named `prefix_` and a random suffix; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await run_on_server(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, database_url: str) -> None:
    await run_on_server(
        server_url, f'DROP DATABASE IF EXISTS "{make_url(database_url).database}" WITH (FORCE)'
    )


@contextmanager
def throwaway_database(server_url: str, prefix: str) -> Iterator[str]:
    """For synchronous fixtures: the URL of a new database, dropped when the block ends."""
    database_url = asyncio.run(create_database(server_url, prefix))
    try:
        yield database_url
    finally:
        asyncio.run(drop_database(server_url, database_url))

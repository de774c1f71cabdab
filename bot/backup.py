"""`diaspora-bridge backup PATH` and `diaspora-bridge restore PATH`.

SQLite: SQLite's online backup API, a consistent copy taken while the bot keeps running (readers do
not block the bot's writers in WAL mode); the backup is itself a SQLite file. PostgreSQL: `pg_dump`
in its custom format (consistent: one snapshot) and `pg_restore`; both must be installed, in a
version at least the server's. Restore refuses a database that already holds members unless
`--force`; stop the bot before restoring.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.db import create_engine


class BackupError(Exception):
    """Why a backup or restore could not be done, in one line for the operator."""


def backup(database_url: str, path: str) -> str:
    target = Path(path)
    if target.parent and not target.parent.exists():
        raise BackupError(f"folder {target.parent} does not exist")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_file(database_url), target)
        counts = _sqlite_counts(target)
    else:
        command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)]
        _run([*command, _libpq(database_url)], database_url)
        counts = asyncio.run(table_counts(database_url))  # close to the dump, for the summary only
    return f"backup written to {target} ({_describe(counts)})"


def restore(database_url: str, path: str, *, force: bool = False) -> str:
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    members = asyncio.run(_members_in(database_url))
    if members and not force:
        raise BackupError(
            f"the database already holds {members} members: restore into an empty database, "
            "or add --force to replace it (stop the bot first)"
        )
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        file = _sqlite_file(database_url)
        file.parent.mkdir(parents=True, exist_ok=True)
        backup_copy, live = sqlite3.connect(source), sqlite3.connect(file, timeout=30)
        try:
            backup_copy.backup(live)
        finally:
            backup_copy.close()
            live.close()
    else:
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--dbname",
                _libpq(database_url),
                str(source),
            ],
            database_url,
        )
    return f"restored {source} ({_describe(asyncio.run(table_counts(database_url)))})"


async def table_counts(database_url: str) -> dict[str, int]:
    """Rows per table of the bot's schema (tables not created yet are left out)."""
    engine = create_engine(database_url)
    counts: dict[str, int] = {}
    try:
        async with engine.connect() as connection:
            existing = set(await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync)))
            for table in SQLModel.metadata.sorted_tables:
                if table.name in existing:
                    counts[table.name] = int(
                        (await connection.execute(select(func.count()).select_from(table))).scalar_one()
                    )
    finally:
        await engine.dispose()
    return counts


async def _members_in(database_url: str) -> int:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not _sqlite_file(database_url).exists():
        return 0
    return (await table_counts(database_url)).get("members", 0)


def _sqlite_file(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names no SQLite file")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # Read-only, so a wrong path can't create an empty database; one step: a consistent snapshot.
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as live:
        with sqlite3.connect(partial) as copy:
            live.backup(copy)
        copy.close()
    live.close()
    os.replace(partial, target)


def _sqlite_counts(file: Path) -> dict[str, int]:
    names = [table.name for table in SQLModel.metadata.sorted_tables]
    with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as connection:
        existing = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        counts = {
            name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in names
            if name in existing
        }
    connection.close()
    return counts


def _describe(counts: dict[str, int]) -> str:
    return f"{len(counts)} tables, {sum(counts.values())} rows, {counts.get('members', 0)} members"


def _libpq(database_url: str) -> str:
    """The same database as a libpq URI for pg_dump and pg_restore (the password goes in the
    environment, not on the command line where `ps` shows it)."""
    return make_url(database_url).set(drivername="postgresql", password=None).render_as_string()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools of the server's version "
            "or newer (Debian/Ubuntu: apt install postgresql-client)"
        )
    return found


def _run(command: list[str], database_url: str) -> None:
    env = dict(os.environ)
    password = make_url(database_url).password
    if password:
        env["PGPASSWORD"] = str(password)
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{Path(command[0]).name} failed: {lines[-1] if lines else result.returncode}")

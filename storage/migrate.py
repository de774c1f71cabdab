"""Apply Alembic migrations from code (`diaspora-bridge migrate`, start-up, tests).

At every start the database is usually at the newest schema already: that is checked first with
one query against the revision the migration scripts name (read from their text), and Alembic (its
import and its run, about half a second and ten megabytes) is brought in only when there is
something to do or anything is unclear.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^revision, down_revision = "([^"]+)", (None|"[^"]+")$', re.MULTILINE)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Bring the database to the newest schema. Blocking: call it outside the event loop."""
    head = script_head()
    if head is not None and asyncio.run(_stamped(database_url)) == [head]:
        return
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")


def downgrade_to_base(database_url: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), "base")


def script_head() -> str | None:
    """The newest revision as the scripts name it (`revision, down_revision = "0007", "0006"`);
    None unless every script says so and exactly one revision is nobody's parent."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = _REVISION.findall(path.read_text(encoding="utf-8"))
        if len(found) != 1:
            return None
        revision, parent = found[0]
        revisions.add(revision)
        if parent != "None":
            parents.add(parent.strip('"'))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


async def _stamped(database_url: str) -> list[str] | None:
    """The revisions the database is stamped with (None when it has no version table yet)."""
    from storage.db import create_engine

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return [str(row[0]) for row in rows]
    except Exception:  # no table yet, or anything else: Alembic decides
        return None
    finally:
        await engine.dispose()

"""Which test databases are copies of a migrated template (tests/conftest.py makes them): at the
newest schema, with nothing for `upgrade_to_head` to do. A module of its own: pytest imports
tests/conftest.py as `conftest`, and a `tests.conftest` import would be a second copy of it."""

from __future__ import annotations

COPIED: set[str] = set()


def migrated_copy(url: str) -> bool:
    return url in COPIED

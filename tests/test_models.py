"""The models themselves: a nullable column never carries a default other than None.

SQLAlchemy's ORM leaves a None attribute out of the INSERT when its column has a default, so the
default silently replaces an explicit None ("No reminder" became "24 hours before closing").
"""

from __future__ import annotations

from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table)


def test_no_nullable_column_has_a_default_that_would_replace_an_explicit_none() -> None:
    hidden = []
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if column.primary_key or not column.nullable or column.default is None:
                continue
            if getattr(column.default, "arg", None) is not None:
                hidden.append(f"{table.name}.{column.name} (default {column.default.arg!r})")
    assert not hidden, "nullable columns whose default would replace an explicit None: " + ", ".join(hidden)

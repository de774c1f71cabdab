"""Full-text search over the library: the folded text stored with each resource and the query
against the database's own index (SQLite FTS5; on PostgreSQL a stored `to_tsvector('simple', …)`
column with a GIN index; see migration 0008). Not a LIKE scan.

Folding is the profile's country search's (`bot.services.text.fold`: case, accents, Arabic short
vowels), applied in Python to both the stored text and the query, so "senegal" finds "Sénégal",
"ПРАВО" finds "право", and the database needs no unaccent extension. Words are the runs of letters
and digits; CJK ideographs and kana, which are written without spaces, count one character per
word, so a Chinese query matches inside a longer text (as a phrase: the characters in a row)."""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import column, func, literal_column, select, table, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bot.services.text import fold
from storage.models import Resource
from storage.models.library import FTS_TABLE, PG_SEARCH_VECTOR

_WORD: Final = re.compile(r"[^\W_]+")
_CJK: Final = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")
QUERY_WORDS_MAX: Final = 8
_FTS: Final = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))  # the FTS5 table (migration 0008)


def words(value: str) -> list[str]:
    """The folded words of a text (CJK characters one by one)."""
    return _WORD.findall(_CJK.sub(r" \1 ", fold(value)))


def search_text(resource: Resource) -> str:
    """Everything a member may search a resource by, folded: title, summary, body, tags, the
    best-practice fields, and the translations of title and summary."""
    parts: list[str] = [resource.title, resource.summary or "", resource.body or "", " ".join(resource.tags)]
    parts += [resource.problem or "", resource.what_we_did or "", resource.result or ""]
    for entry in (resource.translations or {}).values():
        parts += [str(entry.get("title") or ""), str(entry.get("summary") or "")]
    return " ".join(words(" ".join(parts)))


def search_langs(resource: Resource) -> str:
    """ " en fr ar ": the languages a member can read the resource in (for "yours first")."""
    codes = {resource.language, *(resource.translations or {}), *(resource.languages or [])}
    return " " + " ".join(sorted(code for code in codes if code)) + " "


def refresh(resource: Resource) -> None:
    resource.search_text = search_text(resource)
    resource.search_langs = search_langs(resource)


def _runs(query: str) -> list[list[str]]:
    """The query's words grouped as phrases: a run of CJK characters is one phrase, others one word."""
    runs: list[list[str]] = []
    for chunk in fold(query).split():
        pieces = words(chunk)
        if pieces:
            runs.append(pieces)
    return runs[:QUERY_WORDS_MAX]


def match_condition(query: str, dialect: str) -> ColumnElement[bool] | None:
    """The condition "the resource matches every word of `query`" (the last word also as a
    prefix, for a word still being typed), on the dialect's full-text index; None for a query
    without words."""
    runs = _runs(query)
    if not runs:
        return None
    if dialect == "postgresql":
        terms = []
        for index, run in enumerate(runs):
            last = index == len(runs) - 1
            parts = [f"{word}:*" if last and j == len(run) - 1 else word for j, word in enumerate(run)]
            terms.append("(" + " <-> ".join(parts) + ")")
        expression = " & ".join(terms)
        return literal_column(f"resources.{PG_SEARCH_VECTOR}").op("@@")(
            func.to_tsquery(text("'simple'"), expression)
        )
    phrases = []
    for index, run in enumerate(runs):
        phrase = '"' + " ".join(run) + '"'
        phrases.append(phrase + "*" if index == len(runs) - 1 else phrase)
    matching = select(_FTS.c.rowid).where(_FTS.c.resources_fts.op("MATCH")(" ".join(phrases)))
    return col(Resource.id).in_(matching)

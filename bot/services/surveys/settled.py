"""The questions of a survey that has been opened, read once per engine (issue 15: one statement
of every answer, and the reads of Submit).

A survey's questions change only while it is a draft (`editing`, `drafts`: a draft's questions
are edited, translated or deleted with it) and a survey is never a draft again once opened, so the
questions of a survey that has a response (the callers here all hold one) are what they were when
first read. The cache is a belt to those braces: any write to the questions table through the
engine empties it (`watch_tables`), and a read made in a transaction that wrote that table is not
kept. Closing changes no question: answers after the close are refused by the guarded UPDATE
(`store.move_on`), which reads the survey's row every time.

The copies handed out belong to no session and are shared by every update: read them, never add
them to a session (`session.merge` copies one, as for any detached instance).
"""

from __future__ import annotations

import weakref

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.organization_cache import WatchedCache
from bot.services.rows import detached_copy
from bot.services.surveys.building import questions_of
from storage.models import SurveyQuestion

_KEPT_MAX = 1000  # surveys whose questions are kept; beyond, the cache starts again


class SettledQuestions(WatchedCache):
    """One engine's questions of opened surveys, by survey id."""

    def __init__(self) -> None:
        super().__init__(ttl=float("inf"))
        self.rows: dict[int, tuple[SurveyQuestion, ...]] = {}

    def invalidate(self) -> None:
        super().invalidate()
        self.rows.clear()


_CACHES: weakref.WeakKeyDictionary[Engine, SettledQuestions] = weakref.WeakKeyDictionary()


def _cache(session: AsyncSession) -> SettledQuestions | None:
    bind = session.bind
    if not isinstance(bind, AsyncEngine):
        return None
    cache = _CACHES.get(bind.sync_engine)
    if cache is None:
        cache = _CACHES[bind.sync_engine] = SettledQuestions()
        cache.watch_tables(bind, [SurveyQuestion.__table__])  # type: ignore[attr-defined]
    return cache


async def settled_questions(session: AsyncSession, survey_id: int) -> list[SurveyQuestion]:
    """The questions of an opened survey in order (see the module: shared copies, read only)."""
    cache = _cache(session)
    if cache is not None and (kept := cache.rows.get(survey_id)) is not None:
        return list(kept)
    generation = cache.generation if cache is not None else 0
    questions = [detached_copy(question) for question in await questions_of(session, survey_id)]
    if cache is not None and await cache.keeps(session, generation):
        if len(cache.rows) >= _KEPT_MAX:
            cache.rows.clear()
        cache.rows[survey_id] = tuple(questions)
    return questions


async def settled_question_at(session: AsyncSession, survey_id: int, position: int) -> SurveyQuestion | None:
    """The opened survey's question at `position` (None past the last one)."""
    return next((q for q in await settled_questions(session, survey_id) if q.position == position), None)

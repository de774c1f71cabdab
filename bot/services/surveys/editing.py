"""✏️ Edit on a draft survey's or quick poll's card (issue 16): its title, a question's text, a
choice question's options, anonymity, reminder and audience, checked as the dialog checks them
(`drafts.check_title`, `drafts.more_options`, `rules.validate_question`). Only drafts change:
nobody was invited yet. The caller commits."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.surveys.building import questions_of
from bot.services.surveys.drafts import check_title, more_options
from bot.services.surveys.rules import SETTINGS_KEYS, SurveyError, question_settings, validate_question
from storage.models import Survey, SurveyStatus


def _draft(survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")


async def set_title(session: AsyncSession, survey: Survey, text: str) -> None:
    """A survey's title (a quick poll's title is its question: `set_question`)."""
    _draft(survey)
    survey.title = check_title(text)
    session.add(survey)
    await session.flush()


async def set_question(
    session: AsyncSession, survey: Survey, index: int, *, text: str | None = None, options: str | None = None
) -> bool:
    """Question `index` (from 0) gets a new text, or new options (typed one per line, as in the
    dialog). True when the draft's translations were dropped: they no longer have as many options.
    A quick poll's title follows its question."""
    _draft(survey)
    questions = await questions_of(session, survey.id or 0)
    if not 0 <= index < len(questions):
        raise SurveyError("not_editable")
    question = questions[index]
    settings = question_settings({key: getattr(question, key) for key in SETTINGS_KEYS})
    if options is not None:
        settings["options"] = more_options([], options)
    dropped = bool(survey.translations) and len(settings.get("options") or []) != len(question.options)
    settings["translations"] = None if dropped else settings.get("translations")
    fields = validate_question(question.kind, question.text if text is None else text, **settings)
    question.text, question.options = fields["text"], fields["options"]
    if fields.get("translations") is not None:
        question.translations = fields["translations"]
    session.add(question)
    if dropped:
        await _drop_translations(session, survey, questions)
    if survey.native_poll and index == 0:
        survey.title = question.text
        session.add(survey)
    await session.flush()
    return dropped


async def _drop_translations(session: AsyncSession, survey: Survey, questions: list[Any]) -> None:
    survey.translations = {}
    session.add(survey)
    for question in questions:
        question.translations = {}
        session.add(question)


async def set_settings(session: AsyncSession, survey: Survey, **changes: Any) -> None:
    """`anonymous` (bool), `reminder_before_minutes` (minutes or None; not for a quick poll, which
    has no reminder) or `audience` (the picker's dict)."""
    _draft(survey)
    if "reminder_before_minutes" in changes and survey.native_poll:
        raise SurveyError("not_editable")
    for key in ("anonymous", "reminder_before_minutes", "audience"):
        if key in changes:
            setattr(survey, key, changes[key])
    session.add(survey)
    await session.flush()

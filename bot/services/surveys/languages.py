"""Which language version of a survey a member reads, and a question's text and options in it."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.versions import pick_version
from bot.services.versions import version_for as version_for  # re-exported: surveys.version_for
from storage.models import Survey, SurveyQuestion


def reading_version(
    survey: Survey, questions: Sequence[SurveyQuestion], member_language: str | None, default_language: str
) -> str:
    """The language a member reads a survey in: one its title or every question is translated to
    (a native poll shows no title, only its question)."""
    translated = set(survey.translations)
    if questions:
        translated |= set.intersection(*(set(question.translations) for question in questions))
    return pick_version(survey.language, translated, member_language, default_language)


def question_text(question: SurveyQuestion, language: str) -> tuple[str, list[str]]:
    """The question and its option labels in `language` (the original if not translated)."""
    version = question.translations.get(language)
    if not version:
        return question.text, list(question.options)
    return version["text"], list(version.get("options") or question.options)

"""The figures of results: one question's counts, percentages, average and text answers
(`QuestionResult`), and a survey's (`SurveyResults`, with its groups when broken down)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.services.surveys.languages import question_text
from bot.services.surveys.rules import CHOICE_KINDS
from storage.models import QuestionKind, SurveyQuestion


@dataclass
class QuestionResult:
    question_id: int
    position: int
    kind: QuestionKind
    text: str
    answered: int = 0  # respondents who answered this question
    labels: list[str] = field(default_factory=list)  # choice/rating: what `counts` count
    counts: list[int] = field(default_factory=list)
    percentages: list[float] = field(default_factory=list)  # of `answered`, one decimal
    average: float | None = None  # rating/number
    minimum: float | None = None
    maximum: float | None = None
    texts: list[str] = field(default_factory=list)  # text answers (first `TEXTS_SHOWN`)


@dataclass
class SurveyResults:
    survey_id: int
    respondents: int  # submitted responses (native polls: voters)
    questions: list[QuestionResult]
    groups: dict[str, SurveyResults] = field(default_factory=dict)  # breakdown, if asked
    suppressed_groups: int = 0  # groups smaller than the threshold, not shown on their own
    suppressed_respondents: int = 0
    other: SurveyResults | None = None  # those groups together, when they add up to the threshold


TEXTS_SHOWN = 50


def option_labels(question: SurveyQuestion, language: str | None) -> list[str]:
    if question.kind == QuestionKind.YES_NO:
        return ["yes", "no"]
    if question.kind == QuestionKind.RATING:
        return [str(v) for v in range(int(question.min_value or 0), int(question.max_value or 0) + 1)]
    return question_text(question, language or "")[1]


def tally_question(question: SurveyQuestion, values: list[Any], language: str | None) -> QuestionResult:
    text = question_text(question, language or "")[0]
    result = QuestionResult(question.id or 0, question.position, QuestionKind(question.kind), text)
    result.answered = len(values)
    if question.kind in (*CHOICE_KINDS, QuestionKind.RATING):
        result.labels = option_labels(question, language)
        counts = [0] * len(result.labels)
        for value in values:
            if question.kind == QuestionKind.YES_NO:
                counts[0 if value else 1] += 1
            elif question.kind == QuestionKind.RATING:
                counts[int(value) - int(question.min_value or 0)] += 1
            else:
                for index in value if isinstance(value, list) else [value]:
                    counts[index] += 1
        result.counts = counts
        result.percentages = [round(100 * count / len(values), 1) if values else 0.0 for count in counts]
    if question.kind in (QuestionKind.RATING, QuestionKind.NUMBER) and values:
        numbers = [float(value) for value in values]
        result.average = round(sum(numbers) / len(numbers), 2)
        result.minimum, result.maximum = min(numbers), max(numbers)
    if question.kind == QuestionKind.TEXT:
        result.texts = [str(value) for value in values[:TEXTS_SHOWN]]
    return result

"""Surveys and quick polls: questions, answering one question at a time, results and exports.

Nothing here sends. `open_survey` writes one outbox row per member of the audience (kind "survey",
ref_id = survey id) and `due_survey_reminders` one per member who has not submitted (kind
"survey_reminder"), both in the caller's transaction. Anonymity is explained in `responses`, the
lock order in `store`.

The modules, in the order of a survey's life: `rules` (limits, `SurveyError`, checks), `building`
(a draft and its questions), `drafts` (what the coordinator's dialog needs), `publish`, `lists`,
`languages`, `answers` (one answer's value), `responses` (answering, back, submit), `polls` (native
polls), `tally`, `results`, `breakdowns`, `exports`, `reminders`, `closing`, `privacy` (/mydata,
/forget). The names below are re-exported so `from bot.services import surveys as service` keeps
working for trainings (feedback surveys), delivery and the tests; new code imports from the module.
"""

from __future__ import annotations

from bot.services.surveys.answers import NO_WORDS, YES_WORDS, clean_answer
from bot.services.surveys.building import add_question, create_survey, duplicate, get_survey, questions_of
from bot.services.surveys.closing import close_due_surveys, close_survey, extend
from bot.services.surveys.exports import export_csv
from bot.services.surveys.languages import question_text, reading_version, version_for
from bot.services.surveys.lists import open_surveys_for
from bot.services.surveys.polls import poll_sent, record_poll_counts, record_poll_delivery, record_poll_vote
from bot.services.surveys.privacy import erase_member_surveys, member_survey_data
from bot.services.surveys.publish import open_survey
from bot.services.surveys.reminders import due_survey_reminders
from bot.services.surveys.responses import (
    Submitted,
    answer,
    answers_of,
    back,
    start_or_resume,
    submit,
    submitted_answers,
)
from bot.services.surveys.results import results, text_answers
from bot.services.surveys.rules import (
    BREAKDOWNS,
    CHOICE_KINDS,
    KIND,
    MIN_GROUP,
    NUMBER_LIMIT,
    OPTION_MAX,
    OPTIONS_MAX,
    OPTIONS_MIN,
    POLL_STOP_KIND,
    QUESTION_MAX,
    QUESTIONS_MAX,
    RATING_SCALES,
    REMINDER_KIND,
    REMINDER_MAX,
    REMINDER_MIN_GAP,
    TEXT_DEFAULT,
    TEXT_MAX,
    TITLE_MAX,
    SurveyError,
    validate_question,
)
from bot.services.surveys.tally import TEXTS_SHOWN, QuestionResult, SurveyResults

__all__ = [
    "BREAKDOWNS",
    "CHOICE_KINDS",
    "KIND",
    "MIN_GROUP",
    "NO_WORDS",
    "NUMBER_LIMIT",
    "OPTIONS_MAX",
    "OPTIONS_MIN",
    "OPTION_MAX",
    "POLL_STOP_KIND",
    "QUESTIONS_MAX",
    "QUESTION_MAX",
    "RATING_SCALES",
    "REMINDER_KIND",
    "REMINDER_MAX",
    "REMINDER_MIN_GAP",
    "TEXTS_SHOWN",
    "TEXT_DEFAULT",
    "TEXT_MAX",
    "TITLE_MAX",
    "YES_WORDS",
    "QuestionResult",
    "Submitted",
    "SurveyError",
    "SurveyResults",
    "add_question",
    "answer",
    "answers_of",
    "back",
    "clean_answer",
    "close_due_surveys",
    "close_survey",
    "create_survey",
    "due_survey_reminders",
    "duplicate",
    "erase_member_surveys",
    "export_csv",
    "extend",
    "get_survey",
    "member_survey_data",
    "open_survey",
    "open_surveys_for",
    "poll_sent",
    "question_text",
    "questions_of",
    "reading_version",
    "record_poll_counts",
    "record_poll_delivery",
    "record_poll_vote",
    "results",
    "start_or_resume",
    "submit",
    "submitted_answers",
    "text_answers",
    "validate_question",
    "version_for",
]

"""Surveys and quick polls in Telegram: the coordinator's /poll and /newsurvey dialogs, draft cards
on the composer kit (translations, Publish, Discard) and /results (counts, charts, written answers,
breakdowns, exports, closing, extending, duplicating); and the member's /surveys, answering, review
and native poll votes.

The routers come in two groups, placed apart in `handlers.get_routers()` as before the split: the
coordinator's with the other staff dialogs (commands first, then the typed steps: a command typed
inside a dialog is either another dialog's start or told to wait), the member's after them.
"""

from __future__ import annotations

from typing import Final

from aiogram import Router

from handlers.composer import composer_router
from handlers.surveys import (
    answering,
    breakdowns,
    composer,
    create,
    dialog,
    exports,
    manage,
    polls,
    question_steps,
    results,
    results_list,
    review,
    settings_steps,
    surveys_list,
    written_answers,
)
from handlers.surveys.composer import COMPOSER
from handlers.surveys.surveys_list import show_linked_survey

staff_routers: Final[list[Router]] = [
    create.router,
    question_steps.router,
    settings_steps.router,
    dialog.router,
    composer_router(COMPOSER),  # the draft's card: translations, ✏️ Edit, Publish, Discard
    composer.router,  # ✏️ Edit's setting buttons
    results_list.router,
    results.router,
    written_answers.router,
    breakdowns.router,
    exports.router,
    manage.router,
]
member_routers: Final[list[Router]] = [
    surveys_list.router,
    answering.router,
    review.router,
    polls.router,
]

__all__ = ["member_routers", "show_linked_survey", "staff_routers"]

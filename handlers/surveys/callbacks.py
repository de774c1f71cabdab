"""The coordinator's survey buttons. (The member's, `SurveyAction`, live with the member views in
`bot.views.surveys`: the delivery code builds them too.)

Ids and short codes only: any client can forge these, so every handler re-checks the right (the
policy) and the survey's state on the server. Never change a `prefix` or the order of the fields:
buttons already sitting in chats must keep working.
"""

from __future__ import annotations

from typing import Final

from aiogram.filters.callback_data import CallbackData


class SurveyDialog(CallbackData, prefix="sva"):
    """Buttons of the /poll and /newsurvey dialogs (`id` 0: valid only in the step they belong to)
    and of a draft's card (`id` the survey). `value` is a short code: a kind, a choice, a language
    or the minute token of a typed time being confirmed."""

    action: str
    id: int = 0
    value: str = ""


class SurveyManage(CallbackData, prefix="svr"):
    """/results: `id` the survey (or the list offset for "page"), `question` a question id,
    `page` an offset in a list of text answers, `value` a breakdown or a confirmation."""

    action: str
    id: int = 0
    question: int = 0
    page: int = 0
    value: str = ""


# The groups a /results breakdown button ("by") may name, and the member field each one reads.
BREAKDOWN_CODES: Final = {
    "lang": "language",
    "res": "residence_country",
    "orig": "origin_country",
    "org": "organization",  # a survey reaching several organizations only
}

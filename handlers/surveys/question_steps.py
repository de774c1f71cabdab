"""The steps of one question in the creation dialogs: its text (the poll's question), its kind, its
options, a number's bounds, a written answer's length, whether it may be skipped, and another
question or not; and the poll's one answer or several.

A typed value is checked as the service will store it (`bot.services.surveys.drafts`) and refused
with a message the coordinator can act on; the dialog then waits for a corrected value.
"""

from __future__ import annotations

from typing import Any, Final

from aiogram import F, Router

from bot.services.surveys.drafts import check_question, more_options, parse_bounds
from bot.services.surveys.rules import QUESTIONS_MAX, TEXT_DEFAULT, SurveyError
from handlers.composer import Turn
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.dialog import Draft, advance, answered, hide_buttons, step_button, typed_step
from handlers.surveys.states import SurveyDialogStates as States
from handlers.surveys.steps import ask, go_to, options_reply
from handlers.surveys.texts import ANY_TEXT, QUESTION_TEXT, error_text
from storage.models import QuestionKind

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

RATING_SCALES: Final = {"rating5": (1, 5), "rating10": (0, 10)}


def current(draft: Draft, **changes: Any) -> dict[str, Any]:
    """The question being written, with `changes`."""
    return {**(draft.get("current") or {}), **changes}


async def limits_set(turn: Turn, step: str, draft: Draft, **limits: Any) -> None:
    """A number's bounds or a text's length, checked with the question as the service will."""
    question = current(draft, **limits)
    check_question({**question, "text": question.get("text") or "?"})
    draft["current"] = question
    await advance(turn, step, draft)


# -- typed ----------------------------------------------------------------------------------------


@typed_step(router, QUESTION_TEXT, States.question, States.text)
async def question_typed(turn: Turn, step: str, draft: Draft, text: str) -> None:
    """The poll's question, or the text of a survey's question."""
    draft["current"] = current(draft, text=text)
    await advance(turn, step, draft)


@typed_step(router, ANY_TEXT, States.options)
async def options_typed(turn: Turn, step: str, draft: Draft, text: str) -> None:
    """More options (one per line); the dialog stays at this step until Done."""
    draft["current"] = current(draft, options=more_options(list(current(draft).get("options") or []), text))
    await turn.state.update_data(survey_draft=draft)
    await options_reply(turn, draft["current"]["options"])


@typed_step(router, ANY_TEXT, States.bounds)
async def bounds_typed(turn: Turn, step: str, draft: Draft, text: str) -> None:
    low, high = parse_bounds(text)
    await limits_set(turn, step, draft, min_value=low, max_value=high)


@typed_step(router, ANY_TEXT, States.max_length)
async def max_length_typed(turn: Turn, step: str, draft: Draft, text: str) -> None:
    await limits_set(turn, step, draft, max_length=int(text) if text.isdigit() and len(text) < 6 else 0)


# -- buttons --------------------------------------------------------------------------------------


@step_button(router, "kind")
async def kind_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    low, high = RATING_SCALES.get(button.value, (None, None))
    kind = "rating" if button.value in RATING_SCALES else button.value
    draft["current"] = {"kind": kind} if low is None else {"kind": kind, "min_value": low, "max_value": high}
    await answered(turn, step, draft)


@step_button(router, "opt_done")
async def options_done(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    check_question(current(draft, text=current(draft).get("text") or "?"))
    await answered(turn, step, draft)


@step_button(router, "skip_bounds")
async def bounds_skipped(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """A number without bounds."""
    await hide_buttons(turn)
    await limits_set(turn, step, draft, min_value=None, max_value=None)


@step_button(router, "maxlen_default")
async def default_length_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """A written answer of the default length."""
    await hide_buttons(turn)
    await limits_set(turn, step, draft, max_length=TEXT_DEFAULT)


@step_button(router, "optional")
async def optional_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """The question is complete: it joins the draft's questions."""
    await hide_buttons(turn)
    try:
        question = check_question(current(draft, optional=button.value == "yes"))
    except SurveyError as error:
        await turn.say(error_text(error))
        await ask(turn, "kind", draft)
        return
    draft["questions"], draft["current"] = [*draft.get("questions", []), question], {}
    if len(draft["questions"]) < QUESTIONS_MAX:
        await advance(turn, step, draft)
        return
    await turn.say(error_text(SurveyError("too_many_questions")))
    await go_to(turn, "anonymous", draft)  # the settings come next


@step_button(router, "more")
async def more_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """Another question, or on to the survey's settings."""
    await hide_buttons(turn)
    await go_to(turn, "kind" if button.value == "add" else "anonymous", draft)


@step_button(router, "multiple")
async def multiple_chosen(turn: Turn, step: str, draft: Draft, button: SurveyDialog) -> None:
    """The poll's one answer or several: its question is complete."""
    kind = QuestionKind.MULTIPLE if button.value == "yes" else QuestionKind.SINGLE
    draft["questions"] = [check_question(current(draft, kind=str(kind)))]
    await answered(turn, step, draft)

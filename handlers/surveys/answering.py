"""A member answering a survey, one question at a time: ▶️ Start (or continue), a tap on an option,
a rating or yes/no, ticking several options then Done, Skip for an optional question, and typed
numbers and texts. Back and Submit are in `review`.

A button counts only for the question being answered (`member_screens.progress`): an older one, or
forged data, stores nothing.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.surveys.lists import member_survey
from bot.services.surveys.responses import answer
from bot.services.surveys.rules import SurveyError
from bot.services.surveys.settled import settled_questions
from bot.views.surveys import SurveyAction
from handlers.composer import message_turn
from handlers.surveys.member_screens import (
    Progress,
    answer_error_text,
    refused,
    registered,
    resume,
    screen,
    show,
    survey_button,
)
from handlers.surveys.states import AnsweringStates
from storage.models import QuestionKind, SurveyQuestion

router: Final[Router] = Router(name=__name__)

BUTTON_KINDS = (QuestionKind.SINGLE, QuestionKind.YES_NO, QuestionKind.RATING)
TYPED_KINDS = (QuestionKind.NUMBER, QuestionKind.TEXT)


@survey_button(router, "start")
async def start(place: Progress, button: SurveyAction) -> None:
    """The current question (the first, or where they left off) as a new message."""
    await show(place, place.current, new=True)


@survey_button(router, "answer")
async def answer_tapped(place: Progress, button: SurveyAction) -> None:
    """One choice, a rating, or yes/no (`value` 1/0)."""
    kind = QuestionKind(place.current.kind) if place.current is not None else None
    if kind not in BUTTON_KINDS or (kind == QuestionKind.YES_NO and button.value not in (0, 1)):
        place.turn.stale()
        return
    await _store(place, bool(button.value) if kind == QuestionKind.YES_NO else button.value)


@survey_button(router, "done")
async def choices_done(place: Progress, button: SurveyAction) -> None:
    """Done under a multiple choice: `value` is the selection, a bit per option."""
    if (current := _selection_of(place, button)) is not None:
        await _store(place, [index for index in range(len(current.options)) if button.value & (1 << index)])


@survey_button(router, "skip")
async def skipped(place: Progress, button: SurveyAction) -> None:
    """Skip ⏭ (the service refuses it for a required question)."""
    if place.current is None:
        place.turn.stale()
        return
    await _store(place, None)


@survey_button(router, "toggle")
async def option_toggled(place: Progress, button: SurveyAction) -> None:
    """A multiple-choice option ticked or unticked: only the keyboard changes (`value` is the
    selection after the tap); nothing is stored until Done."""
    if (current := _selection_of(place, button)) is None:
        return
    ctx, message = place.turn.ctx, place.turn.message
    _text, keyboard = await screen(ctx, place.survey, place.member, place.response, current, button.value)
    if message is not None:  # a double tap ("not modified") is done: the replies Bot says so
        await message.edit_reply_markup(reply_markup=keyboard)


def _selection_of(place: Progress, button: SurveyAction) -> SurveyQuestion | None:
    """The multiple-choice question a selection (`value`, a bit per option) belongs to; None (a
    stale button) for another kind of question or bits beyond its options."""
    current = place.current
    if (
        current is None
        or current.kind != QuestionKind.MULTIPLE
        or not 0 <= button.value < 1 << len(current.options)
    ):
        place.turn.stale()
        return None
    return current


async def _store(place: Progress, value: Any) -> None:
    """The answer to the current question; the next one (or the review) replaces the message."""
    assert place.current is not None
    session = place.turn.ctx.session
    questions = await settled_questions(session, place.survey.id or 0)  # the next one, and the screen's
    try:
        following = await answer(session, place.response, place.current, value, place.now, questions)
    except SurveyError as error:
        await refused(place, error)
        return
    await show(place, following, questions=questions)


# -- typed answers ---------------------------------------------------------------------------------


@router.message(
    AnsweringStates.answering,
    F.chat.type == "private",
    F.text,
    ~F.text.startswith("/"),
    flags=rights(Action.PUBLIC),
)
async def typed_answer(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    """A number or a text for the current question (a question with buttons is shown again)."""
    turn = message_turn(message, ctx, state, bot)
    survey = await member_survey(ctx.session, ctx.member_id, (await state.get_data()).get("survey_id"))
    if ctx.member is None or not registered(ctx.member) or survey is None:
        await state.clear()
        await turn.say(_("This survey no longer exists."))
        return
    if (place := await resume(turn, survey, ctx.member)) is None:
        return
    current = place.current
    if current is None or current.kind not in TYPED_KINDS:
        text, keyboard = await screen(ctx, survey, place.member, place.response, current)
        hint = _("Please tap one of the buttons below.")
        await turn.say(f"<i>{escape(hint)}</i>\n\n{text}", keyboard)
        return
    raw = message.text or ""
    questions = await settled_questions(ctx.session, survey.id or 0)
    try:
        following = await answer(ctx.session, place.response, current, raw, place.now, questions)
    except SurveyError as error:
        if error.reason == "closed":
            await state.clear()
        await turn.say(answer_error_text(error, current, raw))
        return
    await show(place, following, new=True, questions=questions)


@router.message(AnsweringStates.answering, F.chat.type == "private", ~F.text, flags=rights(Action.PUBLIC))
async def not_text(message: Message) -> None:
    await message.answer(_("Please type your answer as text."))

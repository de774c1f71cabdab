"""What the member's survey handlers share: finding the survey a button or a link names, where the
member is in it (`progress`: a button counts only for the question being answered), registering a
survey button's handler (`survey_button`), the screen to show (the current question, or the review
when all are answered), and refusals in words.

Where a member is in a survey lives in the database (the response's position); the FSM state (also
in the database) only says which survey typed answers belong to and which message shows its current
question, so a restart loses nothing. No answer is ever logged: the update log names the handler,
not the member's choice.

One question on screen. A survey's question may be on screen twice: ▶️ Start pressed on an invitation
sent twice (a crash between sending it and recording it), or pressed again while the bot was
restarting, sends the current question each time. So the message that shows the current question is
remembered, and the one it replaces loses its buttons (`show`); and a tap on a copy that is no longer
current (pressed before its buttons went, or forged) stores nothing and turns that message into
where the member is (`progress`): a member is never asked again a question they answered, and never
left with only a stale copy to tap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardMarkup

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.events import telegram_length
from bot.services.surveys.languages import reading_version
from bot.services.surveys.lists import member_survey
from bot.services.surveys.responses import answers_of, start_or_resume, submitted_answers
from bot.services.surveys.rules import SurveyError
from bot.services.surveys.settled import settled_questions
from bot.views import surveys as view
from handlers.composer import Turn
from handlers.surveys.buttons import register_button
from handlers.surveys.states import AnsweringStates
from storage.models import Member, Survey, SurveyQuestion, SurveyResponse
from storage.types import utcnow


def answer_error_text(error: SurveyError, question: SurveyQuestion | None = None, raw: str = "") -> str:
    reason = error.reason
    if reason == "out_of_range" and question is not None:
        return _("That number is out of range.") + " " + view.number_hint(question)
    if reason == "not_a_number" and question is not None:
        return _("That is not a number.") + " " + view.number_hint(question)
    if reason == "text_too_long":
        return _("That is too long: {limit} characters at most (yours has {length}).").format(
            limit=error.limit, length=telegram_length(raw.strip())
        )
    texts = {
        "not_found": _("This survey no longer exists."),
        "not_open": _("This survey is not open yet."),
        "closed": _("This survey is closed, sorry: answers are no longer accepted. Thank you anyway!"),
        "submitted": _("You have already submitted this survey."),
        "stale_question": _("This question is not the current one. Please use the latest message."),
        "incomplete": _("Some questions still need an answer."),
        "required": _("This question needs an answer."),
        "text_empty": _("Please type your answer as text."),
        "not_a_number": _("That is not a number."),
    }
    return texts.get(reason, _("This button is no longer active."))


def registered(member: Member | None) -> bool:
    return member is not None and member.is_registered and member.id is not None


async def screen(
    ctx: Context,
    survey: Survey,
    member: Member,
    response: SurveyResponse,
    question: SurveyQuestion | None,
    selection: int | None = None,
    questions: list[SurveyQuestion] | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The current question (or the review when all are answered); `questions`: the survey's, if
    the caller has them."""
    if questions is None:
        questions = await settled_questions(ctx.session, survey.id or 0)
    version = reading_version(survey, questions, member.language, ctx.organization.default_language)
    answers = await answers_of(ctx.session, response.id or 0)
    if question is None:
        return view.review(survey, questions, version, answers)
    return view.question_view(
        survey, question, version, len(questions), answers.get(question.id or 0), selection
    )


async def submitted_text(ctx: Context, survey: Survey, member: Member) -> str:
    questions = await settled_questions(ctx.session, survey.id or 0)
    version = reading_version(survey, questions, member.language, ctx.organization.default_language)
    answers = await submitted_answers(ctx.session, survey, member)
    return view.submitted_view(survey, questions, version, answers)


@dataclass
class Progress:
    """Where the member who pressed a survey button (or typed an answer) is: the response, and the
    question being answered (None: all answered, the review)."""

    turn: Turn
    survey: Survey
    member: Member
    response: SurveyResponse
    current: SurveyQuestion | None
    now: datetime


async def resume(turn: Turn, survey: Survey, member: Member, *, begin: bool = True) -> Progress | None:
    """The member's place in the survey, begun now if need be (`begin`: else a button of a survey
    never started is stale); None once they were told why not (submitted already: their answers;
    closed or not open yet: an alert, or a message for a typed answer). The answering then ends."""
    now = utcnow()
    try:
        response, current = await start_or_resume(turn.ctx.session, survey, member, now, begin=begin)
    except SurveyError as error:
        if error.reason == "not_started":
            turn.stale()  # forged: a question of a survey never started stores nothing
            return None
        await turn.state.clear()
        if error.reason == "submitted":
            await turn.say(await submitted_text(turn.ctx, survey, member))
        elif turn.answer is None:
            await turn.say(answer_error_text(error))
        else:
            turn.toast(answer_error_text(error), alert=error.reason == "closed")
        return None
    return Progress(turn, survey, member, response, current, now)


async def progress(turn: Turn, button: view.SurveyAction) -> Progress | None:
    """The member's place in the survey the button names, begun by Start only; None once the
    button was answered (not registered, no such survey, never started, submitted, closed, or a
    button of another question than the current one: nothing is stored)."""
    member = turn.ctx.member
    if member is None or not registered(member):
        turn.toast(_("Please register first: open a private chat with me and send /start."), True)
        return None
    survey = await member_survey(turn.ctx.session, turn.ctx.member_id, button.survey)
    if survey is None:
        turn.toast(_("This survey no longer exists."))
        return None
    starting = button.action == "start"
    place = await resume(turn, survey, member, begin=starting)
    # Every other button belongs to one question (0: the review) and counts only while it is current:
    # an older copy (or forged data) stores nothing and shows where the member is instead.
    if place is not None and not starting and button.question != (place.current.id if place.current else 0):
        turn.toast(_("This question is not the current one: here is where you are."))
        await show(place, place.current)
        return None
    return place


SurveyButton = Callable[[Progress, view.SurveyAction], Awaitable[None]]


def survey_button(on: Router, action: str) -> Callable[[SurveyButton], SurveyButton]:
    """Register `handler(place, button)` for the member's survey buttons with this action, once
    the member's place is found (`progress`; else the button was answered already)."""

    def register(handler: SurveyButton) -> SurveyButton:
        async def run(turn: Turn, button: view.SurveyAction, data: dict[str, Any]) -> None:
            place = await progress(turn, button)
            if place is not None:
                await handler(place, button)

        buttons = view.SurveyAction.filter(F.action == action)
        register_button(on, buttons, rights(Action.PUBLIC), handler, run)
        return handler

    return register


async def refused(place: Progress, error: SurveyError) -> None:
    """A step the service refused, as a toast (an alert when it matters); a closed survey also
    ends the answering."""
    if error.reason == "closed":
        await place.turn.state.clear()
    place.turn.toast(answer_error_text(error), alert=error.reason in {"closed", "required"})


async def show(
    place: Progress,
    current: SurveyQuestion | None,
    *,
    new: bool = False,
    questions: list[SurveyQuestion] | None = None,
) -> None:
    """The question now current (or the review) replaces the pressed message (`new`: comes as a new
    message); typed answers go to this survey, and the message that showed its question before
    loses its buttons (one question on screen). `questions`: the survey's, if the caller has them.
    The dialog state is written only when it changes (a tap on the current question: not at all)."""
    turn = place.turn
    if await turn.state.get_state() != AnsweringStates.answering.state:
        await turn.state.set_state(AnsweringStates.answering)
    text, keyboard = await screen(
        turn.ctx, place.survey, place.member, place.response, current, questions=questions
    )
    if new or turn.message is None or turn.message.text is None:
        shown = (await turn.say(text, keyboard)).message_id
    else:
        await turn.replace(text, keyboard)
        shown = turn.message.message_id
    data = await turn.state.get_data()
    before = data.get("message_id") if data.get("survey_id") == place.survey.id else None
    if data.get("survey_id") != place.survey.id or data.get("message_id") != shown:
        await turn.state.update_data(survey_id=place.survey.id, message_id=shown)
    if isinstance(before, int) and before != shown:
        with suppress(TelegramBadRequest):  # deleted by the member, or too old to edit: nothing to take
            await turn.bot.edit_message_reply_markup(
                chat_id=turn.chat_id, message_id=before, reply_markup=None
            )

"""What the member's survey handlers share: finding the survey a button or a link names, where the
member is in it (a button counts only for the question being answered), the screen to show (the
current question, or the review when all are answered), and refusals in words.

Where a member is in a survey lives in the database (the response's position); the FSM state (also
in the database) only says which survey typed answers belong to, so a restart loses nothing. No
answer is ever logged: the update log names the handler, not the member's choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _
from bot.services.events import telegram_length
from bot.services.surveys.building import questions_of, survey_in
from bot.services.surveys.languages import reading_version
from bot.services.surveys.lists import has_started
from bot.services.surveys.responses import answers_of, start_or_resume, submitted_answers
from bot.services.surveys.rules import SurveyError
from bot.views import surveys as view
from handlers.fallback import stale_button, toast
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


async def member_survey(session: AsyncSession, organization_id: int, survey_id: Any) -> Survey | None:
    """The survey a button, a link or the FSM data names, if it is one members answer here."""
    if not isinstance(survey_id, int):
        return None
    survey = await survey_in(session, organization_id, survey_id)
    return None if survey is None or survey.native_poll else survey


async def screen(
    ctx: Context,
    survey: Survey,
    member: Member,
    response: SurveyResponse,
    question: SurveyQuestion | None,
    selection: int | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The current question (or the review when all are answered)."""
    questions = await questions_of(ctx.session, survey.id or 0)
    version = reading_version(survey, questions, member.language, ctx.organization.default_language)
    answers = await answers_of(ctx.session, response.id or 0)
    if question is None:
        return view.review(survey, questions, version, answers)
    return view.question_view(
        survey, question, version, len(questions), answers.get(question.id or 0), selection
    )


async def submitted_text(ctx: Context, survey: Survey, member: Member) -> str:
    questions = await questions_of(ctx.session, survey.id or 0)
    version = reading_version(survey, questions, member.language, ctx.organization.default_language)
    answers = await submitted_answers(ctx.session, survey, member)
    return view.submitted_view(survey, questions, version, answers)


async def show(query: CallbackQuery, bot: Bot, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace the pressed message (a new message if it can no longer be edited)."""
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@dataclass
class Progress:
    """Where the member who pressed a survey button is: the response, and the question being
    answered (None: all answered, the review)."""

    survey: Survey
    member: Member
    response: SurveyResponse
    current: SurveyQuestion | None
    now: datetime


async def progress(
    query: CallbackQuery,
    callback_data: view.SurveyAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> Progress | None:
    """The member's place in the survey the button names, begun by Start only; None once the
    button was answered (not registered, no such survey, never started, submitted, closed, or a
    button of another question than the current one: nothing is stored)."""
    member = ctx.member
    if member is None or not registered(member):
        toast(callback_answer, _("Please register first: open a private chat with me and send /start."), True)
        return None
    survey = await member_survey(ctx.session, ctx.organization_id, callback_data.survey)
    if survey is None:
        toast(callback_answer, _("This survey no longer exists."))
        return None
    starting = callback_data.action == "start"
    if not starting and not await has_started(ctx.session, survey.id or 0, member.id or 0):
        stale_button(callback_answer)  # forged: a question of a survey never started stores nothing
        return None
    now = utcnow()
    try:
        response, current = await start_or_resume(ctx.session, survey, member, now)
    except SurveyError as error:
        await state.clear()
        if error.reason == "submitted":
            await bot.send_message(query.from_user.id, await submitted_text(ctx, survey, member))
            return None
        toast(callback_answer, answer_error_text(error), alert=error.reason == "closed")
        return None
    # Every other button belongs to one question (0: the review) and counts only while it is current.
    if not starting and callback_data.question != (current.id if current is not None else 0):
        toast(callback_answer, answer_error_text(SurveyError("stale_question")))  # older, or forged
        return None
    return Progress(survey, member, response, current, now)


async def refused(error: SurveyError, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    """A step the service refused, as a toast (an alert when it matters); a closed survey also
    ends the answering."""
    if error.reason == "closed":
        await state.clear()
    toast(callback_answer, answer_error_text(error), alert=error.reason in {"closed", "required"})


async def show_current(
    query: CallbackQuery,
    bot: Bot,
    ctx: Context,
    state: FSMContext,
    place: Progress,
    current: SurveyQuestion | None,
) -> None:
    """After a step: the question now current (or the review) replaces the pressed message, and
    typed answers go to this survey."""
    await state.set_state(AnsweringStates.answering)
    await state.update_data(survey_id=place.survey.id)
    text, keyboard = await screen(ctx, place.survey, place.member, place.response, current)
    await show(query, bot, text, keyboard)

"""Surveys for members: /surveys, answering one question at a time (buttons, or typed numbers and
texts), Back, Skip, the review and Submit; and the native polls' `poll_answer` and `poll` updates.

Where a member is in a survey lives in the database (the response's position); the FSM state (also
in the database) only says which survey typed answers belong to, so a restart loses nothing. No
answer is ever logged: the update log names the handler, not the member's choice.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Poll, PollAnswer
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import survey_view as view
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services import surveys as service
from bot.services.events import telegram_length
from bot.services.surveys import SurveyError
from handlers.fallback import stale_button, toast
from handlers.survey_kit import known_id
from handlers.ui import member_zone
from storage.models import (
    Member,
    Organization,
    QuestionKind,
    Survey,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
LIST_MAX = 20
BUTTON_KINDS = (QuestionKind.SINGLE, QuestionKind.YES_NO, QuestionKind.RATING)
TYPED_KINDS = (QuestionKind.NUMBER, QuestionKind.TEXT)


class SurveyStates(StatesGroup):
    """Answering a survey: typed answers go to the survey in the FSM data ("survey_id")."""

    answering = State()


def error_text(error: SurveyError, question: SurveyQuestion | None = None, raw: str = "") -> str:
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


def _registered(member: Member | None) -> bool:
    return member is not None and member.is_registered and member.id is not None


async def _survey(session: AsyncSession, organization: Organization, survey_id: Any) -> Survey | None:
    known = isinstance(survey_id, int) and known_id(survey_id)
    survey = await session.get(Survey, survey_id) if known else None
    if survey is None or survey.organization_id != organization.id or survey.native_poll:
        return None
    return survey


async def _started(session: AsyncSession, survey: Survey, member: Member) -> bool:
    """Whether the member has begun the survey (only Start may begin it)."""
    found = await session.exec(
        select(SurveyParticipation.submitted).where(
            SurveyParticipation.survey_id == survey.id, SurveyParticipation.member_id == member.id
        )
    )
    return found.first() is not None


async def _screen(
    session: AsyncSession,
    survey: Survey,
    member: Member,
    organization: Organization,
    response: SurveyResponse,
    question: SurveyQuestion | None,
    selection: int | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The current question (or the review when all are answered)."""
    questions = await service.questions_of(session, survey.id or 0)
    version = service.reading_version(survey, questions, member.language, organization.default_language)
    answers = await service.answers_of(session, response.id or 0)
    if question is None:
        return view.review(survey, questions, version, answers)
    return view.question_view(
        survey, question, version, len(questions), answers.get(question.id or 0), selection
    )


async def _submitted_text(
    session: AsyncSession, survey: Survey, member: Member, organization: Organization
) -> str:
    questions = await service.questions_of(session, survey.id or 0)
    version = service.reading_version(survey, questions, member.language, organization.default_language)
    answers = await service.submitted_answers(session, survey, member)
    return view.submitted_view(survey, questions, version, answers)


async def _show(query: CallbackQuery, bot: Bot, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Replace the pressed message (a new message if it can no longer be edited)."""
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


async def show_linked_survey(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    survey_id: int,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    """A `?start=survey_<id>` deep link: the invitation with its Start button, or why not."""
    survey = await _survey(session, organization, survey_id)
    if survey is None or member is None or not _registered(member) or survey.status == SurveyStatus.DRAFT:
        await bot.send_message(chat_id, error_text(SurveyError("not_found")))
        return
    now = utcnow()
    if survey.id not in {open_one.id for open_one in await service.open_surveys_for(session, member, now)}:
        if survey.status == SurveyStatus.CLOSED or (survey.closes_at is not None and survey.closes_at <= now):
            reason = "closed"
        elif survey.opens_at is not None and survey.opens_at > now:
            reason = "not_open"
        else:
            reason = "submitted"  # open, in their organization, yet not listed: they submitted it
        await bot.send_message(chat_id, error_text(SurveyError(reason)))
        return
    questions = await service.questions_of(session, survey.id or 0)
    version = service.reading_version(survey, questions, member.language, organization.default_language)
    text, keyboard = view.invitation(
        survey, version, len(questions), locale, member_zone(member, organization)
    )
    await bot.send_message(chat_id, text, reply_markup=keyboard)


# -- /surveys ------------------------------------------------------------------------------------


@router.message(Command("surveys"), F.chat.type == "private", flags=rights(Action.PUBLIC))
async def list_surveys(
    message: Message, member: Member | None, session: AsyncSession, organization: Organization, i18n: I18n
) -> None:
    if member is None or not _registered(member):
        await message.answer(_("Hello! I don't know you yet. Send /start to join the community."))
        return
    surveys = (await service.open_surveys_for(session, member, utcnow()))[:LIST_MAX]
    if not surveys:
        await message.answer(_("No open surveys for you right now. You'll hear from me when there is one!"))
        return
    started = set(
        (
            await session.exec(
                select(SurveyParticipation.survey_id).where(SurveyParticipation.member_id == member.id)
            )
        ).all()
    )
    zone = member_zone(member, organization)
    lines = [
        ngettext("📋 <b>{count} open survey</b>", "📋 <b>{count} open surveys</b>", len(surveys)).format(
            count=len(surveys)
        ),
        "",
    ]
    builder = InlineKeyboardBuilder()
    for number, survey in enumerate(surveys, start=1):
        version = service.version_for(survey, member.language, organization.default_language)
        title = view.survey_title(survey, version)
        closing = view.closes_text(survey, i18n.current_locale, zone)
        lines.append(f"{number}. <b>{escape(title)}</b>" + (f"\n    {closing}" if closing else ""))
        label = _("↪️ Continue: {title}") if survey.id in started else _("▶️ Start: {title}")
        builder.button(
            text=label.format(title=title)[:64],
            callback_data=view.SurveyAction(action="start", survey=survey.id or 0),
        )
    builder.adjust(1)
    await message.answer(view.fit(lines), reply_markup=builder.as_markup())


# -- buttons ---------------------------------------------------------------------------------------


@router.callback_query(view.SurveyAction.filter(), flags=rights(Action.PUBLIC))
async def survey_button(
    query: CallbackQuery,
    callback_data: view.SurveyAction,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    callback_answer: CallbackAnswer,
    state: FSMContext,
    bot: Bot,
) -> None:
    if member is None or not _registered(member):
        toast(callback_answer, _("Please register first: open a private chat with me and send /start."), True)
        return
    survey = await _survey(session, organization, callback_data.survey)
    if survey is None:
        toast(callback_answer, _("This survey no longer exists."))
        return
    if callback_data.action != "start" and not await _started(session, survey, member):
        stale_button(callback_answer)  # forged: a question of a survey never started stores nothing
        return
    now = utcnow()
    try:
        response, current = await service.start_or_resume(session, survey, member, now)
    except SurveyError as error:
        await state.clear()
        if error.reason == "submitted":
            text = await _submitted_text(session, survey, member, organization)
            await bot.send_message(query.from_user.id, text)
            return
        toast(callback_answer, error_text(error), alert=error.reason == "closed")
        return
    action = callback_data.action
    if action == "start":
        await state.set_state(SurveyStates.answering)
        await state.update_data(survey_id=survey.id)
        text, keyboard = await _screen(session, survey, member, organization, response, current)
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)
        return
    # Every other button belongs to one question (0: the review) and counts only while it is current.
    if callback_data.question != (current.id if current is not None else 0):
        toast(callback_answer, error_text(SurveyError("stale_question")))  # older, or forged: nothing stored
        return
    try:
        if action == "submit" and current is None:
            await service.submit(session, response, now)
            await state.clear()
            questions = await service.questions_of(session, survey.id or 0)
            version = service.reading_version(
                survey, questions, member.language, organization.default_language
            )
            await _show(query, bot, view.thanks(survey, version), None)
            return
        if action == "back":
            questions = await service.questions_of(session, survey.id or 0)
            expected = current.position if current is not None else len(questions)
            if expected == 0:
                stale_button(callback_answer)
                return
            current = await service.back(session, response, now, expected)
        elif current is None:
            stale_button(callback_answer)
            return
        elif action == "toggle" and current.kind == QuestionKind.MULTIPLE:
            if not 0 <= callback_data.value < 1 << len(current.options):
                stale_button(callback_answer)
                return
            _text, keyboard = await _screen(
                session, survey, member, organization, response, current, callback_data.value
            )
            if isinstance(query.message, Message):
                try:
                    await query.message.edit_reply_markup(reply_markup=keyboard)
                except TelegramBadRequest as error:  # a double tap: the keyboard already shows it
                    if "not modified" not in str(error):
                        raise
            return
        else:
            value = _button_value(current, action, callback_data.value)
            if value is _STALE:
                stale_button(callback_answer)
                return
            current = await service.answer(session, response, current, value, now)
    except SurveyError as error:
        if error.reason == "closed":
            await state.clear()
        toast(callback_answer, error_text(error), alert=error.reason in {"closed", "required"})
        return
    await state.set_state(SurveyStates.answering)
    await state.update_data(survey_id=survey.id)
    text, keyboard = await _screen(session, survey, member, organization, response, current)
    await _show(query, bot, text, keyboard)


_STALE = object()


def _button_value(question: SurveyQuestion, action: str, value: int) -> Any:
    """What a button press answers, or `_STALE` for a button that can't belong to this question."""
    kind = QuestionKind(question.kind)
    if action == "skip":
        return None
    if action == "done" and kind == QuestionKind.MULTIPLE:
        if not 0 <= value < 1 << len(question.options):
            return _STALE
        return [index for index in range(len(question.options)) if value & (1 << index)]
    if action != "answer" or kind not in BUTTON_KINDS:
        return _STALE
    if kind == QuestionKind.YES_NO:
        return {1: True, 0: False}.get(value, _STALE)
    return value


# -- typed answers ---------------------------------------------------------------------------------


@router.message(
    SurveyStates.answering,
    F.chat.type == "private",
    F.text,
    ~F.text.startswith("/"),
    flags=rights(Action.PUBLIC),
)
async def typed_answer(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    survey = await _survey(session, organization, (await state.get_data()).get("survey_id"))
    if member is None or not _registered(member) or survey is None:
        await state.clear()
        await message.answer(_("This survey no longer exists."))
        return
    now = utcnow()
    try:
        response, current = await service.start_or_resume(session, survey, member, now)
    except SurveyError as error:
        await state.clear()
        if error.reason == "submitted":
            await message.answer(await _submitted_text(session, survey, member, organization))
        else:
            await message.answer(error_text(error))
        return
    if current is None or current.kind not in TYPED_KINDS:
        text, keyboard = await _screen(session, survey, member, organization, response, current)
        hint = _("Please tap one of the buttons below.")
        await message.answer(f"<i>{escape(hint)}</i>\n\n{text}", reply_markup=keyboard)
        return
    raw = message.text or ""
    try:
        following = await service.answer(session, response, current, raw, now)
    except SurveyError as error:
        if error.reason == "closed":
            await state.clear()
        await message.answer(error_text(error, current, raw))
        return
    text, keyboard = await _screen(session, survey, member, organization, response, following)
    await message.answer(text, reply_markup=keyboard)


@router.message(SurveyStates.answering, F.chat.type == "private", ~F.text, flags=rights(Action.PUBLIC))
async def not_text(message: Message) -> None:
    await message.answer(_("Please type your answer as text."))


# -- native polls ----------------------------------------------------------------------------------


@router.poll_answer(flags=rights(Action.PUBLIC))
async def poll_vote(poll_answer: PollAnswer, member: Member | None, session: AsyncSession) -> None:
    """A vote (or its withdrawal: no options) on any copy of a non-anonymous poll."""
    if member is None or not _registered(member):
        return
    try:
        await service.record_poll_vote(
            session, poll_answer.poll_id, member.id or 0, poll_answer.option_ids, utcnow()
        )
    except SurveyError:
        return  # not one of our polls, or an option the poll never had


@router.poll(flags=rights(Action.PUBLIC))
async def poll_counts(poll: Poll, session: AsyncSession) -> None:
    """A copy's new totals: all anonymous polls tell us."""
    try:
        await service.record_poll_counts(
            session, poll.id, [option.voter_count for option in poll.options], poll.total_voter_count
        )
    except SurveyError:
        return

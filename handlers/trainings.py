"""Trainings for members: /trainings (open trainings with seats left, a card each), signing up
with the eligibility questions asked one by one (buttons or typed answers; the dialog state is in
the database), cancelling, /mytrainings (sign-ups, waitlist places, sessions with calendar files,
completion) and `?start=training_<id>` deep links. Every button is re-checked on the server."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services import trainings as service
from bot.training_view import (
    TrainingAction,
    card_keyboard,
    load,
    member_view,
    signups_open,
    training_card,
)
from handlers.fallback import stale_button, toast
from handlers.filters import IsRegistered
from handlers.states import TrainingSignupStates
from handlers.ui import member_zone
from storage.models import Member, Organization, SignupStatus, Training, TrainingStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
PAGE_SIZE = 3  # cards per page of /trainings and /mytrainings


def error_text(error: service.TrainingError) -> str:
    texts = {
        "not_found": _("This training no longer exists."),
        "cancelled": _("This training was cancelled."),
        "closed": _("Sign-ups for this training are closed."),
        "deadline_passed": _("The sign-up deadline for this training has passed."),
        "already_signed_up": _("You are already signed up for this training."),
        "not_signed_up": _("You are not signed up for this training."),
        "answer_empty": _("Please type an answer."),
        "answer_too_long": _("That answer is too long (at most {limit} characters). Please shorten it."),
        "bad_option": _("Please choose one of the buttons."),
        "answers_count": _("The questions of this training have changed. Please sign up again."),
    }
    return texts.get(error.reason, _("This button is no longer active.")).format(limit=error.limit)


async def _training(session: AsyncSession, training_id: int, organization: Organization) -> Training | None:
    """A training members may see: of this organization and published (not a draft)."""
    training = await session.get(Training, training_id, populate_existing=True)
    if (
        training is None
        or training.organization_id != organization.id
        or training.status == TrainingStatus.DRAFT
    ):
        return None
    return training


async def render_card(
    session: AsyncSession,
    training: Training,
    member: Member | None,
    organization: Organization,
    locale: str,
    *,
    calendar: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    now = utcnow()
    version = service.version_for(
        training, member.language if member else locale, organization.default_language
    )
    data = await load(session, training)
    me = await member_view(session, training.id or 0, member.id if member else None)
    zone = member_zone(member, organization)
    text = training_card(data, version, locale, zone, me, now)
    if calendar and me.completion and me.signup == SignupStatus.CONFIRMED:
        attended, total = me.completion
        text += "\n" + _("📊 Completed: {attended} of {total} sessions").format(
            attended=attended, total=total
        )
    return text, card_keyboard(data, me, locale, zone, now, calendar=calendar)


async def send_card(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    training: Training,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    text, keyboard = await render_card(session, training, member, organization, locale, calendar=True)
    await bot.send_message(chat_id, text, reply_markup=keyboard)


async def show_linked_training(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    training_id: int,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    """A `?start=training_<id>` deep link: the card, or why it can't be shown."""
    training = await _training(session, training_id, organization)
    if training is None:
        await bot.send_message(chat_id, _("This training no longer exists."))
        return
    await send_card(bot, chat_id, session, training, member, organization, locale)


def _navigation(action: str, offset: int, total: int) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    if offset > 0:
        builder.button(text="◀", callback_data=TrainingAction(action=action, id=max(0, offset - PAGE_SIZE)))
    if offset + PAGE_SIZE < total:
        builder.button(text="▶", callback_data=TrainingAction(action=action, id=offset + PAGE_SIZE))
    return builder.as_markup() if offset > 0 or offset + PAGE_SIZE < total else None


async def _send_open_trainings(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    member: Member,
    organization: Organization,
    locale: str,
    offset: int,
) -> None:
    trainings = await service.open_trainings_for(session, member, utcnow())
    if not trainings:
        await bot.send_message(
            chat_id, _("No trainings are open for sign-up right now. I'll tell you when there is one!")
        )
        return
    offset = min(max(0, offset), (len(trainings) - 1) // PAGE_SIZE * PAGE_SIZE)
    page = trainings[offset : offset + PAGE_SIZE]
    heading = ngettext(
        "🎓 <b>{count} training open for sign-up</b>",
        "🎓 <b>{count} trainings open for sign-up</b>",
        len(trainings),
    ).format(count=len(trainings))
    if len(trainings) > PAGE_SIZE:
        heading += "\n" + _("Showing {first}–{last}.").format(first=offset + 1, last=offset + len(page))
    await bot.send_message(chat_id, heading)
    for training in page:
        text, keyboard = await render_card(session, training, member, organization, locale)
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    navigation = _navigation("page", offset, len(trainings))
    if navigation is not None:
        await bot.send_message(chat_id, _("More trainings:"), reply_markup=navigation)


@router.message(Command("trainings"), IsRegistered(), flags=rights(Action.PUBLIC))
async def list_trainings(
    message: Message, member: Member, session: AsyncSession, organization: Organization, i18n: I18n, bot: Bot
) -> None:
    await _send_open_trainings(bot, message.chat.id, session, member, organization, i18n.current_locale, 0)


async def _send_my_trainings(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    member: Member,
    organization: Organization,
    locale: str,
    offset: int,
) -> None:
    mine = await service.my_trainings(session, member.id or 0, utcnow())
    mine = [
        (training, signup, done)
        for training, signup, done in mine
        if training.organization_id == organization.id
    ]
    if not mine:
        await bot.send_message(chat_id, _("You have not signed up for any training yet. See /trainings."))
        return
    offset = min(max(0, offset), (len(mine) - 1) // PAGE_SIZE * PAGE_SIZE)
    page = mine[offset : offset + PAGE_SIZE]
    await bot.send_message(
        chat_id,
        _("🎓 <b>Your trainings: {count}</b>").format(count=len(mine)),
    )
    for training, _signup, _done in page:
        text, keyboard = await render_card(session, training, member, organization, locale, calendar=True)
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    navigation = _navigation("mine", offset, len(mine))
    if navigation is not None:
        await bot.send_message(chat_id, _("More of your trainings:"), reply_markup=navigation)


@router.message(Command("mytrainings"), IsRegistered(), flags=rights(Action.PUBLIC))
async def my_trainings(
    message: Message, member: Member, session: AsyncSession, organization: Organization, i18n: I18n, bot: Bot
) -> None:
    await _send_my_trainings(bot, message.chat.id, session, member, organization, i18n.current_locale, 0)


@router.message(Command("trainings", "mytrainings"), flags=rights(Action.PUBLIC))
async def not_registered(message: Message) -> None:
    await message.answer(_("Hello! I don't know you yet. Send /start to join the community."))


# -- signing up: the eligibility questions, one at a time ------------------------------------------------


def _question_message(training: Training, index: int) -> tuple[str, InlineKeyboardMarkup | None]:
    question = training.questions[index]
    text = _("Question {number} of {total}:").format(number=index + 1, total=len(training.questions))
    text += f"\n<b>{escape(question['text'])}</b>"
    if not question["options"]:
        return text + "\n\n" + _("Type your answer, or /cancel to stop."), None
    builder = InlineKeyboardBuilder()
    for number, option in enumerate(question["options"]):
        builder.button(
            text=option[:60],
            callback_data=TrainingAction(action="answer", id=training.id or 0, value=number, step=index),
        )
    builder.adjust(1)
    return text + "\n\n" + _("Choose an answer (or type it), or /cancel to stop."), builder.as_markup()


async def _ask(bot: Bot, chat_id: int, training: Training, index: int) -> None:
    text, keyboard = _question_message(training, index)
    await bot.send_message(chat_id, text, reply_markup=keyboard)


async def _finish(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    state: FSMContext,
    training: Training,
    member: Member,
    answers: list[str],
    organization: Organization,
    locale: str,
) -> None:
    """Sign up with the answers collected (everything is checked again by the service)."""
    await state.set_state(None)
    await state.set_data({})
    try:
        result = await service.sign_up(session, training.id or 0, member.id or 0, answers, utcnow())
    except service.TrainingError as error:
        await session.rollback()
        await bot.send_message(chat_id, error_text(error))
        return
    await session.commit()
    title = escape(
        service.training_text(
            training, service.version_for(training, member.language, organization.default_language)
        )[0]
    )
    if result.status == SignupStatus.CONFIRMED:
        text = _("✅ You're signed up for <b>{title}</b>! I'll remind you before each session.").format(
            title=title
        )
    else:
        text = _(
            "⏳ <b>{title}</b> is full: you are number {position} on the waitlist. "
            "I'll tell you as soon as a seat frees up."
        ).format(title=title, position=result.position or "?")
    card, keyboard = await render_card(session, training, member, organization, locale, calendar=True)
    await bot.send_message(chat_id, text + "\n\n" + card, reply_markup=keyboard)


async def _start_signup(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    state: FSMContext,
    training: Training,
    member: Member,
    organization: Organization,
    locale: str,
) -> None:
    if not training.questions:
        await _finish(bot, chat_id, session, state, training, member, [], organization, locale)
        return
    await state.set_state(TrainingSignupStates.answer)
    await state.set_data({"training_id": training.id, "answers": []})
    await bot.send_message(
        chat_id,
        ngettext(
            "Before you sign up, {count} question from the organizers.",
            "Before you sign up, {count} questions from the organizers.",
            len(training.questions),
        ).format(count=len(training.questions)),
    )
    await _ask(bot, chat_id, training, 0)


async def _take_answer(
    raw: str,
    index: int,
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    state: FSMContext,
    training: Training,
    member: Member,
    organization: Organization,
    locale: str,
) -> None:
    """Validate one answer; ask the next question or sign up."""
    answers: list[str] = list((await state.get_data()).get("answers") or [])
    try:
        answers.append(service.validate_answer(training.questions[index], raw))
    except service.TrainingError as error:
        await bot.send_message(chat_id, error_text(error))
        return
    if len(answers) < len(training.questions):
        await state.update_data(answers=answers)
        await _ask(bot, chat_id, training, len(answers))
        return
    await _finish(bot, chat_id, session, state, training, member, answers, organization, locale)


async def _dialog_training(
    state: FSMContext, session: AsyncSession, organization: Organization
) -> tuple[Training, int] | None:
    """The training being signed up for and the index of the question asked, if still valid."""
    data = await state.get_data()
    training = await _training(session, int(data.get("training_id") or 0), organization)
    index = len(data.get("answers") or [])
    if training is None or index >= len(training.questions):
        return None
    return training, index


@router.message(
    TrainingSignupStates.answer, F.text, ~F.text.startswith("/"), IsRegistered(), flags=rights(Action.PUBLIC)
)
async def typed_answer(
    message: Message,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    organization: Organization,
    i18n: I18n,
    bot: Bot,
) -> None:
    current = await _dialog_training(state, session, organization)
    if current is None:
        await state.set_state(None)
        await message.answer(_("This training no longer exists."))
        return
    training, index = current
    await _take_answer(
        message.text or "",
        index,
        bot,
        message.chat.id,
        session,
        state,
        training,
        member,
        organization,
        i18n.current_locale,
    )


@router.message(TrainingSignupStates.answer, ~F.text, IsRegistered(), flags=rights(Action.PUBLIC))
async def not_text_answer(message: Message) -> None:
    await message.answer(_("Please answer with text, or /cancel to stop."))


# -- buttons -----------------------------------------------------------------------------------------------


@router.callback_query(TrainingAction.filter(), flags=rights(Action.PUBLIC))
async def training_button(
    query: CallbackQuery,
    callback_data: TrainingAction,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    organization: Organization,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
) -> None:
    locale = i18n.current_locale
    if member is None or not member.is_registered or member.id is None:
        toast(
            callback_answer,
            _("Please register first: open a private chat with me and send /start."),
            alert=True,
        )
        return
    chat_id = query.from_user.id
    action = callback_data.action
    if action == "page":
        await _send_open_trainings(bot, chat_id, session, member, organization, locale, callback_data.id)
        return
    if action == "mine":
        await _send_my_trainings(bot, chat_id, session, member, organization, locale, callback_data.id)
        return
    training = await _training(session, callback_data.id, organization)
    if training is None:
        toast(callback_answer, _("This training no longer exists."))
        return
    if action == "open":
        await send_card(bot, chat_id, session, training, member, organization, locale)
    elif action == "signup":
        await _signup_button(
            query, session, state, training, member, organization, locale, callback_answer, bot
        )
    elif action == "answer":
        current = await _dialog_training(state, session, organization)
        if (
            await state.get_state() != TrainingSignupStates.answer.state
            or current is None
            or current[0].id != training.id
            or current[1] != callback_data.step
            or not 0 <= callback_data.value < len(training.questions[current[1]]["options"])
        ):
            stale_button(callback_answer)
            return
        option = training.questions[current[1]]["options"][callback_data.value]
        await _take_answer(
            option, current[1], bot, chat_id, session, state, training, member, organization, locale
        )
    elif action == "cancel":
        await _cancel_button(
            query, session, training, member, organization, locale, callback_answer, delivery
        )
    else:
        stale_button(callback_answer)


async def _signup_button(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    training: Training,
    member: Member,
    organization: Organization,
    locale: str,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    now = utcnow()
    signup = await service.my_signup(session, training.id or 0, member.id or 0)
    if signup is not None and signup.status in service.HOLDING:
        position = await service.waitlist_position(session, training.id or 0, member.id or 0)
        text = error_text(service.TrainingError("already_signed_up"))
        if position:
            text += " " + _("You are number {position} on the waitlist.").format(position=position)
        toast(callback_answer, text, alert=True)
        return
    if not signups_open(training, now):
        reason = {
            TrainingStatus.CANCELLED: "cancelled",
            TrainingStatus.OPEN: "deadline_passed",
        }.get(TrainingStatus(training.status), "closed")
        toast(callback_answer, error_text(service.TrainingError(reason)), alert=True)
        return
    await _start_signup(bot, query.from_user.id, session, state, training, member, organization, locale)


async def _cancel_button(
    query: CallbackQuery,
    session: AsyncSession,
    training: Training,
    member: Member,
    organization: Organization,
    locale: str,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
    try:
        result = await service.cancel_signup(session, training.id or 0, member.id or 0, utcnow())
    except service.TrainingError as error:
        await session.rollback()
        toast(callback_answer, error_text(error), alert=True)
        return
    await session.commit()
    toast(callback_answer, _("Your sign-up is cancelled. Thank you for freeing the seat."))
    if result.promoted:
        delivery.wake()  # the promoted member's notice is in the outbox
    if isinstance(query.message, Message) and query.message.chat.type == "private":
        training = await service.get_training(session, training.id or 0)
        text, keyboard = await render_card(session, training, member, organization, locale)
        await query.message.edit_text(text, reply_markup=keyboard)

"""Signing up for a training and leaving it. The eligibility questions are asked one by one
(buttons or typed answers; the dialog state is in the database) and the service checks everything
again when the sign-up is written; a full training puts the member on the waitlist."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.trainings.queries import get_training, my_signup, visible_training, waitlist_position
from bot.services.trainings.rules import HOLDING, TrainingError, training_text, validate_answer, version_for
from bot.services.trainings.seats import cancel_signup, sign_up
from bot.views.trainings import TrainingAction, signups_open
from handlers.fallback import stale_button, toast
from handlers.filters import IsRegistered
from handlers.trainings.member import registered, render_card
from handlers.trainings.states import TrainingSignupStates
from handlers.trainings.texts import no_such_training, signup_error_text
from storage.models import SignupStatus, Training, TrainingStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
MEMBER: Final = rights(Action.PUBLIC)


# -- the eligibility questions, one at a time --------------------------------------------------------------


def question_message(training: Training, index: int) -> tuple[str, InlineKeyboardMarkup | None]:
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
    text, keyboard = question_message(training, index)
    await bot.send_message(chat_id, text, reply_markup=keyboard)


async def _finish(
    bot: Bot, chat_id: int, ctx: Context, state: FSMContext, training: Training, answers: list[str]
) -> None:
    """Sign up with the answers collected (everything is checked again by the service)."""
    member = registered(ctx)
    await state.set_state(None)
    await state.set_data({})
    try:
        result = await sign_up(ctx.session, training.id or 0, member.id or 0, answers, utcnow())
    except TrainingError as error:
        await ctx.session.rollback()
        await bot.send_message(chat_id, signup_error_text(error))
        return
    await ctx.session.commit()
    version = version_for(training, member.language, ctx.organization.default_language)
    title = escape(training_text(training, version)[0])
    if result.status == SignupStatus.CONFIRMED:
        text = _("✅ You're signed up for <b>{title}</b>! I'll remind you before each session.").format(
            title=title
        )
    else:
        text = _(
            "⏳ <b>{title}</b> is full: you are number {position} on the waitlist. "
            "I'll tell you as soon as a seat frees up."
        ).format(title=title, position=result.position or "?")
    card, keyboard = await render_card(ctx, training, calendar=True)
    await bot.send_message(chat_id, text + "\n\n" + card, reply_markup=keyboard)


async def _start_signup(bot: Bot, chat_id: int, ctx: Context, state: FSMContext, training: Training) -> None:
    if not training.questions:
        await _finish(bot, chat_id, ctx, state, training, [])
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
    raw: str, index: int, bot: Bot, chat_id: int, ctx: Context, state: FSMContext, training: Training
) -> None:
    """Validate one answer; ask the next question or sign up."""
    answers: list[str] = list((await state.get_data()).get("answers") or [])
    try:
        answers.append(validate_answer(training.questions[index], raw))
    except TrainingError as error:
        await bot.send_message(chat_id, signup_error_text(error))
        return
    if len(answers) < len(training.questions):
        await state.update_data(answers=answers)
        await _ask(bot, chat_id, training, len(answers))
        return
    await _finish(bot, chat_id, ctx, state, training, answers)


async def _dialog_training(state: FSMContext, ctx: Context) -> tuple[Training, int] | None:
    """The training being signed up for and the index of the question asked, if still valid."""
    data = await state.get_data()
    training = await visible_training(ctx.session, ctx.organization_id, int(data.get("training_id") or 0))
    index = len(data.get("answers") or [])
    if training is None or index >= len(training.questions):
        return None
    return training, index


@router.message(TrainingSignupStates.answer, F.text, ~F.text.startswith("/"), IsRegistered(), flags=MEMBER)
async def typed_answer(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    current = await _dialog_training(state, ctx)
    if current is None:
        await state.set_state(None)
        await message.answer(no_such_training())
        return
    training, index = current
    await _take_answer(message.text or "", index, bot, message.chat.id, ctx, state, training)


@router.message(TrainingSignupStates.answer, ~F.text, IsRegistered(), flags=MEMBER)
async def not_text_answer(message: Message) -> None:
    await message.answer(_("Please answer with text, or /cancel to stop."))


# -- buttons -----------------------------------------------------------------------------------------------


@router.callback_query(TrainingAction.filter(F.action == "signup"), IsRegistered(), flags=MEMBER)
async def signup_button(
    query: CallbackQuery,
    callback_data: TrainingAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    training = await visible_training(ctx.session, ctx.organization_id, callback_data.id)
    if training is None:
        toast(callback_answer, no_such_training())
        return
    member_id = registered(ctx).id or 0
    signup = await my_signup(ctx.session, training.id or 0, member_id)
    if signup is not None and signup.status in HOLDING:
        position = await waitlist_position(ctx.session, training.id or 0, member_id)
        text = signup_error_text(TrainingError("already_signed_up"))
        if position:
            text += " " + _("You are number {position} on the waitlist.").format(position=position)
        toast(callback_answer, text, alert=True)
        return
    if not signups_open(training, utcnow()):
        reason = {
            TrainingStatus.CANCELLED: "cancelled",
            TrainingStatus.OPEN: "deadline_passed",
        }.get(TrainingStatus(training.status), "closed")
        toast(callback_answer, signup_error_text(TrainingError(reason)), alert=True)
        return
    await _start_signup(bot, query.from_user.id, ctx, state, training)


@router.callback_query(TrainingAction.filter(F.action == "answer"), IsRegistered(), flags=MEMBER)
async def answer_button(
    query: CallbackQuery,
    callback_data: TrainingAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A choice pressed under a question: it counts only for the question being asked."""
    training = await visible_training(ctx.session, ctx.organization_id, callback_data.id)
    if training is None:
        toast(callback_answer, no_such_training())
        return
    current = await _dialog_training(state, ctx)
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
    await _take_answer(option, current[1], bot, query.from_user.id, ctx, state, training)


@router.callback_query(TrainingAction.filter(F.action == "cancel"), IsRegistered(), flags=MEMBER)
async def cancel_button(
    query: CallbackQuery,
    callback_data: TrainingAction,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
    training = await visible_training(ctx.session, ctx.organization_id, callback_data.id)
    if training is None:
        toast(callback_answer, no_such_training())
        return
    try:
        result = await cancel_signup(ctx.session, training.id or 0, registered(ctx).id or 0, utcnow())
    except TrainingError as error:
        await ctx.session.rollback()
        toast(callback_answer, signup_error_text(error), alert=True)
        return
    await ctx.session.commit()
    toast(callback_answer, _("Your sign-up is cancelled. Thank you for freeing the seat."))
    if result.promoted:
        delivery.wake()  # the promoted member's notice is in the outbox
    if isinstance(query.message, Message) and query.message.chat.type == "private":
        training = await get_training(ctx.session, training.id or 0)
        text, keyboard = await render_card(ctx, training)
        await query.message.edit_text(text, reply_markup=keyboard)

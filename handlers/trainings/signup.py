"""Signing up for a training and leaving it. The eligibility questions are asked one by one
(buttons or typed answers; the dialog state is in the database) and the service checks everything
again when the sign-up is written; a full training puts the member on the waitlist. The last
handler, `training_gone`, answers every member button no other handler took."""

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
from bot.services.trainings.queries import get_training, my_signup, visible_training, waitlist_position
from bot.services.trainings.rules import HOLDING, TrainingError, training_text, validate_answer, version_for
from bot.services.trainings.seats import cancel_signup, sign_up
from bot.views.trainings import TrainingAction, signups_open
from handlers.composer import Turn, button_turn, message_turn
from handlers.fallback import stale_button, toast
from handlers.filters import IsRegistered
from handlers.trainings.member import MEMBER, SHOWN, registered, render_card
from handlers.trainings.states import TrainingSignupStates
from handlers.trainings.texts import no_such_training, signup_error_text
from storage.models import SignupStatus, Training, TrainingStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


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


async def _ask(turn: Turn, training: Training, index: int) -> None:
    await turn.say(*question_message(training, index))


async def _finish(turn: Turn, training: Training, answers: list[str]) -> None:
    """Sign up with the answers collected (everything is checked again by the service)."""
    ctx, member = turn.ctx, registered(turn.ctx)
    await turn.state.set_state(None)
    await turn.state.set_data({})
    try:
        result = await sign_up(ctx.session, training.id or 0, member.id or 0, answers, utcnow())
    except TrainingError as error:
        await ctx.session.rollback()
        await turn.say(signup_error_text(error))
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
    await turn.say(text + "\n\n" + card, keyboard)


async def _start_signup(turn: Turn, training: Training) -> None:
    if not training.questions:
        await _finish(turn, training, [])
        return
    await turn.state.set_state(TrainingSignupStates.answer)
    await turn.state.set_data({"training_id": training.id, "answers": []})
    await turn.say(
        ngettext(
            "Before you sign up, {count} question from the organizers.",
            "Before you sign up, {count} questions from the organizers.",
            len(training.questions),
        ).format(count=len(training.questions))
    )
    await _ask(turn, training, 0)


async def _take_answer(turn: Turn, training: Training, index: int, raw: str) -> None:
    """Validate one answer; ask the next question or sign up."""
    answers: list[str] = list((await turn.state.get_data()).get("answers") or [])
    try:
        answers.append(validate_answer(training.questions[index], raw))
    except TrainingError as error:
        await turn.say(signup_error_text(error))
        return
    if len(answers) < len(training.questions):
        await turn.state.update_data(answers=answers)
        await _ask(turn, training, len(answers))
        return
    await _finish(turn, training, answers)


async def _dialog_training(state: FSMContext, ctx: Context) -> tuple[Training, int] | None:
    """The training being signed up for and the index of the question asked, if still valid."""
    if await state.get_state() != TrainingSignupStates.answer.state:
        return None
    data = await state.get_data()
    training = await visible_training(ctx.session, ctx.member_id, int(data.get("training_id") or 0))
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
    await _take_answer(message_turn(message, ctx, state, bot), *current, message.text or "")


@router.message(TrainingSignupStates.answer, ~F.text, IsRegistered(), flags=MEMBER)
async def not_text_answer(message: Message) -> None:
    await message.answer(_("Please answer with text, or /cancel to stop."))


# -- buttons -----------------------------------------------------------------------------------------------


@router.callback_query(TrainingAction.filter(F.action == "signup"), IsRegistered(), SHOWN, flags=MEMBER)
async def signup_button(
    query: CallbackQuery,
    training: Training,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    refused = await _signup_refused(ctx, training)
    if refused is not None:
        toast(callback_answer, refused, alert=True)
        return
    await _start_signup(button_turn(query, ctx, state, bot, callback_answer), training)


async def _signup_refused(ctx: Context, training: Training) -> str | None:
    """Why the member cannot start signing up (already holding or awaiting a seat, sign-ups
    closed), or None."""
    member_id = registered(ctx).id or 0
    signup = await my_signup(ctx.session, training.id or 0, member_id)
    if signup is not None and signup.status in HOLDING:
        position = await waitlist_position(ctx.session, training.id or 0, member_id)
        text = signup_error_text(TrainingError("already_signed_up"))
        if position:
            text += " " + _("You are number {position} on the waitlist.").format(position=position)
        return text
    if not signups_open(training, utcnow()):
        reason = {
            TrainingStatus.CANCELLED: "cancelled",
            TrainingStatus.OPEN: "deadline_passed",
        }.get(TrainingStatus(training.status), "closed")
        return signup_error_text(TrainingError(reason))
    return None


@router.callback_query(TrainingAction.filter(F.action == "answer"), IsRegistered(), SHOWN, flags=MEMBER)
async def answer_button(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A choice pressed under a question: it counts only for the question being asked."""
    turn = button_turn(query, ctx, state, bot, callback_answer)
    current = await _dialog_training(state, ctx)
    if current is None or current[0].id != training.id or current[1] != callback_data.step:
        turn.stale()
        return
    options = training.questions[current[1]]["options"]
    if not 0 <= callback_data.value < len(options):
        turn.stale()
        return
    await _take_answer(turn, training, current[1], options[callback_data.value])


@router.callback_query(TrainingAction.filter(F.action == "cancel"), IsRegistered(), SHOWN, flags=MEMBER)
async def cancel_button(
    query: CallbackQuery,
    training: Training,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
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


@router.callback_query(TrainingAction.filter(), IsRegistered(), flags=MEMBER)
async def training_gone(
    query: CallbackQuery, callback_data: TrainingAction, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    """Last of the member handlers: a button about a training members cannot see (any more), or a
    forged or retired action about one they can (stale)."""
    if await visible_training(ctx.session, ctx.member_id, callback_data.id) is None:
        toast(callback_answer, no_such_training())
    else:
        stale_button(callback_answer)

"""Changing a training's number of seats: the coordinator is told the counts and types the new
number; more seats move the waitlist up at once, in order, and those promoted are told."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.services.trainings.queries import signup_counts
from bot.services.trainings.rules import TrainingError, validate_capacity
from bot.services.trainings.seats import set_capacity
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import COORDINATOR, ON_TRAINING, ask_typed, typed_training
from handlers.trainings.states import ManageStates
from handlers.trainings.texts import error_text
from handlers.trainings.views import title_of
from storage.models import SignupStatus, Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@router.callback_query(TrainingAdmin.filter(F.action == "seats"), flags=ON_TRAINING)
async def ask_seats(query: CallbackQuery, training: Training, ctx: Context, state: FSMContext) -> None:
    counts = await signup_counts(ctx.session, training.id or 0)
    question = _(
        "“{title}” has {capacity} seats: {confirmed} confirmed, {waiting} on the waitlist. Send the "
        "new number of seats. When there are more, the waitlist moves up at once, in order."
    ).format(
        title=escape(title_of(training, ctx)),
        capacity=training.capacity,
        confirmed=counts[SignupStatus.CONFIRMED],
        waiting=counts[SignupStatus.WAITLISTED],
    )
    await ask_typed(query, state, ManageStates.seats, training, question)


@router.message(ManageStates.seats, F.text, flags=COORDINATOR)
async def seats_answer(message: Message, ctx: Context, state: FSMContext, delivery: DeliveryEngine) -> None:
    found = await typed_training(message, ctx, state)
    if found is None:
        return
    training, _info = found
    try:
        capacity = validate_capacity(message.text or "")
        promoted = await set_capacity(ctx.session, training, capacity, utcnow())
    except TrainingError as error:
        await message.answer(error_text(error))
        return
    await state.clear()
    await ctx.session.commit()
    text = _("✅ There are now {count} seats.").format(count=capacity)
    if promoted:
        text += "\n" + ngettext(
            "{count} person moved up from the waitlist and is told.",
            "{count} people moved up from the waitlist and are told.",
            len(promoted),
        ).format(count=len(promoted))
        delivery.wake()
    await message.answer(text)


@router.message(StateFilter(ManageStates.seats, ManageStates.message), ~F.text, flags=COORDINATOR)
async def not_text(message: Message) -> None:
    """Anything but text while the seats or a message to participants are awaited."""
    await message.answer(_("Please answer with a text message. Send /cancel to stop."))

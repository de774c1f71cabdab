"""A message from the coordinators to a training's confirmed participants: typed, shown as they
will get it, then sent (through the outbox, in each participant's chat) or dropped."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.services.trainings.queries import signup_counts
from bot.services.trainings.roster import message_participants
from bot.services.trainings.rules import MESSAGE_MAX, TrainingError, validate_message
from handlers.fallback import stale_button
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import COORDINATOR, ON_TRAINING, ask_typed, show, typed_training
from handlers.trainings.states import ManageStates
from handlers.trainings.texts import error_text
from handlers.trainings.views import title_of
from storage.models import SignupStatus, Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@router.callback_query(TrainingAdmin.filter(F.action == "msg"), flags=ON_TRAINING)
async def ask_message(query: CallbackQuery, training: Training, ctx: Context, state: FSMContext) -> None:
    question = _(
        "Send the message for the confirmed participants of “{title}” (at most {limit} characters). "
        "You will see it before it is sent."
    ).format(title=escape(title_of(training, ctx)), limit=MESSAGE_MAX)
    await ask_typed(query, state, ManageStates.message, training, question)


@router.message(ManageStates.message, F.text, flags=COORDINATOR)
async def message_answer(message: Message, ctx: Context, state: FSMContext) -> None:
    found = await typed_training(message, ctx, state)
    if found is None:
        return
    training, info = found
    try:
        text = validate_message(message.text)
    except TrainingError as error:
        await message.answer(error_text(error))
        return
    counts = await signup_counts(ctx.session, training.id or 0)
    await state.set_state(ManageStates.message_preview)
    await state.update_data(manage_training={**info, "text": text})
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📤 Send"), callback_data=TrainingAdmin(action="msg_send", id=training.id or 0))
    builder.button(
        text=_("✖ Don't send"), callback_data=TrainingAdmin(action="msg_drop", id=training.id or 0)
    )
    builder.adjust(2)
    confirmed = counts[SignupStatus.CONFIRMED]
    await message.answer(
        ngettext(
            "👁 The {count} confirmed participant will get:",
            "👁 The {count} confirmed participants will get:",
            confirmed,
        ).format(count=confirmed)
        + "\n\n"
        + escape(text),
        reply_markup=builder.as_markup(),
    )


@router.message(ManageStates.message_preview, flags=COORDINATOR)
async def waiting_for_button(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


async def _previewed_text(
    query: CallbackQuery, state: FSMContext, training: Training, callback_answer: CallbackAnswer
) -> str | None:
    """The message shown in the preview, if that preview is the one still waiting for a button:
    the dialog ends and the preview's buttons go. None: the button is stale (answered so)."""
    info = (await state.get_data()).get("manage_training")
    if (
        await state.get_state() != ManageStates.message_preview.state
        or not isinstance(info, dict)
        or info.get("training_id") != training.id
        or not info.get("text")
    ):
        stale_button(callback_answer)
        return None
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    return str(info["text"])


@router.callback_query(TrainingAdmin.filter(F.action == "msg_drop"), flags=ON_TRAINING)
async def drop_message(
    query: CallbackQuery, training: Training, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    if await _previewed_text(query, state, training, callback_answer) is not None:
        await show(query, _("The message was not sent."))


@router.callback_query(TrainingAdmin.filter(F.action == "msg_send"), flags=ON_TRAINING)
async def send_message(
    query: CallbackQuery,
    training: Training,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
    text = await _previewed_text(query, state, training, callback_answer)
    if text is None:
        return
    count = await message_participants(ctx.session, training, text, utcnow())
    await ctx.session.commit()
    await show(
        query,
        ngettext(
            "✉️ Sent to {count} confirmed participant.", "✉️ Sent to {count} confirmed participants.", count
        ).format(count=count),
    )
    if count:
        delivery.wake()

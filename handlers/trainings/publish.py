"""The end of /newtraining: who is told (everyone, or interests and languages), the preview with
the number of members it reaches, then Publish (the training is created and published in one
transaction, everything checked again) or Discard.

This router comes after the other /newtraining routers: its last handler, `stale`, answers every
`TrainingDraft` press no step took (another step's button, a finished dialog, forged data)."""

from __future__ import annotations

from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.services.events import EventError
from bot.services.trainings.create import create_training, publish_training
from bot.services.trainings.notices import count_audience_of
from bot.services.trainings.rules import SessionInput, TrainingError
from handlers.composer.audience import audience_choice, show_picker
from handlers.fallback import stale_button, toast
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.draft import answered, current_draft, draft_button
from handlers.trainings.managed import COORDINATOR
from handlers.trainings.new_training_steps import expired, moment, preview_text
from handlers.trainings.states import DraftStates
from handlers.trainings.texts import error_text
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.callback_query(
    TrainingDraft.filter(F.action.in_({"aud", "aud_i", "aud_l"})), DraftStates.audience, flags=COORDINATOR
)
async def audience(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Everyone, or the interests and languages ticked (see `handlers.composer.audience`)."""
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    choice = audience_choice(dict(draft.get("audience") or {}), callback_data.action, callback_data.value)
    if choice is None:
        stale_button(callback_answer)
        return
    outcome, draft["audience"] = choice
    if outcome == "done":
        await answered(query)
        await state.update_data(training=draft)
        await _preview(bot, query.from_user.id, ctx, state, draft)
        return
    await state.update_data(training=draft)
    if isinstance(query.message, Message):
        question = _("Who should be told about this training?")
        hint = _("Tick the interests and languages of the members to tell, then press Done.")
        await show_picker(query.message, outcome, draft["audience"], question, hint, TrainingDraft)


async def _preview(bot: Bot, chat_id: int, ctx: Context, state: FSMContext, draft: dict[str, Any]) -> None:
    count = await count_audience_of(ctx.session, ctx.organization_id, draft.get("audience") or {})
    await state.set_state(DraftStates.preview)
    header = (
        _("👁 Preview. Nothing is sent until you press Publish.")
        + "\n"
        + ngettext(
            "This training reaches <b>{count}</b> member.",
            "This training reaches <b>{count}</b> members.",
            count,
        ).format(count=count)
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📤 Publish"), callback_data=TrainingDraft(action="publish"))
    builder.button(text=_("🗑 Discard"), callback_data=TrainingDraft(action="discard"))
    builder.adjust(2)
    await bot.send_message(chat_id, header + "\n\n" + preview_text(draft), reply_markup=builder.as_markup())


@router.callback_query(draft_button("publish"), DraftStates.preview, flags=COORDINATOR)
async def publish(
    query: CallbackQuery,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    """Create the training and publish it, in one transaction; everything is checked again."""
    draft = await current_draft(state, callback_answer)
    if draft is None:
        return
    chat_id, now = query.from_user.id, utcnow()
    if not draft.get("title") or not draft.get("sessions") or not draft.get("capacity"):
        await state.clear()
        await bot.send_message(chat_id, expired())
        return
    items = [
        SessionInput(
            starts_at=moment(item["starts_at"]),  # type: ignore[arg-type]
            duration_minutes=int(item["duration"]),
            place=item.get("place"),
            online_url=item.get("online_url"),
        )
        for item in draft["sessions"]
    ]
    try:
        training = await create_training(
            ctx.session,
            ctx.organization,
            ctx.member,
            title=draft["title"],
            description=draft.get("description") or "",
            language=draft.get("language") or ctx.organization.default_language,
            teaching_languages=list(draft.get("teaching") or []),
            trainer=draft.get("trainer") or "",
            capacity=int(draft["capacity"]),
            signup_deadline=moment(draft.get("deadline")),
            timezone=draft["zone"],
            questions=list(draft.get("questions") or []),
            translations=dict(draft.get("translations") or {}),
            audience=dict(draft.get("audience") or {}),
            sessions=items,
            now=now,
        )
        told = await publish_training(ctx.session, training, ctx.organization, now)
    except (TrainingError, EventError) as error:
        await ctx.session.rollback()
        toast(callback_answer, error_text(error), True)
        return
    await state.clear()
    await ctx.session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await bot.send_message(
        chat_id,
        ngettext(
            "📤 Published: {count} member will be told.", "📤 Published: {count} members will be told.", told
        ).format(count=told)
        + "\n"
        + _("/managetrainings shows the sign-ups, attendance and more."),
    )
    delivery.wake()


@router.callback_query(draft_button("discard"), DraftStates.preview, flags=COORDINATOR)
async def discard(query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot) -> None:
    if await current_draft(state, callback_answer) is None:
        return
    await answered(query)
    await state.clear()
    await bot.send_message(query.from_user.id, _("🗑 The draft was discarded."))


@router.callback_query(TrainingDraft.filter(), flags=COORDINATOR)
async def stale(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button of another step, of a finished dialog, or forged."""
    stale_button(callback_answer)

"""A training's roster for coordinators: confirmed, the waitlist in order, cancelled, with the
eligibility answers, page by page within Telegram's message length; and removing someone (asked,
then done: they are told and the next in line gets the seat)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.services.trainings.roster import RosterEntry, roster
from bot.services.trainings.rules import TrainingError
from bot.services.trainings.seats import remove_participant
from handlers.fallback import stale_button, toast
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import ON_TRAINING
from handlers.trainings.texts import error_text
from handlers.trainings.views import roster_view, title_of, who
from storage.models import Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.callback_query(TrainingAdmin.filter(F.action == "roster"), flags=ON_TRAINING)
async def show_roster(
    query: CallbackQuery, training: Training, callback_data: TrainingAdmin, ctx: Context, bot: Bot
) -> None:
    """The roster from the training's page (a new message), or another page of it ("nav": edited)."""
    text, keyboard = await roster_view(ctx.session, training, title_of(training, ctx), callback_data.page)
    if callback_data.value == "nav" and isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action == "rm"), flags=ON_TRAINING)
async def ask_to_remove(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    found = await _removal(ctx, training, callback_data, callback_answer)
    if found is None:
        return
    training, entry = found
    ident = training.id or 0
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✖ Yes, remove"),
        callback_data=TrainingAdmin(action="rm_yes", id=ident, member=callback_data.member),
    )
    builder.button(text=_("← No, keep it"), callback_data=TrainingAdmin(action="keep", id=ident))
    builder.adjust(1)
    await bot.send_message(
        query.from_user.id,
        _(
            "Remove {name} from “{title}”? They will be told, and the next person on the waitlist "
            "gets the seat."
        ).format(name=who(entry.member), title=escape(title_of(training, ctx))),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(TrainingAdmin.filter(F.action == "rm_yes"), flags=ON_TRAINING)
async def remove(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    found = await _removal(ctx, training, callback_data, callback_answer)
    if found is None:
        return
    training, entry = found
    title = title_of(training, ctx)
    try:
        result = await remove_participant(ctx.session, training, callback_data.member, utcnow())
    except TrainingError as error:
        toast(callback_answer, error_text(error), alert=True)
        return
    await ctx.session.commit()
    text = _("✖ {name} is removed from “{title}” and told.").format(
        name=who(entry.member), title=escape(title)
    )
    if result.promoted:
        text += "\n" + ngettext(
            "{count} person moved up from the waitlist and is told.",
            "{count} people moved up from the waitlist and are told.",
            len(result.promoted),
        ).format(count=len(result.promoted))
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
    else:
        await bot.send_message(query.from_user.id, text)
    delivery.wake()


async def _removal(
    ctx: Context, training: Training, callback_data: TrainingAdmin, callback_answer: CallbackAnswer
) -> tuple[Training, RosterEntry] | None:
    """The training and the roster entry of the person a removal button names, if they still hold
    or await a seat; None after answering that the button is stale."""
    people = await roster(ctx.session, training.id or 0)
    entry = next(
        (item for item in [*people.confirmed, *people.waitlisted] if item.member.id == callback_data.member),
        None,
    )
    if entry is None:
        stale_button(callback_answer)
        return None
    return training, entry

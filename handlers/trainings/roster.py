"""A training's roster for coordinators: confirmed, the waitlist in order, cancelled, with the
eligibility answers, page by page within Telegram's message length; and removing someone (asked,
then done: they are told and the next in line gets the seat)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import F, Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.services.trainings.roster import RosterEntry, roster
from bot.services.trainings.rules import TrainingError
from bot.services.trainings.seats import remove_participant
from handlers.fallback import stale_button, toast
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import ON_TRAINING, show
from handlers.trainings.texts import error_text
from handlers.trainings.views import confirm_keyboard, roster_view, title_of, who
from storage.models import Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)


@router.callback_query(TrainingAdmin.filter(F.action == "roster"), flags=ON_TRAINING)
async def show_roster(
    query: CallbackQuery, training: Training, callback_data: TrainingAdmin, ctx: Context
) -> None:
    """The roster from the training's page (a new message), or another page of it ("nav": edited)."""
    text, keyboard = await roster_view(ctx.session, training, title_of(training, ctx), callback_data.page)
    await show(query, text, keyboard, edit=callback_data.value == "nav")


async def removable(ctx: Context, training: Training, member_id: int) -> RosterEntry | None:
    """The roster entry of the person a removal button names, if they still hold or await a seat."""
    people = await roster(ctx.session, training.id or 0)
    return next(
        (item for item in [*people.confirmed, *people.waitlisted] if item.member.id == member_id), None
    )


@router.callback_query(TrainingAdmin.filter(F.action == "rm"), flags=ON_TRAINING)
async def ask_to_remove(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
) -> None:
    entry = await removable(ctx, training, callback_data.member)
    if entry is None:
        stale_button(callback_answer)
        return
    question = _(
        "Remove {name} from “{title}”? They will be told, and the next person on the waitlist gets the seat."
    ).format(name=who(entry.member), title=escape(title_of(training, ctx)))
    yes = TrainingAdmin(action="rm_yes", id=training.id or 0, member=callback_data.member)
    await show(query, question, confirm_keyboard(_("✖ Yes, remove"), yes))


@router.callback_query(TrainingAdmin.filter(F.action == "rm_yes"), flags=ON_TRAINING)
async def remove(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
    entry = await removable(ctx, training, callback_data.member)
    if entry is None:
        stale_button(callback_answer)
        return
    title = escape(title_of(training, ctx))
    try:
        result = await remove_participant(ctx.session, training, callback_data.member, utcnow())
    except TrainingError as error:
        toast(callback_answer, error_text(error), alert=True)
        return
    await ctx.session.commit()
    text = _("✖ {name} is removed from “{title}” and told.").format(name=who(entry.member), title=title)
    if result.promoted:
        text += "\n" + ngettext(
            "{count} person moved up from the waitlist and is told.",
            "{count} people moved up from the waitlist and are told.",
            len(result.promoted),
        ).format(count=len(result.promoted))
    await show(query, text, edit=True)
    delivery.wake()

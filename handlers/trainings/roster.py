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
from bot.services.trainings.roster import RosterEntry
from bot.services.trainings.rules import TrainingError
from bot.services.trainings.seats import remove_participant
from handlers.fallback import toast
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import ON_PARTICIPANT, ON_TRAINING, show
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


@router.callback_query(TrainingAdmin.filter(F.action == "rm"), flags=ON_PARTICIPANT)
async def ask_to_remove(query: CallbackQuery, training: Training, entry: RosterEntry, ctx: Context) -> None:
    question = _(
        "Remove {name} from “{title}”? They will be told, and the next person on the waitlist gets the seat."
    ).format(name=who(entry.member), title=escape(title_of(training, ctx)))
    yes = TrainingAdmin(action="rm_yes", id=training.id or 0, member=entry.member.id or 0)
    await show(query, question, confirm_keyboard(_("✖ Yes, remove"), yes))


@router.callback_query(TrainingAdmin.filter(F.action == "rm_yes"), flags=ON_PARTICIPANT)
async def remove(
    query: CallbackQuery,
    training: Training,
    entry: RosterEntry,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
) -> None:
    title = escape(title_of(training, ctx))
    try:
        result = await remove_participant(ctx.session, training, entry.member.id or 0, utcnow())
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

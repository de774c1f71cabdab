"""/managetrainings: the organization's trainings page by page, and each training's page (counts,
sessions and the buttons to manage it); its CSV files, closing sign-ups, cancelling, and the
feedback averages. The roster, seats, messages and attendance have their own modules; the
screens (texts and keyboards) are in `views`.

The rights middleware refuses anyone who may not manage trainings before a handler runs, and a
training named by a button is loaded by that middleware too (`managed.ON_TRAINING`): callback data
can be forged."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.policy import Action
from bot.services import audit
from bot.services.trainings.feedback import feedback_averages
from bot.services.trainings.lifecycle import cancel_training, close_training
from bot.services.trainings.roster import export_attendance_csv, export_roster_csv
from handlers.composer import staff_dialog
from handlers.fallback import stale_button
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import COORDINATOR, KNOWN, ON_TRAINING, show
from handlers.trainings.views import confirm_keyboard, list_page, manage_view, title_of
from storage.models import Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

# -- the list and a training's page --------------------------------------------------------------


@staff_dialog(router, "managetrainings", Action.MANAGE_TRAININGS)
async def manage_trainings(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    text, keyboard = await list_page(ctx, 0)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action == "page"), flags=COORDINATOR)
async def trainings_page(query: CallbackQuery, callback_data: TrainingAdmin, ctx: Context) -> None:
    if isinstance(query.message, Message):
        text, keyboard = await list_page(ctx, callback_data.id)
        await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action == "open"), flags=ON_TRAINING)
async def open_training(query: CallbackQuery, training: Training, ctx: Context) -> None:
    await show(query, *await manage_view(ctx, training))


@router.callback_query(TrainingAdmin.filter(F.action.in_({"csv_r", "csv_a"})), flags=ON_TRAINING)
async def send_csv(
    query: CallbackQuery, training: Training, callback_data: TrainingAdmin, ctx: Context, bot: Bot
) -> None:
    """ "csv_r": the roster with the answers; "csv_a": attendance and completion."""
    roster = callback_data.action == "csv_r"
    export = export_roster_csv if roster else export_attendance_csv
    kind = "roster" if roster else "attendance"
    caption = _("👥 Roster of “{title}”") if roster else _("✅ Attendance and completion for “{title}”")
    audit.exported(
        ctx.session, "training", ctx.user_id, training.organization_id, training_id=training.id, kind=kind
    )
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(await export(ctx.session, training), filename=f"training-{training.id}-{kind}.csv"),
        caption=caption.format(title=escape(title_of(training, ctx))),
    )


@router.callback_query(TrainingAdmin.filter(F.action == "fb"), flags=ON_TRAINING)
async def feedback(query: CallbackQuery, training: Training, ctx: Context) -> None:
    title = escape(title_of(training, ctx))
    averages = await feedback_averages(ctx.session, training)
    if averages is None:
        text = _("No feedback about “{title}” yet.").format(title=title)
    else:
        average, count = averages
        text = ngettext(
            "⭐ Feedback about “{title}”: {average} out of 5 ({count} answer).",
            "⭐ Feedback about “{title}”: {average} out of 5 ({count} answers).",
            count,
        ).format(title=title, average=f"{average:.1f}", count=count)
    await show(query, text)


# -- closing sign-ups and cancelling: asked, then done -------------------------------------------


@router.callback_query(TrainingAdmin.filter(F.action.in_({"close", "cancel"})), flags=ON_TRAINING)
async def ask_to_end(
    query: CallbackQuery, training: Training, callback_data: TrainingAdmin, ctx: Context
) -> None:
    closing = callback_data.action == "close"
    yes = _("🔒 Yes, close sign-ups") if closing else _("✖ Yes, cancel it")
    question = (
        _("Close sign-ups for “{title}”? Confirmed participants keep their seats; the waitlist is told.")
        if closing
        else _("Cancel “{title}”? Everyone signed up or waiting will be told.")
    )
    confirmed = TrainingAdmin(action=f"{callback_data.action}_yes", id=training.id or 0)
    await show(
        query, question.format(title=escape(title_of(training, ctx))), confirm_keyboard(yes, confirmed)
    )


@router.callback_query(TrainingAdmin.filter(F.action == "keep"), flags=ON_TRAINING)
async def keep(query: CallbackQuery) -> None:
    """ "No, keep it" under a removal, closing or cancelling question."""
    await show(query, _("Nothing was changed."), edit=True)


@router.callback_query(TrainingAdmin.filter(F.action.in_({"close_yes", "cancel_yes"})), flags=ON_TRAINING)
async def end_training(
    query: CallbackQuery,
    training: Training,
    callback_data: TrainingAdmin,
    ctx: Context,
    delivery: DeliveryEngine,
) -> None:
    title, now = title_of(training, ctx), utcnow()
    if callback_data.action == "close_yes":
        told = await close_training(ctx.session, training, now)
        text = ngettext(
            "🔒 Sign-ups for “{title}” are closed. {count} member is told.",
            "🔒 Sign-ups for “{title}” are closed. {count} members are told.",
            told,
        )
    else:
        told = await cancel_training(ctx.session, training, now)
        text = ngettext(
            "✖ “{title}” is cancelled. {count} member is told.",
            "✖ “{title}” is cancelled. {count} members are told.",
            told,
        )
    await ctx.session.commit()
    await show(query, text.format(title=escape(title), count=told), edit=True)
    if told:
        delivery.wake()


@router.callback_query(TrainingAdmin.filter(~F.action.in_(KNOWN)), flags=COORDINATOR)
async def unknown_action(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A forged or retired action (refused by the policy before this for anyone else)."""
    stale_button(callback_answer)

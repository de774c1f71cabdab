"""/managetrainings: the organization's trainings page by page, and each training's page (counts,
sessions and the buttons to manage it); its CSV files, closing sign-ups, cancelling, and the
feedback averages. The roster, seats, messages and attendance have their own modules.

The rights middleware refuses anyone who may not manage trainings before a handler runs, and a
training named by a button is loaded through the policy (`managed_training`): callback data can
be forged."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.services.trainings.feedback import feedback_averages
from bot.services.trainings.lifecycle import cancel_training, close_training
from bot.services.trainings.queries import organization_trainings, sessions_of, signup_counts
from bot.services.trainings.roster import export_attendance_csv, export_roster_csv
from handlers.fallback import stale_button
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import (
    COORDINATOR,
    KNOWN,
    RUNNING,
    managed_training,
    status_label,
    title_of,
)
from handlers.trainings.texts import button_label, duration_label, short_when
from storage.models import Event, SignupStatus, Training, TrainingStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

PAGE_SIZE: Final = 5  # trainings per list page


async def list_page(ctx: Context, offset: int) -> tuple[str, InlineKeyboardMarkup | None]:
    offset = max(0, offset)
    page = await organization_trainings(ctx.session, ctx.organization_id, offset, PAGE_SIZE)
    if not page.trainings and offset > 0:  # the list got shorter since that button was sent
        offset = 0
        page = await organization_trainings(ctx.session, ctx.organization_id, 0, PAGE_SIZE)
    if not page.trainings:
        return _("There are no trainings yet. /newtraining creates one."), None
    lines = [
        _("🎓 <b>Trainings</b> ({first}–{last} of {total})").format(
            first=offset + 1, last=offset + len(page.trainings), total=page.total
        )
    ]
    builder = InlineKeyboardBuilder()
    for number, training in enumerate(page.trainings, start=offset + 1):
        title = title_of(training, ctx)
        counts = await signup_counts(ctx.session, training.id or 0)
        lines += [
            "",
            f"{number}. <b>{escape(title)}</b> · {status_label(training.status)}",
            _("🎟 {confirmed} of {capacity} seats taken · ⏳ waitlist: {waiting}").format(
                confirmed=counts[SignupStatus.CONFIRMED],
                capacity=training.capacity,
                waiting=counts[SignupStatus.WAITLISTED],
            ),
        ]
        builder.button(
            text=button_label(f"{number}. {title}"),
            callback_data=TrainingAdmin(action="open", id=training.id or 0),
        )
    sizes = [1] * len(page.trainings)
    navigation = 0
    if offset > 0:
        builder.button(text="◀️", callback_data=TrainingAdmin(action="page", id=max(0, offset - PAGE_SIZE)))
        navigation += 1
    if offset + PAGE_SIZE < page.total:
        builder.button(text="▶️", callback_data=TrainingAdmin(action="page", id=offset + PAGE_SIZE))
        navigation += 1
    if navigation:
        sizes.append(navigation)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def _session_line(number: int, event: Event, locale: str, zone: str) -> str:
    minutes = int(((event.ends_at or event.starts_at) - event.starts_at).total_seconds() // 60)
    where = f"📍 {escape(event.place)}" if event.place else f"🔗 {escape(event.online_url or '')}"
    when = short_when(event.starts_at, locale, zone)
    length = f" · {escape(duration_label(minutes))}" if minutes > 0 else ""
    return f"{number}. {escape(when)}{length} · {where}"


async def manage_view(ctx: Context, training: Training) -> tuple[str, InlineKeyboardMarkup]:
    ident, locale, zone = training.id or 0, ctx.locale, ctx.zone
    counts = await signup_counts(ctx.session, ident)
    sessions = await sessions_of(ctx.session, ident)
    lines = [
        _("🎓 Training #{id} · {status}").format(id=ident, status=status_label(training.status)),
        "",
        f"<b>{escape(title_of(training, ctx))}</b>",
        _("👤 Trainer: {name}").format(name=escape(training.trainer)),
        _(
            "🎟 Seats: {capacity} · ✅ confirmed: {confirmed} · ⏳ waitlist: {waiting} · "
            "✖ cancelled: {cancelled}"
        ).format(
            capacity=training.capacity,
            confirmed=counts[SignupStatus.CONFIRMED],
            waiting=counts[SignupStatus.WAITLISTED],
            cancelled=counts[SignupStatus.CANCELLED],
        ),
    ]
    if training.signup_deadline is not None:
        lines.append(
            _("⏳ Sign up until {when}").format(
                when=escape(short_when(training.signup_deadline, locale, zone))
            )
        )
    lines += ["", _("🗓 <b>Sessions</b>")]
    lines += [_session_line(number, event, locale, zone) for number, event in enumerate(sessions, start=1)]
    builder = InlineKeyboardBuilder()

    def add(text: str, action: str) -> None:
        builder.button(text=text, callback_data=TrainingAdmin(action=action, id=ident))

    add(_("👥 Roster"), "roster")
    add(_("✅ Attendance"), "att")
    add(_("📄 Roster CSV"), "csv_r")
    add(_("📄 Attendance CSV"), "csv_a")
    if training.status in RUNNING:
        add(_("🎟 Seats"), "seats")
        add(_("✉️ Message participants"), "msg")
    if training.feedback_survey_id is not None:
        add(_("⭐ Feedback"), "fb")
    if training.status == TrainingStatus.OPEN:
        add(_("🔒 Close sign-ups"), "close")
    if training.status in RUNNING:
        add(_("✖ Cancel training"), "cancel")
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


# -- the list and a training's page --------------------------------------------------------------


@router.message(Command("managetrainings"), flags=COORDINATOR)
async def manage_trainings(message: Message, ctx: Context) -> None:
    text, keyboard = await list_page(ctx, 0)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action == "page"), flags=COORDINATOR)
async def trainings_page(query: CallbackQuery, callback_data: TrainingAdmin, ctx: Context) -> None:
    if isinstance(query.message, Message):
        text, keyboard = await list_page(ctx, callback_data.id)
        await query.message.edit_text(text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action == "open"), flags=COORDINATOR)
async def open_training(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
    text, keyboard = await manage_view(ctx, training)
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action.in_({"csv_r", "csv_a"})), flags=COORDINATOR)
async def send_csv(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """ "csv_r": the roster with the answers; "csv_a": attendance and completion."""
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
    roster = callback_data.action == "csv_r"
    export = export_roster_csv if roster else export_attendance_csv
    kind = "roster" if roster else "attendance"
    caption = _("👥 Roster of “{title}”") if roster else _("✅ Attendance and completion for “{title}”")
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(await export(ctx.session, training), filename=f"training-{training.id}-{kind}.csv"),
        caption=caption.format(title=escape(title_of(training, ctx))),
    )


@router.callback_query(TrainingAdmin.filter(F.action == "fb"), flags=COORDINATOR)
async def feedback(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
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
    await bot.send_message(query.from_user.id, text)


# -- closing sign-ups and cancelling: asked, then done -------------------------------------------


@router.callback_query(TrainingAdmin.filter(F.action.in_({"close", "cancel"})), flags=COORDINATOR)
async def ask_to_end(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
    action, ident = callback_data.action, training.id or 0
    builder = InlineKeyboardBuilder()
    yes = _("🔒 Yes, close sign-ups") if action == "close" else _("✖ Yes, cancel it")
    builder.button(text=yes, callback_data=TrainingAdmin(action=f"{action}_yes", id=ident))
    builder.button(text=_("← No, keep it"), callback_data=TrainingAdmin(action="keep", id=ident))
    builder.adjust(1)
    question = (
        _("Close sign-ups for “{title}”? Confirmed participants keep their seats; the waitlist is told.")
        if action == "close"
        else _("Cancel “{title}”? Everyone signed up or waiting will be told.")
    )
    await bot.send_message(
        query.from_user.id,
        question.format(title=escape(title_of(training, ctx))),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(TrainingAdmin.filter(F.action == "keep"), flags=COORDINATOR)
async def keep(
    query: CallbackQuery, callback_data: TrainingAdmin, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    """ "No, keep it" under a removal, closing or cancelling question."""
    if await managed_training(ctx, callback_data, callback_answer) is None:
        return
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was changed."))


@router.callback_query(TrainingAdmin.filter(F.action.in_({"close_yes", "cancel_yes"})), flags=COORDINATOR)
async def end_training(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
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
    result = text.format(title=escape(title), count=told)
    if isinstance(query.message, Message):
        await query.message.edit_text(result)
    else:
        await bot.send_message(query.from_user.id, result)
    if told:
        delivery.wake()


@router.callback_query(TrainingAdmin.filter(~F.action.in_(KNOWN)), flags=COORDINATOR)
async def unknown_action(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A forged or retired action (refused by the policy before this for anyone else)."""
    stale_button(callback_answer)

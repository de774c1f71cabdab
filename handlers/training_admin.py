"""The coordinator side of trainings after publishing: /managetrainings lists the organization's
trainings; each has its roster (confirmed, waitlist in order, cancelled, with the eligibility
answers), seats, a message to the confirmed participants, attendance per session, CSV exports,
closing sign-ups, cancelling, and the feedback averages.

Every command, typed step and button re-checks on the server that the user may coordinate and
that the training belongs to their organization: callback data can be forged.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services import trainings as service
from bot.services.events import telegram_length
from bot.services.roles import Actor, can_coordinate
from bot.services.trainings.queries import organization_trainings, signup_counts
from bot.services.trainings import TrainingError
from handlers.fallback import stale_button, toast
from handlers.training_common import (
    button_label,
    duration_label,
    error_text,
    gone,
    markup,
    refusal,
    short_when,
)
from handlers.ui import member_zone
from storage.models import Event, Member, Organization, SignupStatus, Training, TrainingStatus
from storage.types import RowId, utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

PAGE_SIZE = 5  # trainings per list page
ROSTER_PAGE = 15  # people per roster page
TOGGLES = 20  # attendance buttons per page
TEXT_BUDGET = 3900  # stay clear of Telegram's 4096
RUNNING = (TrainingStatus.OPEN, TrainingStatus.CLOSED)
SHOWN = (*RUNNING, TrainingStatus.COMPLETED)


class TrainingAdmin(CallbackData, prefix="tra"):
    """Coordinator buttons. `id` is the training (the list offset for "page"), `member` a member,
    `event` a session, `page` an offset in a list, `value` a short code."""

    action: str
    id: RowId = 0
    member: RowId = 0
    event: RowId = 0
    page: RowId = 0
    value: str = ""


class ManageStates(StatesGroup):
    seats = State()  # typed: the new number of seats
    message = State()  # typed: a message to the confirmed participants
    message_preview = State()  # buttons: send or not


# Which statuses each action accepts; anything else is a stale or forged button.
ACTIONS: Final[dict[str, tuple[TrainingStatus, ...]]] = {
    "open": SHOWN,
    "roster": (*SHOWN, TrainingStatus.CANCELLED),
    "rm": RUNNING,
    "rm_yes": RUNNING,
    "seats": RUNNING,
    "msg": RUNNING,
    "msg_send": RUNNING,
    "msg_drop": (*SHOWN, TrainingStatus.CANCELLED),
    "att": SHOWN,
    "att_s": SHOWN,
    "mark": SHOWN,
    "csv_r": (*SHOWN, TrainingStatus.CANCELLED),
    "csv_a": (*SHOWN, TrainingStatus.CANCELLED),
    "close": (TrainingStatus.OPEN,),
    "close_yes": (TrainingStatus.OPEN,),
    "cancel": RUNNING,
    "cancel_yes": RUNNING,
    "keep": (*SHOWN, TrainingStatus.CANCELLED),
    "fb": SHOWN,
}


def _title(training: Training, locale: str, organization: Organization) -> str:
    """The title in the version a coordinator reading in `locale` gets."""
    version = service.version_for(training, locale, organization.default_language)
    return service.training_text(training, version)[0]


def _status_label(status: TrainingStatus) -> str:
    labels = {
        TrainingStatus.OPEN: _("🟢 sign-ups open"),
        TrainingStatus.CLOSED: _("🔒 sign-ups closed"),
        TrainingStatus.COMPLETED: _("🏁 completed"),
        TrainingStatus.CANCELLED: _("✖ cancelled"),
        TrainingStatus.DRAFT: _("📝 draft"),
    }
    return labels[status]


def _who(member: Member) -> str:
    """A participant as HTML (escaped)."""
    name = escape(member.display_name) if member.display_name else _("member #{id}").format(id=member.id)
    return f"{name} (@{escape(member.username)})" if member.username else name


def _plain_name(member: Member) -> str:
    return member.display_name or (f"@{member.username}" if member.username else f"#{member.id}")


async def _allowed(
    session: AsyncSession, actor: Actor | None, member: Member | None, organization: Organization
) -> bool:
    return await can_coordinate(session, actor, member, organization.id or 0)


async def _training(session: AsyncSession, organization: Organization, training_id: int) -> Training | None:
    """The organization's training with that id, or None (unknown, or another organization's)."""
    if not 0 < training_id < 2**31:
        return None
    try:
        training = await service.get_training(session, training_id)
    except TrainingError:
        return None
    return training if training.organization_id == organization.id else None


# -- /managetrainings ---------------------------------------------------------------------------


@router.message(Command("managetrainings"), flags=rights(Action.MANAGE_TRAININGS))
async def manage_trainings(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    i18n: I18n,
) -> None:
    if not await _allowed(session, actor, member, organization):
        await message.answer(refusal())
        return
    text, keyboard = await _list_page(session, organization, 0, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard)


async def _list_page(
    session: AsyncSession, organization: Organization, offset: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    offset = max(0, offset)
    page = await organization_trainings(session, organization.id or 0, offset, PAGE_SIZE)
    if not page.trainings and offset > 0:  # the list got shorter since that button was sent
        offset = 0
        page = await organization_trainings(session, organization.id or 0, 0, PAGE_SIZE)
    if not page.trainings:
        return _("There are no trainings yet. /newtraining creates one."), None
    lines = [
        _("🎓 <b>Trainings</b> ({first}–{last} of {total})").format(
            first=offset + 1, last=offset + len(page.trainings), total=page.total
        )
    ]
    builder = InlineKeyboardBuilder()
    for number, training in enumerate(page.trainings, start=offset + 1):
        title = _title(training, locale, organization)
        counts = await signup_counts(session, training.id or 0)
        lines += [
            "",
            f"{number}. <b>{escape(title)}</b> · {_status_label(training.status)}",
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


async def _manage_view(
    session: AsyncSession, training: Training, organization: Organization, locale: str, zone: str
) -> tuple[str, InlineKeyboardMarkup]:
    ident = training.id or 0
    counts = await signup_counts(session, ident)
    sessions = await service.sessions_of(session, ident)
    lines = [
        _("🎓 Training #{id} · {status}").format(id=ident, status=_status_label(training.status)),
        "",
        f"<b>{escape(_title(training, locale, organization))}</b>",
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


# -- typed steps: seats and the message to participants ------------------------------------------


async def _typed_training(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> tuple[Training, dict[str, Any]] | None:
    """For a typed answer: the training it is about, after checking again that the sender may
    coordinate and that the training can still change; None after telling them why not."""
    if not await _allowed(session, actor, member, organization):
        await state.clear()
        await message.answer(refusal())
        return None
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return None
    info = (await state.get_data()).get("manage_training")
    training_id = info.get("training_id") if isinstance(info, dict) else None
    training = await _training(session, organization, int(training_id or 0))
    if training is None or training.status not in RUNNING:
        await state.clear()
        await message.answer(gone())
        return None
    return training, dict(info)  # type: ignore[arg-type]


@router.message(ManageStates.seats, F.text, flags=rights(Action.MANAGE_TRAININGS))
async def seats_answer(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    delivery: DeliveryEngine,
) -> None:
    found = await _typed_training(message, actor, member, session, organization, state)
    if found is None:
        return
    training, _info = found
    try:
        capacity = service.validate_capacity(message.text or "")
        promoted = await service.set_capacity(session, training, capacity, utcnow())
    except TrainingError as error:
        await message.answer(error_text(error))
        return
    await state.clear()
    await session.commit()
    text = _("✅ There are now {count} seats.").format(count=capacity)
    if promoted:
        text += "\n" + ngettext(
            "{count} person moved up from the waitlist and is told.",
            "{count} people moved up from the waitlist and are told.",
            len(promoted),
        ).format(count=len(promoted))
        delivery.wake()
    await message.answer(text)


@router.message(ManageStates.message, F.text, flags=rights(Action.MANAGE_TRAININGS))
async def message_answer(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    found = await _typed_training(message, actor, member, session, organization, state)
    if found is None:
        return
    training, info = found
    try:
        text = service.validate_message(message.text)
    except TrainingError as error:
        await message.answer(error_text(error))
        return
    counts = await signup_counts(session, training.id or 0)
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


@router.message(StateFilter(ManageStates.seats, ManageStates.message), flags=rights(Action.MANAGE_TRAININGS))
async def not_text(message: Message) -> None:
    await message.answer(_("Please answer with a text message. Send /cancel to stop."))


@router.message(ManageStates.message_preview, flags=rights(Action.MANAGE_TRAININGS))
async def waiting_for_button(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


# -- buttons ------------------------------------------------------------------------------------


@router.callback_query(TrainingAdmin.filter(), flags=rights(Action.MANAGE_TRAININGS))
async def training_button(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
) -> None:
    if not await _allowed(session, actor, member, organization):
        toast(callback_answer, refusal(), alert=True)
        return
    action, locale = callback_data.action, i18n.current_locale
    zone, chat_id = member_zone(member, organization), query.from_user.id
    message = query.message if isinstance(query.message, Message) else None
    if action == "page":
        if message is not None:
            text, keyboard = await _list_page(session, organization, callback_data.id, locale)
            await message.edit_text(text, reply_markup=keyboard)
        return
    training = await _training(session, organization, callback_data.id)
    if training is None or training.status not in ACTIONS.get(action, ()):
        stale_button(callback_answer)
        return
    ident, title = training.id or 0, _title(training, locale, organization)
    if action == "open":
        text, keyboard = await _manage_view(session, training, organization, locale, zone)
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    elif action == "roster":
        text, keyboard = await _roster_view(session, training, title, callback_data.page)
        if callback_data.value == "nav" and message is not None:
            await message.edit_text(text, reply_markup=keyboard)
        else:
            await bot.send_message(chat_id, text, reply_markup=keyboard)
    elif action in ("rm", "rm_yes"):
        await _remove(query, callback_data, session, training, title, callback_answer, delivery, bot)
    elif action == "seats":
        counts = await signup_counts(session, ident)
        await state.set_state(ManageStates.seats)
        await state.update_data(manage_training={"training_id": ident})
        await bot.send_message(
            chat_id,
            _(
                "“{title}” has {capacity} seats: {confirmed} confirmed, {waiting} on the waitlist. Send the "
                "new number of seats. When there are more, the waitlist moves up at once, in order."
            ).format(
                title=escape(title),
                capacity=training.capacity,
                confirmed=counts[SignupStatus.CONFIRMED],
                waiting=counts[SignupStatus.WAITLISTED],
            ),
        )
    elif action == "msg":
        await state.set_state(ManageStates.message)
        await state.update_data(manage_training={"training_id": ident})
        await bot.send_message(
            chat_id,
            _(
                "Send the message for the confirmed participants of “{title}” (at most {limit} characters). "
                "You will see it before it is sent."
            ).format(title=escape(title), limit=service.MESSAGE_MAX),
        )
    elif action in ("msg_send", "msg_drop"):
        await _send_message(query, session, training, state, callback_answer, delivery, bot, action)
    elif action in ("att", "att_s", "mark"):
        await _attendance(query, callback_data, session, training, title, callback_answer, locale, zone, bot)
    elif action in ("csv_r", "csv_a"):
        export = service.export_roster_csv if action == "csv_r" else service.export_attendance_csv
        kind = "roster" if action == "csv_r" else "attendance"
        caption = (
            _("👥 Roster of “{title}”")
            if action == "csv_r"
            else _("✅ Attendance and completion for “{title}”")
        )
        await bot.send_document(
            chat_id,
            BufferedInputFile(await export(session, training), filename=f"training-{ident}-{kind}.csv"),
            caption=caption.format(title=escape(title)),
        )
    elif action in ("close", "cancel"):
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
            chat_id, question.format(title=escape(title)), reply_markup=builder.as_markup()
        )
    elif action == "keep":
        if message is not None:
            await message.edit_text(_("Nothing was changed."))
    elif action in ("close_yes", "cancel_yes"):
        now = utcnow()
        if action == "close_yes":
            told = await service.close_training(session, training, now)
            text = ngettext(
                "🔒 Sign-ups for “{title}” are closed. {count} member is told.",
                "🔒 Sign-ups for “{title}” are closed. {count} members are told.",
                told,
            )
        else:
            told = await service.cancel_training(session, training, now)
            text = ngettext(
                "✖ “{title}” is cancelled. {count} member is told.",
                "✖ “{title}” is cancelled. {count} members are told.",
                told,
            )
        await session.commit()
        result = text.format(title=escape(title), count=told)
        if message is not None:
            await message.edit_text(result)
        else:
            await bot.send_message(chat_id, result)
        if told:
            delivery.wake()
    elif action == "fb":
        averages = await service.feedback_averages(session, training)
        if averages is None:
            text = _("No feedback about “{title}” yet.").format(title=escape(title))
        else:
            average, count = averages
            text = ngettext(
                "⭐ Feedback about “{title}”: {average} out of 5 ({count} answer).",
                "⭐ Feedback about “{title}”: {average} out of 5 ({count} answers).",
                count,
            ).format(title=escape(title), average=f"{average:.1f}", count=count)
        await bot.send_message(chat_id, text)


# -- roster and removals ------------------------------------------------------------------------


async def _roster_view(
    session: AsyncSession, training: Training, title: str, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Confirmed, then the waitlist in order, then cancelled, `ROSTER_PAGE` people at a time."""
    roster = await service.roster(session, training.id or 0)
    ident = training.id or 0
    entries = [
        *((_("<b>Confirmed</b>"), entry) for entry in roster.confirmed),
        *((_("<b>Waitlist</b>"), entry) for entry in roster.waitlisted),
        *((_("<b>Cancelled</b>"), entry) for entry in roster.cancelled),
    ]
    offset = max(0, min(offset, max(0, len(entries) - 1)))
    lines = [
        _("👥 <b>{title}</b>").format(title=escape(title)),
        _(
            "✅ Confirmed: {confirmed} of {capacity} · ⏳ Waitlist: {waiting} · ✖ Cancelled: {cancelled}"
        ).format(
            confirmed=len(roster.confirmed),
            capacity=training.capacity,
            waiting=len(roster.waitlisted),
            cancelled=len(roster.cancelled),
        ),
    ]
    if not entries:
        lines += ["", _("Nobody has signed up yet.")]
    builder = InlineKeyboardBuilder()
    used, heading, shown = sum(telegram_length(line) + 1 for line in lines) + 200, None, 0
    questions = [str(question.get("text", "")) for question in training.questions]
    numbers = {
        id(entry): number
        for group in (roster.confirmed, roster.waitlisted, roster.cancelled)
        for number, entry in enumerate(group, start=1)
    }
    for section, entry in entries[offset : offset + ROSTER_PAGE]:
        block = []
        if section != heading:
            block += ["", section]
        line = f"{numbers[id(entry)]}. {_who(entry.member)}"
        block.append(line)
        for question, answer in zip(questions, entry.answers, strict=False):
            block.append(f"    ↳ {escape(question)}: {escape(answer)}")
        size = sum(telegram_length(item) + 1 for item in block)  # as Telegram counts: emoji are 2
        if used + size > TEXT_BUDGET:
            break
        lines += block
        used, heading, shown = used + size, section, shown + 1
        if entry.status in (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED):
            builder.button(
                text=button_label(f"✖ {_plain_name(entry.member)}"),
                callback_data=TrainingAdmin(action="rm", id=ident, member=entry.member.id or 0),
            )
    removable = len(list(builder.buttons))
    if entries:
        lines += [
            "",
            _("Showing {first}–{last} of {total}.").format(
                first=offset + 1, last=offset + shown, total=len(entries)
            ),
        ]
    if removable:
        lines.append(_("Press ✖ next to a name to remove that person."))
    sizes = [2] * (removable // 2) + [1] * (removable % 2)
    navigation = 0
    if offset > 0:
        builder.button(
            text="◀️",
            callback_data=TrainingAdmin(
                action="roster", id=ident, value="nav", page=max(0, offset - ROSTER_PAGE)
            ),
        )
        navigation += 1
    if offset + shown < len(entries):
        builder.button(
            text="▶️", callback_data=TrainingAdmin(action="roster", id=ident, value="nav", page=offset + shown)
        )
        navigation += 1
    if navigation:
        sizes.append(navigation)
    return "\n".join(lines), markup(builder, *sizes)


async def _remove(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    session: AsyncSession,
    training: Training,
    title: str,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    ident, chat_id = training.id or 0, query.from_user.id
    roster = await service.roster(session, ident)
    entry = next(
        (item for item in [*roster.confirmed, *roster.waitlisted] if item.member.id == callback_data.member),
        None,
    )
    if entry is None:
        stale_button(callback_answer)
        return
    if callback_data.action == "rm":
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("✖ Yes, remove"),
            callback_data=TrainingAdmin(action="rm_yes", id=ident, member=callback_data.member),
        )
        builder.button(text=_("← No, keep it"), callback_data=TrainingAdmin(action="keep", id=ident))
        builder.adjust(1)
        await bot.send_message(
            chat_id,
            _(
                "Remove {name} from “{title}”? They will be told, and the next person on the waitlist "
                "gets the seat."
            ).format(name=_who(entry.member), title=escape(title)),
            reply_markup=builder.as_markup(),
        )
        return
    try:
        result = await service.remove_participant(session, training, callback_data.member, utcnow())
    except TrainingError as error:
        toast(callback_answer, error_text(error), alert=True)
        return
    await session.commit()
    text = _("✖ {name} is removed from “{title}” and told.").format(
        name=_who(entry.member), title=escape(title)
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
        await bot.send_message(chat_id, text)
    delivery.wake()


async def _send_message(
    query: CallbackQuery,
    session: AsyncSession,
    training: Training,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
    action: str,
) -> None:
    info = (await state.get_data()).get("manage_training")
    if (
        await state.get_state() != ManageStates.message_preview.state
        or not isinstance(info, dict)
        or info.get("training_id") != training.id
        or not info.get("text")
    ):
        stale_button(callback_answer)
        return
    await state.clear()
    message = query.message if isinstance(query.message, Message) else None
    if message is not None:
        await message.edit_reply_markup(reply_markup=None)
    if action == "msg_drop":
        await bot.send_message(query.from_user.id, _("The message was not sent."))
        return
    count = await service.message_participants(session, training, str(info["text"]), utcnow())
    await session.commit()
    await bot.send_message(
        query.from_user.id,
        ngettext(
            "✉️ Sent to {count} confirmed participant.", "✉️ Sent to {count} confirmed participants.", count
        ).format(count=count),
    )
    if count:
        delivery.wake()


# -- attendance ---------------------------------------------------------------------------------


async def _attendance(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    session: AsyncSession,
    training: Training,
    title: str,
    callback_answer: CallbackAnswer,
    locale: str,
    zone: str,
    bot: Bot,
) -> None:
    """ "att": which session; "att_s": that session's participants with ✅/❌ toggles; "mark": one toggle."""
    ident, chat_id = training.id or 0, query.from_user.id
    message = query.message if isinstance(query.message, Message) else None
    sessions = await service.sessions_of(session, ident)
    if callback_data.action == "att":
        builder = InlineKeyboardBuilder()
        for number, event in enumerate(sessions, start=1):
            when = short_when(event.starts_at, locale, zone)
            builder.button(
                text=button_label(f"{number}. {when}"),
                callback_data=TrainingAdmin(action="att_s", id=ident, event=event.id or 0),
            )
        builder.adjust(1)
        await bot.send_message(
            chat_id,
            _("✅ Attendance for “{title}”: which session?").format(title=escape(title)),
            reply_markup=builder.as_markup(),
        )
        return
    event = next((item for item in sessions if item.id == callback_data.event), None)
    if event is None:
        stale_button(callback_answer)
        return
    if callback_data.action == "mark":
        roster = await service.roster(session, ident)
        if not any(entry.member.id == callback_data.member for entry in roster.confirmed):
            stale_button(callback_answer)
            return
        marks = await service.attendance(session, ident)
        attended = not marks.get((callback_data.member, event.id or 0), False)
        try:
            await service.mark_attendance(session, training, event.id or 0, callback_data.member, attended)
        except TrainingError as error:
            toast(callback_answer, error_text(error), alert=True)
            return
        toast(callback_answer, _("Marked as attended.") if attended else _("Marked as absent."))
    text, keyboard = await _session_view(
        session, training, title, sessions, event, callback_data.page, locale, zone
    )
    if callback_data.action == "mark" or (callback_data.value == "nav" and message is not None):
        if message is not None:
            await message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(chat_id, text, reply_markup=keyboard)


async def _session_view(
    session: AsyncSession,
    training: Training,
    title: str,
    sessions: list[Event],
    event: Event,
    offset: int,
    locale: str,
    zone: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    ident, event_id = training.id or 0, event.id or 0
    confirmed = (await service.roster(session, ident)).confirmed
    marks = await service.attendance(session, ident)
    present = sum(1 for entry in confirmed if marks.get((entry.member.id or 0, event_id), False))
    number = next(index for index, item in enumerate(sessions, start=1) if item.id == event_id)
    lines = [
        _("✅ <b>{title}</b>: session {number} of {total}").format(
            title=escape(title), number=number, total=len(sessions)
        ),
        f"🕒 {escape(short_when(event.starts_at, locale, zone))}",
        ngettext(
            "{present} of {count} participant attended.",
            "{present} of {count} participants attended.",
            len(confirmed),
        ).format(present=present, count=len(confirmed)),
    ]
    lines.append(
        _("Tap a name to switch between ✅ attended and ❌ absent.")
        if confirmed
        else _("Nobody is confirmed.")
    )
    offset = max(0, min(offset, max(0, len(confirmed) - 1)))
    offset -= offset % TOGGLES
    builder = InlineKeyboardBuilder()
    for entry in confirmed[offset : offset + TOGGLES]:
        mark = "✅" if marks.get((entry.member.id or 0, event_id), False) else "❌"
        builder.button(
            text=button_label(f"{mark} {_plain_name(entry.member)}"),
            callback_data=TrainingAdmin(
                action="mark", id=ident, event=event_id, member=entry.member.id or 0, page=offset
            ),
        )
    shown = min(TOGGLES, max(0, len(confirmed) - offset))
    sizes = [2] * (shown // 2) + [1] * (shown % 2)
    navigation = 0
    for condition, page, arrow in (
        (offset > 0, offset - TOGGLES, "◀️"),
        (offset + TOGGLES < len(confirmed), offset + TOGGLES, "▶️"),
    ):
        if condition:
            builder.button(
                text=arrow,
                callback_data=TrainingAdmin(action="att_s", id=ident, event=event_id, page=page, value="nav"),
            )
            navigation += 1
    if navigation:
        sizes.append(navigation)
    return "\n".join(lines), markup(builder, *sizes)

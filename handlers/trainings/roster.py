"""A training's roster for coordinators: confirmed, the waitlist in order, cancelled, with the
eligibility answers, page by page within Telegram's message length; and removing someone (asked,
then done: they are told and the next in line gets the seat)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, ngettext
from bot.services.events import telegram_length
from bot.services.trainings.roster import RosterEntry, roster
from bot.services.trainings.rules import TrainingError
from bot.services.trainings.seats import remove_participant
from handlers.fallback import stale_button, toast
from handlers.trainings.callbacks import TrainingAdmin
from handlers.trainings.managed import COORDINATOR, managed_training, plain_name, title_of, who
from handlers.trainings.texts import button_label, error_text, markup
from storage.models import SignupStatus, Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)

ROSTER_PAGE: Final = 15  # people per roster page
TEXT_BUDGET: Final = 3900  # stay clear of Telegram's 4096


async def roster_view(
    session: AsyncSession, training: Training, title: str, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Confirmed, then the waitlist in order, then cancelled, `ROSTER_PAGE` people at a time."""
    people = await roster(session, training.id or 0)
    ident = training.id or 0
    entries = [
        *((_("<b>Confirmed</b>"), entry) for entry in people.confirmed),
        *((_("<b>Waitlist</b>"), entry) for entry in people.waitlisted),
        *((_("<b>Cancelled</b>"), entry) for entry in people.cancelled),
    ]
    offset = max(0, min(offset, max(0, len(entries) - 1)))
    lines = [
        _("👥 <b>{title}</b>").format(title=escape(title)),
        _(
            "✅ Confirmed: {confirmed} of {capacity} · ⏳ Waitlist: {waiting} · ✖ Cancelled: {cancelled}"
        ).format(
            confirmed=len(people.confirmed),
            capacity=training.capacity,
            waiting=len(people.waitlisted),
            cancelled=len(people.cancelled),
        ),
    ]
    if not entries:
        lines += ["", _("Nobody has signed up yet.")]
    builder = InlineKeyboardBuilder()
    used, heading, shown = sum(telegram_length(line) + 1 for line in lines) + 200, None, 0
    questions = [str(question.get("text", "")) for question in training.questions]
    numbers = {
        id(entry): number
        for group in (people.confirmed, people.waitlisted, people.cancelled)
        for number, entry in enumerate(group, start=1)
    }
    for section, entry in entries[offset : offset + ROSTER_PAGE]:
        block = []
        if section != heading:
            block += ["", section]
        line = f"{numbers[id(entry)]}. {who(entry.member)}"
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
                text=button_label(f"✖ {plain_name(entry.member)}"),
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


@router.callback_query(TrainingAdmin.filter(F.action == "roster"), flags=COORDINATOR)
async def show_roster(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The roster from the training's page (a new message), or another page of it ("nav": edited)."""
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return
    text, keyboard = await roster_view(ctx.session, training, title_of(training, ctx), callback_data.page)
    if callback_data.value == "nav" and isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(TrainingAdmin.filter(F.action == "rm"), flags=COORDINATOR)
async def ask_to_remove(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    found = await _removal(ctx, callback_data, callback_answer)
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


@router.callback_query(TrainingAdmin.filter(F.action == "rm_yes"), flags=COORDINATOR)
async def remove(
    query: CallbackQuery,
    callback_data: TrainingAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    found = await _removal(ctx, callback_data, callback_answer)
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
    ctx: Context, callback_data: TrainingAdmin, callback_answer: CallbackAnswer
) -> tuple[Training, RosterEntry] | None:
    """The training and the roster entry of the person a removal button names, if they still hold
    or await a seat; None after answering that the button is stale."""
    training = await managed_training(ctx, callback_data, callback_answer)
    if training is None:
        return None
    people = await roster(ctx.session, training.id or 0)
    entry = next(
        (item for item in [*people.confirmed, *people.waitlisted] if item.member.id == callback_data.member),
        None,
    )
    if entry is None:
        stale_button(callback_answer)
        return None
    return training, entry

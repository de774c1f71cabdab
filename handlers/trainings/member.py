"""Trainings for members: /trainings (the open trainings with seats left, a card each, page by
page), a card opened from a button or a `?start=training_<id>` deep link, and what someone not
registered yet is told. Signing up is in `signup`, /mytrainings in `my_trainings`.

Every button is re-checked on the server: the training a button names is loaded by the `SHOWN`
filter (members see the published trainings of this organization) and injected as `training`; a
button whose training is not shown falls through to `signup.training_gone`, the last handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.origins import origin_name
from bot.services.trainings.members import open_trainings_for
from bot.services.trainings.queries import visible_training
from bot.services.trainings.rules import version_for
from bot.views.trainings import TrainingAction, card_keyboard, load, member_view, training_card
from handlers.fallback import toast
from handlers.filters import IsRegistered
from handlers.trainings.texts import no_such_training
from storage.models import Member, Organization, SignupStatus, Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
MEMBER: Final = rights(Action.PUBLIC)
PAGE_SIZE: Final = 3  # cards per page of /trainings and /mytrainings


class Shown(Filter):
    """The training a member's button names, if members may see it (of this organization, and
    published): injected as the handler argument `training`."""

    async def __call__(
        self, query: CallbackQuery, callback_data: TrainingAction, ctx: Context
    ) -> bool | dict[str, Any]:
        training = await visible_training(ctx.session, ctx.member_id, callback_data.id)
        return {"training": training} if training is not None else False


SHOWN: Final = Shown()


def registered(ctx: Context) -> Member:
    """The member behind an update that passed `IsRegistered`."""
    assert ctx.member is not None and ctx.member.id is not None
    return ctx.member


async def render_card(
    ctx: Context, training: Training, *, calendar: bool = False
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card as the reader sees it; with `calendar`, their completion and calendar buttons."""
    now, member = utcnow(), ctx.member
    version = version_for(
        training, member.language if member else ctx.locale, ctx.organization.default_language
    )
    data = await load(ctx.session, training)
    me = await member_view(ctx.session, training.id or 0, member.id if member else None)
    origin = await origin_name(ctx.session, training.organization_id, ctx.locale)
    text = training_card(data, version, ctx.locale, ctx.zone, me, now, origin)
    if calendar and me.completion and me.signup == SignupStatus.CONFIRMED:
        attended, total = me.completion
        text += "\n" + _("📊 Completed: {attended} of {total} sessions").format(
            attended=attended, total=total
        )
    return text, card_keyboard(data, me, ctx.locale, ctx.zone, now, calendar=calendar)


async def send_card(bot: Bot, chat_id: int, ctx: Context, training: Training) -> None:
    text, keyboard = await render_card(ctx, training, calendar=True)
    await bot.send_message(chat_id, text, reply_markup=keyboard)


async def show_linked_training(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    training_id: int,
    member: Member | None,
    organization: Organization,
    locale: str,
) -> None:
    """A `?start=training_<id>` deep link: the card, or why it can't be shown. (Called by the start
    and profile handlers with the same arguments as the other deep links.)"""
    ctx = Context(session=session, actor=None, member=member, organization=organization, locale=locale)
    training = await visible_training(session, member.id if member else None, training_id)
    if training is None:
        await bot.send_message(chat_id, no_such_training())
        return
    await send_card(bot, chat_id, ctx, training)


def navigation(action: str, offset: int, total: int) -> InlineKeyboardMarkup | None:
    """◀ ▶ between pages of `PAGE_SIZE` cards (`action` "page" or "mine", the offset as `id`)."""
    builder = InlineKeyboardBuilder()
    if offset > 0:
        builder.button(text="◀", callback_data=TrainingAction(action=action, id=max(0, offset - PAGE_SIZE)))
    if offset + PAGE_SIZE < total:
        builder.button(text="▶", callback_data=TrainingAction(action=action, id=offset + PAGE_SIZE))
    return builder.as_markup() if offset > 0 or offset + PAGE_SIZE < total else None


async def send_page(
    bot: Bot,
    chat_id: int,
    ctx: Context,
    trainings: list[Training],
    offset: int,
    heading: Callable[[int, int], str],
    navigate: tuple[str, str],
    *,
    calendar: bool = False,
) -> None:
    """`heading(offset, shown)`, the cards of one page, then ◀ ▶ under `navigate` (the buttons'
    action, the text above them) when there are more."""
    offset = min(max(0, offset), (len(trainings) - 1) // PAGE_SIZE * PAGE_SIZE)
    page = trainings[offset : offset + PAGE_SIZE]
    await bot.send_message(chat_id, heading(offset, len(page)))
    for training in page:
        text, keyboard = await render_card(ctx, training, calendar=calendar)
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    action, more = navigate
    buttons = navigation(action, offset, len(trainings))
    if buttons is not None:
        await bot.send_message(chat_id, more, reply_markup=buttons)


async def send_open_trainings(bot: Bot, chat_id: int, ctx: Context, offset: int) -> None:
    trainings = await open_trainings_for(ctx.session, registered(ctx), utcnow())
    if not trainings:
        await bot.send_message(
            chat_id, _("No trainings are open for sign-up right now. I'll tell you when there is one!")
        )
        return

    def heading(offset: int, shown: int) -> str:
        text = ngettext(
            "🎓 <b>{count} training open for sign-up</b>",
            "🎓 <b>{count} trainings open for sign-up</b>",
            len(trainings),
        ).format(count=len(trainings))
        if len(trainings) > PAGE_SIZE:
            text += "\n" + _("Showing {first}–{last}.").format(first=offset + 1, last=offset + shown)
        return text

    await send_page(bot, chat_id, ctx, trainings, offset, heading, ("page", _("More trainings:")))


@router.message(Command("trainings"), IsRegistered(), flags=MEMBER)
async def list_trainings(message: Message, ctx: Context, bot: Bot) -> None:
    await send_open_trainings(bot, message.chat.id, ctx, 0)


@router.message(Command("trainings", "mytrainings"), ~IsRegistered(), flags=MEMBER)
async def not_registered(message: Message) -> None:
    await message.answer(_("Hello! I don't know you yet. Send /start to join the community."))


# -- buttons -----------------------------------------------------------------------------------------------


@router.callback_query(TrainingAction.filter(), ~IsRegistered(), flags=MEMBER)
async def register_first(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """Any training button from someone not registered (yet, or any more)."""
    toast(
        callback_answer,
        _("Please register first: open a private chat with me and send /start."),
        alert=True,
    )


@router.callback_query(TrainingAction.filter(F.action == "page"), IsRegistered(), flags=MEMBER)
async def open_trainings_page(
    query: CallbackQuery, callback_data: TrainingAction, ctx: Context, bot: Bot
) -> None:
    await send_open_trainings(bot, query.from_user.id, ctx, callback_data.id)


@router.callback_query(TrainingAction.filter(F.action == "open"), IsRegistered(), SHOWN, flags=MEMBER)
async def open_card(query: CallbackQuery, training: Training, ctx: Context, bot: Bot) -> None:
    await send_card(bot, query.from_user.id, ctx, training)

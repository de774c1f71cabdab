"""/mytrainings: the member's sign-ups in every organization (seats, waitlist places, completion),
a card each with the sessions' calendar buttons, page by page."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot.context import Context
from bot.i18n import _
from bot.services.trainings.members import my_trainings as signed_up_trainings
from bot.views.trainings import TrainingAction
from handlers.filters import IsRegistered
from handlers.trainings.member import MEMBER, registered, send_page
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


async def send_my_trainings(bot: Bot, chat_id: int, ctx: Context, offset: int) -> None:
    mine = await signed_up_trainings(ctx.session, registered(ctx).id or 0, utcnow())
    trainings = [training for training, _signup, _done in mine]
    if not trainings:
        await bot.send_message(chat_id, _("You have not signed up for any training yet. See /trainings."))
        return

    def heading(offset: int, shown: int) -> str:
        return _("🎓 <b>Your trainings: {count}</b>").format(count=len(trainings))

    navigate = ("mine", _("More of your trainings:"))
    await send_page(bot, chat_id, ctx, trainings, offset, heading, navigate, calendar=True)


@router.message(Command("mytrainings"), IsRegistered(), flags=MEMBER)
async def my_trainings(message: Message, ctx: Context, bot: Bot) -> None:
    await send_my_trainings(bot, message.chat.id, ctx, 0)


@router.callback_query(TrainingAction.filter(F.action == "mine"), IsRegistered(), flags=MEMBER)
async def my_trainings_page(
    query: CallbackQuery, callback_data: TrainingAction, ctx: Context, bot: Bot
) -> None:
    await send_my_trainings(bot, query.from_user.id, ctx, callback_data.id)

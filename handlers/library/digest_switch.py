"""/profile's switch for the library's weekly digest (on by default)."""

from __future__ import annotations

from typing import Final

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import library
from handlers.filters import IsRegistered
from handlers.members.callbacks import DigestSwitch
from handlers.members.views import edit_keyboard

router: Final[Router] = Router(name=__name__)
router.callback_query.filter(IsRegistered())


@router.callback_query(DigestSwitch.filter(), flags=rights(Action.PUBLIC))
async def switch_digest(
    query: CallbackQuery,
    callback_data: DigestSwitch,
    ctx: Context,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    assert ctx.member is not None and ctx.member.id is not None
    await library.set_digest(ctx.session, ctx.member.id, callback_data.on)
    callback_answer.text = (
        _("📬 You will get the library's new resources once a week, on Monday morning.")
        if callback_data.on
        else _("📭 No more weekly digests. Switch them on again here any time.")
    )
    if isinstance(query.message, Message):
        markup = edit_keyboard(calendar_feed=settings.public_url is not None, digest=callback_data.on)
        await query.message.edit_reply_markup(reply_markup=markup)

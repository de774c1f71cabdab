"""The catch-all router, included last: every private message gets an answer, every unknown or
stale button is answered, and groups stay quiet."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _
from bot.policy import STALE, Action, rights
from storage.models import Member, MemberStatus

router: Final[Router] = Router(name=__name__)


def toast(callback_answer: CallbackAnswer, text: str, alert: bool = False) -> None:
    """Answer the button press with a short notice (or an alert) — answered once, by the
    `CallbackAnswerMiddleware`, whatever the handler does next."""
    callback_answer.text = text
    callback_answer.show_alert = alert


def stale_button(callback_answer: CallbackAnswer) -> None:
    """A button from an old message, a finished dialog, or forged data: say so, change nothing."""
    toast(callback_answer, str(STALE))


@router.callback_query(flags=rights(Action.PUBLIC))
async def unknown_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    stale_button(callback_answer)


@router.message(F.chat.type.in_({"group", "supergroup"}), F.text.startswith("/"), flags=rights(Action.PUBLIC))
async def command_in_group(message: Message) -> None:
    """Commands addressed to the bot in a group get a pointer to the private chat; chatter is ignored."""
    bot_user = await message.bot.me()  # type: ignore[union-attr]
    text = message.text or ""
    command = text.split(maxsplit=1)[0]
    if "@" in command and command.split("@", 1)[1].lower() != (bot_user.username or "").lower():
        return
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Open a private chat"), url=f"https://t.me/{bot_user.username}")
    await message.reply(
        _("Let's talk in a private chat, where your details stay private."), reply_markup=builder.as_markup()
    )


@router.message(F.chat.type == "private", flags=rights(Action.PUBLIC))
async def anything_else(message: Message, member: Member | None) -> None:
    if member is None or member.status == MemberStatus.DELETED:
        await message.answer(_("Hello! I don't know you yet. Send /start to join the community."))
        return
    if member.status == MemberStatus.DECLINED:
        await message.answer(
            _("You chose not to register, so I keep nothing about you. Send /start if you change your mind.")
        )
        return
    text = message.text or ""
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0].split("@", 1)[0]
        await message.answer(
            _("I don't know the command {command}. Send /help to see what I can do.").format(
                command=f"<code>{escape(command[:40])}</code>"
            )
        )
    elif message.text is not None:
        await message.answer(_("I'm not sure what you mean. Send /help to see what I can do."))
    else:
        await message.answer(_("I can only read text messages for now. Send /help to see what I can do."))

"""/mydata (a copy of everything stored) and /forget (erasure after a confirmation)."""

from __future__ import annotations

import json
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import clear_chat_commands
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.privacy import erase_everything, everything_about
from handlers.filters import IsRegistered
from handlers.members.callbacks import ForgetConfirm
from storage.models import Member
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private", IsRegistered())
router.callback_query.filter(IsRegistered())


@router.message(Command("mydata"), flags=rights(Action.PUBLIC))
async def send_my_data(message: Message, member: Member, session: AsyncSession) -> None:
    data = await everything_about(session, member)
    document = BufferedInputFile(
        json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"), filename="my-data.json"
    )
    await message.answer_document(
        document, caption=_("📄 Here is everything I store about you. Erase it at any time with /forget.")
    )


@router.message(Command("forget"), flags=rights(Action.PUBLIC))
async def ask_forget(message: Message) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🗑 Yes, erase my data"), callback_data=ForgetConfirm(confirm=True))
    builder.button(text=_("No, keep it"), callback_data=ForgetConfirm(confirm=False))
    builder.adjust(1)
    await message.answer(
        _(
            "⚠️ This erases your profile and personal data, and your roles. It cannot be undone.\n\n"
            "Do you want to continue?"
        ),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(ForgetConfirm.filter(), flags=rights(Action.PUBLIC))
async def confirm_forget(
    query: CallbackQuery,
    callback_data: ForgetConfirm,
    member: Member,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
) -> None:
    if not callback_data.confirm:
        text = _("Good, nothing was erased.")
    else:
        await erase_everything(session, member, utcnow())
        await state.clear()
        await clear_chat_commands(bot, query.from_user.id)
        text = _("Your personal data has been erased. If you ever want to come back, just send /start.")
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
    else:
        await bot.send_message(query.from_user.id, text)

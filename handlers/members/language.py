"""/language: switch the language at any time; the next message and the menu follow."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n

from bot.commands import refresh_member_menu
from bot.context import Context
from bot.i18n import _, language_name
from bot.policy import Action, rights
from bot.services.members import update_profile
from handlers.fallback import stale_button
from handlers.filters import IsRegistered
from handlers.members.callbacks import LanguageChoice
from handlers.members.views import language_keyboard
from storage.models import Member

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private", IsRegistered())
router.callback_query.filter(IsRegistered())


@router.message(Command("language"), flags=rights(Action.PUBLIC))
async def ask_language(message: Message) -> None:
    telegram_code = message.from_user.language_code if message.from_user else None
    await message.answer(
        _("Which language would you like me to use?"), reply_markup=language_keyboard(False, telegram_code)
    )


@router.callback_query(LanguageChoice.filter(~F.onboarding), flags=rights(Action.PUBLIC))
async def switch_language(
    query: CallbackQuery,
    callback_data: LanguageChoice,
    member: Member,
    ctx: Context,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    code = callback_data.code
    if code not in i18n.available_locales or ctx.actor is None:
        stale_button(callback_answer)
        return
    await update_profile(ctx.session, member, language=code)
    i18n.current_locale = code  # this very answer already speaks the new language
    await refresh_member_menu(bot, i18n, ctx.session, ctx.actor, member)
    text = _("✅ Done! I will speak {language} with you from now on.").format(language=language_name(code))
    if isinstance(query.message, Message):
        await query.message.edit_text(text)
    else:
        await bot.send_message(query.from_user.id, text)

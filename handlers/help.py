"""/help and /cancel."""

from __future__ import annotations

from typing import Final

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.bidi import isolate_command
from bot.commands import command_list
from bot.i18n import _, is_rtl
from bot.policy import Action, rights
from bot.services.roles import Actor, effective_roles
from handlers.members.states import ProfileStates
from storage.models import Member

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


@router.message(Command("help"), flags=rights(Action.PUBLIC))
async def show_help(
    message: Message,
    member: Member | None,
    actor: Actor,
    session: AsyncSession,
    i18n: I18n,
) -> None:
    roles = await effective_roles(session, actor, member)
    commands = command_list(i18n, i18n.current_locale, sorted(roles))
    lines = [_("ℹ️ <b>What I can do</b>"), ""]
    # Isolated, a command keeps its slash in front in a right-to-left line ("/events", not "events/").
    shown = isolate_command if is_rtl(i18n.current_locale) else str
    lines += [f"{shown('/' + command.command)} — {command.description}" for command in commands]
    if member is None or not member.is_registered:
        lines += ["", _("You are not registered yet: send /start to join.")]
    await message.answer("\n".join(lines))


@router.message(Command("cancel"), flags=rights(Action.PUBLIC))
async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("There is nothing to cancel."))
        return
    current = await state.get_state() or ""
    await state.set_state(None)
    if current.startswith(ProfileStates.__name__):
        await message.answer(_("Cancelled. What you already saved is kept; /profile shows it."))
    else:
        await message.answer(_("Cancelled. Nothing else was changed."))

"""/admin: grant and revoke organizer, coordinator and admin roles in the organization the admin
acts for (its own admins, or the confederation's super-admins in any organization, chosen with the
acting card).

Every handler declares `Action.MANAGE_ROLES`: the policy refuses anyone else for the command, for
every button (callback data can be forged by any client) and again when the admin names the member.
The organization's last admin keeps their role (`bot.services.roles`).
"""

from __future__ import annotations

import logging
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, MessageOriginHiddenUser, MessageOriginUser
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from babel.numbers import format_decimal

from bot.commands import refresh_member_menu
from bot.config import Settings
from bot.context import Context
from bot.i18n import _, ngettext
from bot.logs import log_event
from bot.policy import Action, rights
from bot.services.confederation.listing import member_count
from bot.services.members import get_member, member_by_id
from bot.services.roles import (
    GRANTABLE_ROLES,
    Actor,
    RoleError,
    find_member_by_reference,
    grant_role,
    revoke_role,
    role_holders,
)
from handlers.admin.callbacks import AdminAction
from handlers.admin.states import AdminStates
from handlers.admin.views import member_name, menu_keyboard, revoke_keyboard, role_error_text, roles_text
from handlers.composer import staff_dialog
from handlers.fallback import stale_button, toast
from handlers.ui import ROLE_LABELS
from storage.models import Member, Role

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
log = logging.getLogger(__name__)
ADMIN: Final = rights(Action.MANAGE_ROLES)


@staff_dialog(router, "admin", Action.MANAGE_ROLES)
async def admin_menu(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    count = await member_count(ctx.session, ctx.organization_id)
    members_line = ngettext(
        "{organization} has {count} registered member.",
        "{organization} has {count} registered members.",
        count,
    ).format(organization=escape(ctx.organization.name), count=format_decimal(count, locale=ctx.locale))
    await message.answer(
        _("🛠 <b>Administration</b>") + "\n\n" + members_line + "\n\n" + _("What would you like to do?"),
        reply_markup=menu_keyboard(),
    )


@router.callback_query(AdminAction.filter(F.action == "grant"), flags=ADMIN)
async def ask_whom_to_grant(
    query: CallbackQuery,
    callback_data: AdminAction,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.role not in {role.value for role in GRANTABLE_ROLES}:
        stale_button(callback_answer)
        return
    role = Role(callback_data.role)
    await state.set_state(AdminStates.target)
    await state.update_data(grant_role=role.value)
    await bot.send_message(
        query.from_user.id,
        _(
            "Who should become {role}?\n\n"
            "Forward me any message from them, or send their @username or Telegram user id. "
            "They must have registered with /start first. Send /cancel to stop."
        ).format(role=ROLE_LABELS[role]),
    )


@router.callback_query(AdminAction.filter(F.action == "list"), flags=ADMIN)
async def list_roles(query: CallbackQuery, ctx: Context, bot: Bot) -> None:
    await bot.send_message(
        query.from_user.id, roles_text(await role_holders(ctx.session, ctx.organization_id))
    )


@router.callback_query(AdminAction.filter(F.action == "revoke_menu"), flags=ADMIN)
async def ask_whom_to_revoke(query: CallbackQuery, ctx: Context, bot: Bot) -> None:
    holders = await role_holders(ctx.session, ctx.organization_id)
    if not holders:
        await bot.send_message(query.from_user.id, _("Nobody has a role yet."))
        return
    await bot.send_message(
        query.from_user.id, _("Whose role should I remove?"), reply_markup=revoke_keyboard(holders)
    )


@router.callback_query(AdminAction.filter(F.action == "revoke"), flags=ADMIN)
async def revoke(
    query: CallbackQuery,
    callback_data: AdminAction,
    ctx: Context,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    target = await member_by_id(ctx.session, callback_data.member_id)
    if target is None or ctx.actor is None:
        stale_button(callback_answer)
        return
    try:
        previous = await revoke_role(ctx.session, ctx.actor, ctx.organization_id, target, settings.admin_ids)
    except RoleError as error:
        toast(callback_answer, role_error_text(error), alert=True)
        return
    await ctx.session.commit()
    await bot.send_message(
        query.from_user.id,
        _("Done: {name} is no longer {role}.").format(name=member_name(target), role=ROLE_LABELS[previous]),
    )
    await _tell_target(bot, i18n, settings, ctx, target, None)


@router.message(AdminStates.target, flags=ADMIN)
async def target_named(
    message: Message, ctx: Context, state: FSMContext, settings: Settings, i18n: I18n, bot: Bot
) -> None:
    assert ctx.actor is not None
    if message.text and message.text.startswith("/") and not message.forward_origin:
        await message.answer(_("Please name the member first, or send /cancel to stop."))
        return
    target: Member | None = None
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        target = await get_member(ctx.session, origin.sender_user.id)
    elif isinstance(origin, MessageOriginHiddenUser):
        await message.answer(
            _(
                "This person's privacy settings hide who they are in forwarded messages. "
                "Please send their @username or user id instead."
            )
        )
        return
    elif message.text:
        target = await find_member_by_reference(ctx.session, message.text)
    if target is None:
        await message.answer(
            _(
                "I can't find this person among registered members. Ask them to send /start to the bot, "
                "then try again."
            )
        )
        return
    role = Role((await state.get_data()).get("grant_role", Role.ORGANIZER))
    try:
        await grant_role(ctx.session, ctx.actor, ctx.organization_id, target, role, settings.admin_ids)
    except RoleError as error:
        await message.answer(role_error_text(error))
        return
    await state.clear()
    await ctx.session.commit()
    await message.answer(
        _("✅ Done: {name} is now {role}.").format(name=member_name(target), role=ROLE_LABELS[role])
    )
    await _tell_target(bot, i18n, settings, ctx, target, role)


async def _tell_target(
    bot: Bot, i18n: I18n, settings: Settings, ctx: Context, target: Member, role: Role | None
) -> None:
    """Tell the member about their new role, in their language, and update their command menu."""
    if target.telegram_id is None:
        return
    language = target.language or settings.default_language
    actor = Actor(target.telegram_id, target.telegram_id in settings.admin_ids)
    await refresh_member_menu(bot, i18n, ctx.session, actor, target)
    with i18n.use_locale(language):
        if role is None:
            text = _("Your role in {organization} was removed. You remain a member.")
        else:
            text = _("You are now {role} in {organization}. Send /help to see your commands.")
        text = text.format(organization=escape(ctx.organization.name), role=ROLE_LABELS[role] if role else "")
    try:
        await bot.send_message(target.telegram_id, text)
    except (TelegramForbiddenError, TelegramBadRequest) as error:
        log_event(
            log, "role_notice_undelivered", logging.WARNING, member_id=target.id, error=type(error).__name__
        )

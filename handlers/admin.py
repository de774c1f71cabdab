"""/admin: grant and revoke organizer, coordinator and admin roles.

Authorization is checked on the server for the command, for every button (callback data can be
forged by any client) and again when the admin names the member.
"""

from __future__ import annotations

import logging
import re
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    MessageOriginHiddenUser,
    MessageOriginUser,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_decimal
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.commands import refresh_chat_commands
from bot.config import Settings
from bot.i18n import _, ngettext
from bot.logs import log_event
from bot.policy import Action, rights
from bot.services.members import count_registered, get_member
from bot.services.roles import (
    GRANTABLE_ROLES,
    Actor,
    RoleError,
    can_manage_roles,
    effective_roles,
    find_member_by_reference,
    grant_role,
    revoke_role,
    role_holders,
)
from bot.services.schedule_math import parse_clock
from handlers.callbacks import AdminAction
from handlers.fallback import toast
from handlers.states import AdminStates
from handlers.ui import ROLE_LABELS
from storage.models import AuditEntry, Member, Organization, Role

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
log = logging.getLogger(__name__)


def refusal() -> str:
    return _("Sorry, only administrators can do this.")


def menu_keyboard(actor: Actor) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    labels = {
        Role.ORGANIZER: _("➕ Make someone organizer"),
        Role.COORDINATOR: _("➕ Make someone coordinator"),
        Role.ADMIN: _("➕ Make someone admin"),
    }
    for role in GRANTABLE_ROLES:
        if role != Role.ADMIN or actor.is_super_admin:
            builder.button(text=labels[role], callback_data=AdminAction(action="grant", role=role))
    builder.button(text=_("➖ Remove a role"), callback_data=AdminAction(action="revoke_menu"))
    builder.button(text=_("👥 Who has which role"), callback_data=AdminAction(action="list"))
    builder.button(text=_("🌙 Quiet hours"), callback_data=AdminAction(action="quiet"))
    builder.adjust(1)
    return builder.as_markup()


@router.message(Command("admin"), flags=rights(Action.MANAGE_ROLES))
async def admin_menu(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    i18n: I18n,
) -> None:
    if not await can_manage_roles(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    count = await count_registered(session)
    members_line = ngettext(
        "The community has {count} registered member.", "The community has {count} registered members.", count
    ).format(count=format_decimal(count, locale=i18n.current_locale))
    await message.answer(
        _("🛠 <b>Administration</b>") + "\n\n" + members_line + "\n\n" + _("What would you like to do?"),
        reply_markup=menu_keyboard(actor),
    )


@router.callback_query(AdminAction.filter(), flags=rights(Action.MANAGE_ROLES))
async def admin_button(
    query: CallbackQuery,
    callback_data: AdminAction,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    org_id = organization.id or 0
    if not await can_manage_roles(session, actor, member, org_id):
        log_event(
            log, "admin_refused", logging.WARNING, user_id=actor.telegram_id, action=callback_data.action
        )
        toast(callback_answer, refusal(), alert=True)
        return
    action = callback_data.action
    if action == "grant":
        if callback_data.role not in {role.value for role in GRANTABLE_ROLES}:
            toast(callback_answer, _("This button is no longer active."))
            return
        role = Role(callback_data.role)
        if role == Role.ADMIN and not actor.is_super_admin:
            toast(
                callback_answer,
                _("Only the deployment's super-admins can make someone admin."),
                alert=True,
            )
            return
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
    elif action == "list":
        await bot.send_message(query.from_user.id, await _roles_text(session, org_id))
    elif action == "quiet":
        current = await session.get(Organization, org_id)
        await state.set_state(AdminStates.quiet_hours)
        await bot.send_message(
            query.from_user.id,
            _(
                "Quiet hours are now {hours} in each member's own time zone: announcements that are not "
                'urgent wait until they end.\n\nSend new hours like 22:00-08:00, or "off".'
            ).format(hours=describe_quiet_hours(current) if current else "—"),
        )
    elif action == "revoke_menu":
        holders = await role_holders(session, org_id)
        if not holders:
            await bot.send_message(query.from_user.id, _("Nobody has a role yet."))
            return
        builder = InlineKeyboardBuilder()
        for holder, role in holders:
            builder.button(
                text=f"❌ {holder.display_name or holder.telegram_id} — {ROLE_LABELS[role]}"[:60],
                callback_data=AdminAction(action="revoke", member_id=holder.id or 0),
            )
        builder.adjust(1)
        await bot.send_message(
            query.from_user.id, _("Whose role should I remove?"), reply_markup=builder.as_markup()
        )
    elif action == "revoke":
        target = await session.get(Member, callback_data.member_id)
        if target is None:
            toast(callback_answer, _("This button is no longer active."))
            return
        try:
            previous = await revoke_role(session, actor, org_id, target)
        except RoleError as error:
            toast(callback_answer, _role_error_text(error), alert=True)
            return
        await session.commit()
        await bot.send_message(
            query.from_user.id,
            _("Done: {name} is no longer {role}.").format(name=_name(target), role=ROLE_LABELS[previous]),
        )
        await _tell_target(bot, i18n, settings, session, organization, target, None)
    else:
        toast(callback_answer, _("This button is no longer active."))


@router.message(AdminStates.target, flags=rights(Action.MANAGE_ROLES))
async def target_named(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    settings: Settings,
    i18n: I18n,
    bot: Bot,
) -> None:
    org_id = organization.id or 0
    if not await can_manage_roles(session, actor, member, org_id):
        await state.clear()
        await message.answer(refusal())
        return
    if message.text and message.text.startswith("/") and not message.forward_origin:
        await message.answer(_("Please name the member first, or send /cancel to stop."))
        return
    target: Member | None = None
    origin = message.forward_origin
    if isinstance(origin, MessageOriginUser):
        target = await get_member(session, origin.sender_user.id)
    elif isinstance(origin, MessageOriginHiddenUser):
        await message.answer(
            _(
                "This person's privacy settings hide who they are in forwarded messages. "
                "Please send their @username or user id instead."
            )
        )
        return
    elif message.text:
        target = await find_member_by_reference(session, message.text)
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
        await grant_role(session, actor, org_id, target, role)
    except RoleError as error:
        await message.answer(_role_error_text(error))
        return
    await state.clear()
    await session.commit()
    await message.answer(
        _("✅ Done: {name} is now {role}.").format(name=_name(target), role=ROLE_LABELS[role])
    )
    await _tell_target(bot, i18n, settings, session, organization, target, role)


def describe_quiet_hours(organization: Organization) -> str:
    if organization.quiet_start == organization.quiet_end:
        return _("off")
    start, end = organization.quiet_start, organization.quiet_end
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


@router.message(AdminStates.quiet_hours, F.text, flags=rights(Action.MANAGE_ROLES))
async def quiet_hours_typed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    if not await can_manage_roles(session, actor, member, organization.id or 0):
        await state.clear()
        await message.answer(refusal())
        return
    text = (message.text or "").strip().lower()
    parts = re.split(r"\s*[-–—]\s*", text)
    if text in {"off", "0", "-"} or text == _("off").lower():
        start = end = 0
    elif len(parts) == 2 and None not in (bounds := [parse_clock(part) for part in parts]):
        start, end = bounds[0] or 0, bounds[1] or 0
    else:
        await message.answer(_('Please send hours like 22:00-08:00, or "off".'))
        return
    current = await session.get(Organization, organization.id)
    if current is None:
        return
    current.quiet_start, current.quiet_end = start, end
    session.add(current)
    session.add(
        AuditEntry(
            actor_telegram_id=actor.telegram_id,
            action="organization.quiet_hours",
            organization_id=current.id,
            details={"start": start, "end": end},
        )
    )
    await state.clear()
    await message.answer(_("✅ Quiet hours: {hours}.").format(hours=describe_quiet_hours(current)))


async def _roles_text(session: AsyncSession, org_id: int) -> str:
    holders = await role_holders(session, org_id)
    if not holders:
        return _("Nobody has a role yet.")
    header = ngettext("{count} person has a role:", "{count} people have a role:", len(holders))
    lines = [_("👥 <b>Roles</b>"), header.format(count=len(holders)), ""]
    lines += [f"• {_name(holder)} — {ROLE_LABELS[role]}" for holder, role in holders]
    return "\n".join(lines)


def _name(member: Member) -> str:
    return escape(member.display_name or str(member.telegram_id))


def _role_error_text(error: RoleError) -> str:
    texts = {
        "already_has_role": _("This member already has that role."),
        "not_registered": _("This person has not registered (or has erased their data)."),
        "super_admin_only": _("Only the deployment's super-admins can change admin roles."),
        "no_role": _("This member has no role to remove."),
    }
    return texts.get(error.reason, _("This button is no longer active."))


async def _tell_target(
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    session: AsyncSession,
    organization: Organization,
    target: Member,
    role: Role | None,
) -> None:
    """Tell the member about their new role, in their language, and update their command menu."""
    if target.telegram_id is None:
        return
    language = target.language or settings.default_language
    actor = Actor(target.telegram_id, target.telegram_id in settings.admin_ids)
    roles = await effective_roles(session, actor, target, organization.id or 0)
    await refresh_chat_commands(bot, i18n, target.telegram_id, language, roles)
    with i18n.use_locale(language):
        if role is None:
            text = _("Your role in {organization} was removed. You remain a member.")
        else:
            text = _("You are now {role} in {organization}. Send /help to see your commands.")
        text = text.format(organization=escape(organization.name), role=ROLE_LABELS[role] if role else "")
    try:
        await bot.send_message(target.telegram_id, text)
    except (TelegramForbiddenError, TelegramBadRequest) as error:
        log_event(
            log, "role_notice_undelivered", logging.WARNING, member_id=target.id, error=type(error).__name__
        )

"""What /admin shows: the menu, the list of role holders, and the texts of refused role changes."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _, ngettext
from bot.services.roles import GRANTABLE_ROLES, RoleError
from handlers.admin.callbacks import AdminAction
from handlers.ui import ROLE_LABELS
from storage.models import Member, Organization, Role


def menu_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    labels = {
        Role.ORGANIZER: _("➕ Make someone organizer"),
        Role.COORDINATOR: _("➕ Make someone coordinator"),
        Role.ADMIN: _("➕ Make someone admin"),
    }
    for role in GRANTABLE_ROLES:
        builder.button(text=labels[role], callback_data=AdminAction(action="grant", role=role))
    builder.button(text=_("➖ Remove a role"), callback_data=AdminAction(action="revoke_menu"))
    builder.button(text=_("👥 Who has which role"), callback_data=AdminAction(action="list"))
    builder.button(text=_("🌙 Quiet hours"), callback_data=AdminAction(action="quiet"))
    builder.adjust(1)
    return builder.as_markup()


def revoke_keyboard(holders: list[tuple[Member, Role]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for holder, role in holders:
        builder.button(
            text=f"❌ {holder.display_name or holder.telegram_id} — {ROLE_LABELS[role]}"[:60],
            callback_data=AdminAction(action="revoke", member_id=holder.id or 0),
        )
    builder.adjust(1)
    return builder.as_markup()


def roles_text(holders: list[tuple[Member, Role]]) -> str:
    if not holders:
        return _("Nobody has a role yet.")
    header = ngettext("{count} person has a role:", "{count} people have a role:", len(holders))
    lines = [_("👥 <b>Roles</b>"), header.format(count=len(holders)), ""]
    lines += [f"• {member_name(holder)} — {ROLE_LABELS[role]}" for holder, role in holders]
    return "\n".join(lines)


def member_name(member: Member) -> str:
    return escape(member.display_name or str(member.telegram_id))


def role_error_text(error: RoleError) -> str:
    texts = {
        "already_has_role": _("This member already has that role."),
        "not_registered": _("This person has not registered (or has erased their data)."),
        "last_admin": _(
            "This is the organization's last admin: make someone else admin first, then change this role."
        ),
        "no_role": _("This member has no role to remove."),
    }
    return texts.get(error.reason, _("This button is no longer active."))


def describe_quiet_hours(organization: Organization) -> str:
    if organization.quiet_start == organization.quiet_end:
        return _("off")
    start, end = organization.quiet_start, organization.quiet_end
    return f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"

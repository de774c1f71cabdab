"""/admin → 🌙 Quiet hours: when non-urgent announcements wait, in each member's own clock."""

from __future__ import annotations

import re
from typing import Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.organizations import set_quiet_hours
from bot.services.schedule_math import parse_clock
from handlers.admin.callbacks import AdminAction
from handlers.admin.states import AdminStates
from handlers.admin.views import describe_quiet_hours
from handlers.composer.text import answered_a_command
from storage.models import Organization

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
ADMIN: Final = rights(Action.MANAGE_ROLES)


@router.callback_query(AdminAction.filter(F.action == "quiet"), flags=ADMIN)
async def ask_quiet_hours(query: CallbackQuery, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(AdminStates.quiet_hours)
    await bot.send_message(query.from_user.id, quiet_hours_question(ctx.organization))


def typed_quiet_hours(text: str) -> tuple[int, int] | None:
    """(start, end) in minutes after midnight from "22:00-08:00" (or "off": 0, 0); None if unreadable."""
    text = text.strip().lower()
    parts = re.split(r"\s*[-–—]\s*", text)
    if text in {"off", "0", "-"} or text == _("off").lower():
        return 0, 0
    if len(parts) == 2 and None not in (bounds := [parse_clock(part) for part in parts]):
        return bounds[0] or 0, bounds[1] or 0
    return None


def quiet_hours_question(organization: Organization) -> str:
    return _(
        "Quiet hours are now {hours} in each member's own time zone: announcements that are not "
        'urgent wait until they end.\n\nSend new hours like 22:00-08:00, or "off".'
    ).format(hours=describe_quiet_hours(organization))


async def save_quiet_hours(message: Message, ctx: Context, organization_id: int) -> bool:
    """The typed hours kept for the organization (True), or the hint to type them again."""
    assert ctx.actor is not None
    if await answered_a_command(message):
        return False
    hours = typed_quiet_hours(message.text or "")
    if hours is None:
        await message.answer(_('Please send hours like 22:00-08:00, or "off".'))
        return False
    organization = await set_quiet_hours(ctx.session, ctx.actor, organization_id, *hours)
    if organization is None:
        return False
    await message.answer(_("✅ Quiet hours: {hours}.").format(hours=describe_quiet_hours(organization)))
    return True


@router.message(AdminStates.quiet_hours, F.text, flags=ADMIN)
async def quiet_hours_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    if await save_quiet_hours(message, ctx, ctx.organization_id):
        await state.clear()

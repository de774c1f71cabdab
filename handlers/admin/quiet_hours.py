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

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
ADMIN: Final = rights(Action.MANAGE_ROLES)


@router.callback_query(AdminAction.filter(F.action == "quiet"), flags=ADMIN)
async def ask_quiet_hours(query: CallbackQuery, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(AdminStates.quiet_hours)
    await bot.send_message(
        query.from_user.id,
        _(
            "Quiet hours are now {hours} in each member's own time zone: announcements that are not "
            'urgent wait until they end.\n\nSend new hours like 22:00-08:00, or "off".'
        ).format(hours=describe_quiet_hours(ctx.organization)),
    )


@router.message(AdminStates.quiet_hours, F.text, flags=ADMIN)
async def quiet_hours_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    assert ctx.actor is not None
    text = (message.text or "").strip().lower()
    parts = re.split(r"\s*[-–—]\s*", text)
    if text in {"off", "0", "-"} or text == _("off").lower():
        start = end = 0
    elif len(parts) == 2 and None not in (bounds := [parse_clock(part) for part in parts]):
        start, end = bounds[0] or 0, bounds[1] or 0
    else:
        await message.answer(_('Please send hours like 22:00-08:00, or "off".'))
        return
    organization = await set_quiet_hours(ctx.session, ctx.actor, ctx.organization_id, start, end)
    if organization is None:
        return
    await state.clear()
    await message.answer(_("✅ Quiet hours: {hours}.").format(hours=describe_quiet_hours(organization)))

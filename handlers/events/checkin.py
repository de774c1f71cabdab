"""Check-in codes: the organizer shows the event's code (🔑, or a new one with 🔄) during the
event; a member who sends it to the bot is recorded as attending.

Two routers: `router` (organizer buttons, with the staff dialogs) and `member_router` (the typed
code, with the member handlers, after every dialog that waits for text)."""

from __future__ import annotations

import re
from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import events as service
from bot.services.events import checkin
from bot.services.events.rules import EventError
from handlers.events.callbacks import EventAdmin
from handlers.events.common import ON_EVENT, show
from handlers.events.texts import member_error_text
from handlers.events.views import admin_keyboard, code_text
from storage.models import Event
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
member_router: Final[Router] = Router(name=f"{__name__}.member")
_CODE: Final = re.compile(r"^\s*[A-Za-z0-9]{4,12}\s*$")


@router.callback_query(EventAdmin.filter(F.action.in_({"code", "newcode"})), flags=ON_EVENT)
async def show_code(
    query: CallbackQuery, callback_data: EventAdmin, event: Event, ctx: Context, bot: Bot
) -> None:
    """🔑 shows the code (made now if there is none); 🔄 replaces it, in the same message."""
    renew = callback_data.action == "newcode"
    await service.checkin_code(ctx.session, event, utcnow(), renew=renew)
    keyboard = admin_keyboard(event.id or 0, [(_("🔄 New code"), "newcode", "")])
    await show(query, bot, code_text(event, ctx.organization, ctx.locale), keyboard, edit=renew)


@member_router.message(F.chat.type == "private", F.text.regexp(_CODE.pattern), flags=rights(Action.PUBLIC))
async def check_in_code(message: Message, ctx: Context, state: FSMContext) -> None:
    """A member sends the code the organizer shows during the event."""
    member = ctx.member
    if member is None or not member.is_registered or member.id is None or await state.get_state() is not None:
        raise SkipHandler
    try:
        event = await service.check_in(ctx.session, member.id, message.text or "", utcnow())
    except EventError as error:
        if error.reason == "bad_code" and not await _meant_as_a_code(ctx, message.text or ""):
            raise SkipHandler from None  # an ordinary word, not a code: let the fallback answer
        await message.answer(member_error_text(error))
        return
    title = service.event_text(
        event, service.version_for(event, member.language, ctx.organization.default_language)
    )[0]
    await message.answer(_("✅ You're checked in at <b>{title}</b>. Enjoy!").format(title=escape(title)))


async def _meant_as_a_code(ctx: Context, text: str) -> bool:
    """A wrong code is told so when the text has a digit, or has exactly a code's shape while an
    event of the organization takes codes (a code of letters only is still a code); other words
    go to the fallback."""
    if any(char.isdigit() for char in text):
        return True
    return checkin.looks_like_a_code(text) and await service.checkin_window_open(
        ctx.session, ctx.organization_id, utcnow()
    )

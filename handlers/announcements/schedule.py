"""When an announcement goes out: now (after a confirmation), at a date and time in the
organizer's zone, or at a clock time on each member's own clock. Sending claims the draft through
the composer kit's publish (`AnnouncementComposer.publish`), so a second tap is refused cleanly."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Final

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, format_when, ngettext, zone_city
from bot.policy import Action, rights
from bot.services.announcements import EDITABLE, count_audience, schedule, set_local_time
from bot.services.dates import DateError, parse_local_datetime
from bot.services.schedule_math import parse_clock
from handlers.announcements.callbacks import AnnounceAction
from handlers.announcements.composer import COMPOSER, step_announcement
from handlers.announcements.states import AnnounceStates
from handlers.composer import Turn, date_error_text, draft_button, publish_and_close, silenced
from storage.models import Announcement
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.ANNOUNCE)


def _confirm(ident: int, action: str, text: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=text, callback_data=AnnounceAction(action=action, id=ident))
    builder.button(text=_("← Back"), callback_data=AnnounceAction(action="aud_done", id=ident))
    builder.adjust(1)
    return builder.as_markup()


@draft_button(COMPOSER, router, "send")
async def send_now(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    count = await count_audience(turn.ctx.session, announcement)
    note = "" if announcement.urgent else "\n" + _("Members in their quiet hours get it when those end.")
    question = ngettext("Send it to {count} member now?", "Send it to {count} members now?", count)
    await turn.say(
        question.format(count=count) + note,
        _confirm(announcement.id or 0, COMPOSER.codes.publish, _("✅ Yes, send it")),
    )


@draft_button(COMPOSER, router, "schedule", "local")
async def ask_when(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    """🕒 Schedule (a date and time) or 🌅 At members' local time (a clock time): typed next."""
    if data.action == "schedule":
        await turn.state.set_state(AnnounceStates.schedule)
        text = _(
            "When should it go out? Send the date and time in your time zone ({zone}), "
            "for example 2027-03-14 18:30 or 14.03.2027 18:30."
        ).format(zone=escape(zone_city(announcement.author_timezone, turn.ctx.locale)))
    else:
        await turn.state.set_state(AnnounceStates.local_time)
        text = _(
            "At what time on each member's own clock? For example 10:00: members in Toronto, "
            "Nairobi and Manila each get it at 10:00 their time."
        )
    await turn.state.update_data(announcement_id=announcement.id)
    await turn.say(text)


@router.message(AnnounceStates.schedule, F.text, flags=FLAGS)
async def schedule_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    announcement = await step_announcement(message, ctx, state, EDITABLE)
    if announcement is None:
        return
    try:
        moment = parse_local_datetime(
            message.text or "", announcement.author_timezone, utcnow(), language=ctx.locale
        )
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    await state.update_data(scheduled_at=moment.utc.isoformat())
    when = format_when(moment.utc, ctx.locale, announcement.author_timezone, "words")
    await message.answer(
        _("It will go out on {when}. Confirm?").format(when=escape(when)),
        reply_markup=_confirm(announcement.id or 0, "schedule_confirm", _("✅ Confirm")),
    )


@router.message(AnnounceStates.local_time, F.text, flags=FLAGS)
async def local_time_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    announcement = await step_announcement(message, ctx, state)
    if announcement is None:
        return
    minutes = parse_clock(message.text or "")
    if minutes is None:
        await message.answer(_("Please send a time such as 10:00 or 9:30."))
        return
    clock = f"{minutes // 60:02d}:{minutes % 60:02d}"
    await state.update_data(local_time=clock)
    await message.answer(
        _("Each member gets it at {time} on their own clock, within the next 24 hours. Confirm?").format(
            time=clock
        ),
        reply_markup=_confirm(announcement.id or 0, "local_confirm", _("✅ Confirm")),
    )


async def _typed_before(turn: Turn, key: str) -> str | None:
    """What the confirmed step typed (None, and "no longer active", if the dialog moved on)."""
    value = (await turn.state.get_data()).get(key)
    if not value:
        turn.stale()
    return str(value) if value else None


@draft_button(COMPOSER, router, "schedule_confirm")
async def schedule_confirmed(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    at = await _typed_before(turn, "scheduled_at")
    if at is None or await silenced(turn):
        return
    await schedule(turn.ctx.session, announcement, datetime.fromisoformat(at))
    await turn.state.clear()
    moment = announcement.scheduled_at or utcnow()
    when = format_when(moment, turn.ctx.locale, announcement.author_timezone, "words")
    await turn.replace(
        _(
            "🕒 Announcement #{id} is scheduled for {when}. /announcements lists, edits and cancels it."
        ).format(id=announcement.id, when=escape(when))
    )


@draft_button(COMPOSER, router, "local_confirm")
async def local_time_confirmed(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    """Each member at the clock time on their own clock: published like Send now, once."""
    clock = await _typed_before(turn, "local_time")
    if clock is None or await silenced(turn):
        return
    await set_local_time(turn.ctx.session, announcement, clock)
    await turn.state.clear()
    if not await publish_and_close(COMPOSER, turn, announcement):
        turn.stale()

"""Steps the organizer's event handlers share: loading the event a button or a dialog names
(through the policy, then its state), checking a typed answer, and sending the management card."""

from __future__ import annotations

from typing import Any, Final

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action
from handlers.events.views import manage_keyboard, manage_text
from handlers.fallback import stale_button
from storage.models import Event, EventStatus

OPEN: Final = (EventStatus.DRAFT, EventStatus.PUBLISHED)
DRAFT: Final = (EventStatus.DRAFT,)


async def managed_event(
    ctx: Context, event_id: int, callback_answer: CallbackAnswer, statuses: tuple[EventStatus, ...] = OPEN
) -> Event | None:
    """The event a button names if the organizer may manage it and it is still in one of
    `statuses`; None after answering "no longer active" (missing, forged, foreign, a training
    session — which changes with its training only — or in another state)."""
    event = await ctx.load(Action.MANAGE_EVENTS, Event, event_id)
    if event is None or event.training_id is not None or event.status not in statuses:
        stale_button(callback_answer)
        return None
    return event


async def event_of_step(
    message: Message, ctx: Context, state: FSMContext, key: str
) -> tuple[Event, dict[str, Any]] | None:
    """For a typed step after the draft (a translation, an edit): the event the dialog is about
    and the dialog's data; None after ending the dialog when the event can no longer change."""
    info = (await state.get_data()).get(key)
    event = None
    if isinstance(info, dict) and info.get("event_id"):
        event = await ctx.load(Action.MANAGE_EVENTS, Event, int(info["event_id"]))
    if event is None or event.training_id is not None or event.status not in OPEN:
        await state.clear()
        await message.answer(_("This event can no longer be changed."))
        return None
    return event, dict(info)  # type: ignore[arg-type]


async def typed_answer(message: Message) -> bool:
    """A command is not an answer: the organizer is asked again (False)."""
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return False
    return True


async def close_question(query: CallbackQuery) -> None:
    """The question is answered: its buttons go."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


async def send_manage(bot: Bot, chat_id: int, ctx: Context, event: Event) -> None:
    """The event as members see it, with the organizer's buttons (nothing once it is cancelled)."""
    if event.status not in OPEN:
        return
    await bot.send_message(
        chat_id,
        await manage_text(ctx.session, event, ctx.organization, ctx.locale, ctx.zone),
        reply_markup=manage_keyboard(event),
    )

"""What the organizer's event handlers share: the right they declare, which events their buttons
act on (loaded by the rights middleware through the policy, then checked for their state), the
event as the composer kit holds it, closing an answered question, and the management card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from aiogram import Bot
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.context import Context
from bot.policy import Action, Loads, rights
from handlers.composer import Turn, echo_choice
from handlers.events.views import manage_keyboard, manage_text
from storage.models import Event, EventStatus

Markup = InlineKeyboardMarkup | None
OPEN: Final = (EventStatus.DRAFT, EventStatus.PUBLISHED)
DRAFT: Final = (EventStatus.DRAFT,)
MANAGE: Final = rights(Action.MANAGE_EVENTS)


def managed(event: Event, statuses: tuple[EventStatus, ...] = OPEN) -> bool:
    """An event the organizer's buttons still act on: not a training session (which changes with
    its training only) and in one of `statuses`."""
    return event.training_id is None and event.status in statuses


def _open(event: Event, callback_data: Any) -> bool:
    return managed(event)


# An organizer button about one open event: the rights middleware loads it through the policy
# (missing, forged, foreign, cancelled or a training session: "This button is no longer active.")
# and hands it to the handler as `event`.
ON_EVENT: Final = rights(Action.MANAGE_EVENTS, loads=Loads(Event, "event", accepts=_open))


@dataclass(frozen=True)
class ComposedEvent:
    """An event as the composer kit holds it: the row, and the zone the organizer reads and types
    times in (theirs, else the organization's)."""

    event: Event
    zone: str


async def close_question(turn: Turn, choice: str | None = None) -> None:
    """The question is answered: its buttons go and the choice is echoed under it (the kit's)."""
    await echo_choice(turn, choice)


async def show(query: CallbackQuery, bot: Bot, text: str, markup: Markup = None, edit: bool = True) -> None:
    """On the pressed message (`edit`, when it can still be edited), else as a new message."""
    if edit and isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def send_manage(bot: Bot, chat_id: int, ctx: Context, event: Event) -> None:
    """The event as members see it, with the organizer's buttons (nothing once it is cancelled)."""
    if event.status not in OPEN:
        return
    await bot.send_message(
        chat_id,
        await manage_text(ctx.session, event, ctx.organization, ctx.locale, ctx.zone),
        reply_markup=manage_keyboard(event),
    )

"""Callback data of the organizer's event buttons (the members' `EventAction` lives with the card
keyboard in `bot.views.events`). Ids and short codes only: any client can forge these, so every
handler re-checks rights and state on the server. Never change the prefix or the field order:
buttons already sitting in chats must keep working."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class EventAdmin(CallbackData, prefix="ea"):
    """Organizer buttons for events: the /newevent dialog (`id` 0), the draft preview and /myevents.
    `id` is the event (or the list offset for "page"), `value` a short code (a step, a field, a
    language, a choice), `member` a member id (attendance toggles), `page` an offset in a list."""

    action: str
    id: RowId = 0
    value: str = ""
    member: RowId = 0
    page: RowId = 0

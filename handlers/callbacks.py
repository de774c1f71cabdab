"""Typed callback data. Ids and short codes only: any client can forge these, so every handler
re-checks state and permissions on the server before acting."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class AnnounceAction(CallbackData, prefix="an"):
    """Composer and management buttons; `id` is the announcement, `value` a language, an interest
    key, a country code or an audience field depending on `action`."""

    action: str
    id: RowId
    value: str = ""


class EventAdmin(CallbackData, prefix="ea"):
    """Organizer buttons for events: the /newevent dialog (`id` 0), the draft preview and /myevents.
    `id` is the event (or the list offset for "page"), `value` a short code (a step, a field, a
    language, a choice), `member` a member id (attendance toggles), `page` an offset in a list."""

    action: str
    id: RowId = 0
    value: str = ""
    member: RowId = 0
    page: RowId = 0

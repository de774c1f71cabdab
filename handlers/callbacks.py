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

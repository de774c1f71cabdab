"""Callback data of /admin's buttons."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class AdminAction(CallbackData, prefix="adm"):
    action: str  # "grant" | "revoke_menu" | "revoke" | "list"
    role: str = ""
    member_id: RowId = 0

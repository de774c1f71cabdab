"""Callback data of organization management. `OrgAdmin(action="home")` opens the management card
(the /orgs card shows that button to people who may manage organizations)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class OrgAdmin(CallbackData, prefix="oadm"):
    action: str  # "home" opens the list; others are defined by handlers/orgs_admin
    org: RowId = 0
    page: int = 0
    value: str = ""

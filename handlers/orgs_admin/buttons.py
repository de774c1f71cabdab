"""Callback data of organization management. `OrgAdmin(action="home")` opens the management card
(the /orgs card shows that button to people who may manage organizations); `OrgEdit` carries the
composer kit's buttons on an organization's card (its texts and their translations)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class OrgAdmin(CallbackData, prefix="oadm"):
    action: str  # "home" opens the list; others are defined by handlers/orgs_admin
    org: RowId = 0
    page: int = 0
    value: str = ""


class OrgEdit(CallbackData, prefix="oed"):
    action: str  # the composer kit's codes (translate, tr_lang, tr_skip, edit, ef, suggest, sg_ok)
    id: RowId = 0  # the organization
    value: str = ""

"""Typed callback data. Ids and short codes only: any client can forge these, so every handler
re-checks state and permissions on the server before acting."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class LanguageChoice(CallbackData, prefix="lang"):
    code: str
    onboarding: bool = False


class ConsentAnswer(CallbackData, prefix="consent"):
    accept: bool


class StepAction(CallbackData, prefix="step"):
    """Skip the current profile step, or keep the name Telegram gave us."""

    action: str  # "skip" | "keep_name"


class CountryChoice(CallbackData, prefix="cty"):
    code: str


class ZoneChoice(CallbackData, prefix="tz"):
    zone: str


class InterestToggle(CallbackData, prefix="int"):
    key: str  # an interest key, or "done"


class ProfileEdit(CallbackData, prefix="edit"):
    field: str


class ForgetConfirm(CallbackData, prefix="forget"):
    confirm: bool


class AdminAction(CallbackData, prefix="adm"):
    action: str  # "grant" | "revoke_menu" | "revoke" | "list"
    role: str = ""
    member_id: RowId = 0


class MuteToggle(CallbackData, prefix="mute"):
    key: str  # an interest key, or "done"


class EventAdmin(CallbackData, prefix="ea"):
    """Organizer buttons for events: the /newevent dialog (`id` 0), the draft preview and /myevents.
    `id` is the event (or the list offset for "page"), `value` a short code (a step, a field, a
    language, a choice), `member` a member id (attendance toggles), `page` an offset in a list."""

    action: str
    id: RowId = 0
    value: str = ""
    member: RowId = 0
    page: RowId = 0

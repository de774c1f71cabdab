"""Callback data of the member's own buttons: language, consent, profile steps, erasure.
Ids and short codes only; every handler re-checks them on the server."""

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

    action: str  # "skip" | "keep_name" | "more_zones" (every zone of the country)


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


class MuteToggle(CallbackData, prefix="mute"):
    key: str  # an interest key, or "done"


class CalendarFeedAction(CallbackData, prefix="calfeed"):
    action: str  # "show" | "new" | "off"


class MyOrgButton(CallbackData, prefix="morg"):
    """/orgs: the list, an organization's card, leaving it (asked, then confirmed)."""

    action: str  # "list" | "open" | "leave" | "confirm"
    org: RowId = 0


class DirectoryButton(CallbackData, prefix="dir"):
    """/directory: a page (with its filters), a card, joining, withdrawing a request, the choices of
    a filter, and searching by name (the typed name is kept in the dialog state: `q`)."""

    action: str  # "page" | "open" | "join" | "cancel" | "facet" | "search"
    org: RowId = 0
    page: RowId = 0
    country: str = ""
    language: str = ""
    topic: str = ""
    q: bool = False
    facet: str = ""  # with "facet": "country" | "language" | "topic"


class DigestSwitch(CallbackData, prefix="ldg"):
    """/profile: the library's weekly digest on or off (`handlers.library.digest_switch`)."""

    on: bool

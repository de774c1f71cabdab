"""Callback data of the member's own buttons: language, consent, profile steps, erasure.
Ids and short codes only; every handler re-checks them on the server."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


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


class DigestSwitch(CallbackData, prefix="ldg"):
    """/profile: the library's weekly digest on or off (`handlers.library.digest_switch`)."""

    on: bool

"""Pieces of the interface shared by several handlers: labels, cards and keyboards."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import SHIPPED_LANGUAGES, _, language_name
from bot.services.geo import country_name, zone_label
from bot.services.members import INTERESTS
from handlers.callbacks import InterestToggle, LanguageChoice, MuteToggle
from storage.models import Member, Organization, Role

INTEREST_LABELS = {
    "events": __("🎉 Events"),
    "trainings": __("🎓 Trainings"),
    "business": __("💼 Business & jobs"),
    "culture": __("🎭 Culture"),
    "volunteering": __("🤝 Volunteering"),
    "women": __("👩 Women's network"),
    "youth": __("🧑‍🎓 Youth"),
    "health": __("🩺 Health"),
    "legal": __("📄 Legal & documents"),
}
ROLE_LABELS = {
    Role.MEMBER: __("member"),
    Role.COORDINATOR: __("coordinator"),
    Role.ORGANIZER: __("organizer"),
    Role.ADMIN: __("admin"),
}
assert set(INTEREST_LABELS) == set(INTERESTS)


def member_zone(member: Member | None, organization: Organization) -> str:
    """The member's time zone, else the organization's."""
    return (member.timezone if member else None) or organization.timezone


def not_set() -> str:
    return _("not set")


def locale_now() -> str:
    return I18n.get_current().current_locale


def profile_card(member: Member) -> str:
    """The member's profile as a short HTML card; every stored value escaped."""
    locale = locale_now()
    residence = ", ".join(
        part for part in (member.residence_city, country_name(member.residence_country, locale)) if part
    )
    interests = ", ".join(str(INTEREST_LABELS[key]) for key in member.interests if key in INTEREST_LABELS)
    rows = [
        (_("Name"), member.display_name),
        (_("Language"), language_name(member.language) if member.language else None),
        (_("Country of origin"), country_name(member.origin_country, locale)),
        (_("Lives in"), residence),
        (_("Time zone"), zone_label(member.timezone, locale) if member.timezone else None),
        (_("Interests"), interests),
        (
            _("Muted topics"),
            ", ".join(str(INTEREST_LABELS[key]) for key in member.muted if key in INTEREST_LABELS)
            or _("none"),
        ),
    ]
    lines = [
        f"<b>{escape(label)}:</b> {escape(value) if value else '<i>' + escape(not_set()) + '</i>'}"
        for label, value in rows
    ]
    return "\n".join([_("👤 <b>Your profile</b>"), "", *lines])


def language_keyboard(onboarding: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in SHIPPED_LANGUAGES:
        builder.button(
            text=language_name(code), callback_data=LanguageChoice(code=code, onboarding=onboarding)
        )
    builder.adjust(2)
    return builder.as_markup()


def interests_keyboard(selected: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key in INTERESTS:
        mark = "✅" if key in selected else "▫️"
        builder.button(text=f"{mark} {INTEREST_LABELS[key]}", callback_data=InterestToggle(key=key))
    builder.button(text=_("Done"), callback_data=InterestToggle(key="done"))
    builder.adjust(2, 2, 2, 2, 1, 1)
    return builder.as_markup()


def muted_keyboard(muted: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key in INTERESTS:
        mark = "🔕" if key in muted else "🔔"
        builder.button(text=f"{mark} {INTEREST_LABELS[key]}", callback_data=MuteToggle(key=key))
    builder.button(text=_("Done"), callback_data=MuteToggle(key="done"))
    builder.adjust(2, 2, 2, 2, 1, 1)
    return builder.as_markup()

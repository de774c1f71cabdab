"""What organization management shows: the list of organizations, an organization's card and its
buttons, and the pickers' keyboards (languages, countries, time zones, join policy). Every name
and text an organization's staff typed is escaped."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_decimal

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, format_list, language_name, languages_first, ngettext
from bot.services.confederation.listing import OrganizationsPage
from bot.services.geo import country_name, zone_label
from handlers.admin.views import describe_quiet_hours
from handlers.orgs_admin.buttons import OrgAdmin, OrgEdit
from handlers.ui import not_set
from storage.models import JoinPolicy, Organization, OrgKind, OrgStatus, Visibility

PAGE_SIZE: Final = 8
KIND_LABELS: Final = {OrgKind.ORGANIZATION: __("organization"), OrgKind.NETWORK: __("network")}
STATUS_MARKS: Final = {OrgStatus.ACTIVE: "🟢", OrgStatus.SUSPENDED: "⏸", OrgStatus.ARCHIVED: "🗄"}
STATUS_LABELS: Final = {
    OrgStatus.ACTIVE: __("active"),
    OrgStatus.SUSPENDED: __("suspended"),
    OrgStatus.ARCHIVED: __("archived"),
}
VISIBILITY_LABELS: Final = {
    Visibility.LISTED: __("listed in the directory"),
    Visibility.UNLISTED: __("unlisted (invite link only)"),
}
JOIN_LABELS: Final = {
    JoinPolicy.OPEN: __("open: anyone may join"),
    JoinPolicy.APPROVAL: __("on approval by its admins"),
    JoinPolicy.INVITE: __("by invite link only"),
}


def _button(text: str, action: str, organization: Organization, value: str = "") -> InlineKeyboardButton:
    data = OrgAdmin(action=action, org=organization.id or 0, value=value)
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def _kit(text: str, action: str, organization: Organization, value: str = "") -> InlineKeyboardButton:
    data = OrgEdit(action=action, id=organization.id or 0, value=value)
    return InlineKeyboardButton(text=text, callback_data=data.pack())


# -- the list -----------------------------------------------------------------------------------


def list_text(page: OrganizationsPage, locale: str) -> str:
    if not page.rows:
        return _("There are no organizations to manage yet.")
    first, last = page.offset + 1, page.offset + len(page.rows)
    lines = [
        _("🏢 <b>Organizations</b> ({first}–{last} of {total})").format(
            first=first, last=last, total=page.total
        ),
        "",
    ]
    for organization, members in page.rows:
        count = ngettext("{count} member", "{count} members", members).format(count=members)
        details = format_list(
            [str(KIND_LABELS[organization.kind]), str(STATUS_LABELS[organization.status]), count],
            locale,
            "parts",
        )
        lines.append(
            f"{STATUS_MARKS[organization.status]} <b>{escape(organization.name)}</b> — {escape(details)}"
        )
    return "\n".join(lines)


def list_keyboard(page: OrganizationsPage, can_create: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for organization, _members in page.rows:
        label = f"{STATUS_MARKS[organization.status]} {organization.name}"
        builder.row(_button(label if len(label) <= 48 else label[:47] + "…", "open", organization))
    navigation = []
    if page.offset > 0:
        previous = OrgAdmin(action="page", page=max(0, page.offset - PAGE_SIZE))
        navigation.append(InlineKeyboardButton(text="◀️", callback_data=previous.pack()))
    if page.offset + PAGE_SIZE < page.total:
        following = OrgAdmin(action="page", page=page.offset + PAGE_SIZE)
        navigation.append(InlineKeyboardButton(text="▶️", callback_data=following.pack()))
    if navigation:
        builder.row(*navigation)
    if can_create:
        builder.row(
            InlineKeyboardButton(text=_("➕ New organization"), callback_data=OrgAdmin(action="new").pack())
        )
    return builder.as_markup()


# -- an organization's card ---------------------------------------------------------------------


def card_text(organization: Organization, members: int, link: str, locale: str) -> str:
    def names(values: list[str]) -> str:
        return escape(format_list(values, locale)) if values else f"<i>{escape(not_set())}</i>"

    def line(label: str, value: str) -> str:
        return f"<b>{escape(label)}:</b> {value}"

    description = organization.description
    no_description = _("No description yet.")
    translated = [language_name(code) for code in sorted(organization.translations)]
    kind, status = str(KIND_LABELS[organization.kind]), str(STATUS_LABELS[organization.status])
    head = f"{STATUS_MARKS[organization.status]} <b>{escape(organization.name)}</b>"
    lines = [
        head + f" — {escape(kind)}, {escape(status)}",
        escape(description) if description else f"<i>{escape(no_description)}</i>",
        "",
        line(_("Translations"), names(translated)),
        line(_("Countries"), names([country_name(code, locale) for code in organization.countries])),
        line(_("Cities"), names(list(organization.cities))),
        line(_("Working languages"), names([language_name(code) for code in organization.languages])),
        line(_("Default language"), escape(language_name(organization.default_language))),
        line(_("Time zone"), escape(zone_label(organization.timezone, locale))),
        line(_("Quiet hours"), escape(describe_quiet_hours(organization))),
        line(_("Contact"), escape(organization.contact) if organization.contact else names([])),
        line(_("Visibility"), escape(str(VISIBILITY_LABELS[organization.visibility]))),
        line(_("Joining"), escape(str(JOIN_LABELS[organization.join_policy]))),
        line(_("Members"), format_decimal(members, locale=locale)),
        line(_("Invite link"), escape(link)),
    ]
    return "\n".join(lines)


def card_keyboard(organization: Organization, confederation_staff: bool) -> InlineKeyboardMarkup:
    """The edit buttons (not for an archived organization) and, for the confederation's staff,
    suspend / restore / archive."""
    rows: list[list[InlineKeyboardButton]] = []
    if organization.status != OrgStatus.ARCHIVED:
        to_network = organization.kind == OrgKind.ORGANIZATION
        listed = organization.visibility == Visibility.LISTED
        rows += [
            [
                _kit(_("✏️ Name"), "ef", organization, "name"),
                _kit(_("📝 Description"), "ef", organization, "description"),
            ],
            [
                _kit(_("🌐 Translations"), "translate", organization),
                _button(
                    _("🔁 Make it a network") if to_network else _("🔁 Make it an organization"),
                    "kind",
                    organization,
                ),
            ],
            [
                _button(_("🌍 Countries"), "ctry", organization),
                _kit(_("🏙 Cities"), "ef", organization, "cities"),
            ],
            [
                _button(_("🗣 Languages"), "langs", organization),
                _button(_("🔤 Default language"), "lang", organization),
            ],
            [
                _button(_("🕒 Time zone"), "tz", organization),
                _button(_("🌙 Quiet hours"), "quiet", organization),
            ],
            [_button(_("🖼 Logo"), "logo", organization), _kit(_("☎️ Contact"), "ef", organization, "contact")],
            [
                _button(_("🙈 Unlist it") if listed else _("👁 List it"), "vis", organization),
                _button(_("🚪 Joining"), "join", organization),
            ],
            [_button(_("🔄 New link"), "link", organization)],
        ]
    if confederation_staff:
        status_buttons = []
        if organization.status == OrgStatus.ACTIVE:
            status_buttons.append(_button(_("⏸ Suspend"), "suspend", organization))
        else:
            status_buttons.append(_button(_("▶️ Restore"), "restore", organization))
        if organization.status != OrgStatus.ARCHIVED:
            status_buttons.append(_button(_("🗄 Archive"), "archive", organization))
        rows.append(status_buttons)
    rows.append(
        [InlineKeyboardButton(text=_("← All organizations"), callback_data=OrgAdmin(action="home").pack())]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(organization: Organization, action: str, yes: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(yes, f"{action}_yes", organization), _button(_("← No"), "keep", organization)]
        ]
    )


# -- pickers ------------------------------------------------------------------------------------


def join_keyboard(organization: Organization) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for policy, label in JOIN_LABELS.items():
        mark = "✅ " if organization.join_policy == policy else ""
        builder.row(_button(mark + str(label), "join_set", organization, policy.value))
    return builder.as_markup()


def default_language_keyboard(organization: Organization) -> InlineKeyboardMarkup:
    """The working languages first (the default must be one members read)."""
    builder = InlineKeyboardBuilder()
    for code in languages_first(*organization.languages):
        mark = "✅ " if code == organization.default_language else ""
        builder.add(_button(mark + language_name(code), "lang_set", organization, code))
    builder.adjust(2)
    return builder.as_markup()


def languages_keyboard(organization: Organization) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in SHIPPED_LANGUAGES:
        mark = "✅" if code in organization.languages else "▫️"
        builder.add(_button(f"{mark} {language_name(code)}", "langs_t", organization, code))
    builder.adjust(2)
    builder.row(_button(_("Done"), "done", organization))
    return builder.as_markup()


def countries_keyboard(organization: Organization, locale: str) -> InlineKeyboardMarkup:
    """The organization's countries, each a button that removes it, then Done."""
    builder = InlineKeyboardBuilder()
    for code in organization.countries:
        builder.add(_button("❌ " + country_name(code, locale), "ctry_t", organization, code))
    builder.adjust(2)
    builder.row(_button(_("Done"), "done", organization))
    return builder.as_markup()


def matches_keyboard(
    organization: Organization, codes: list[str], action: str, locale: str
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in codes:
        builder.row(_button(country_name(code, locale), action, organization, code))
    return builder.as_markup()


def zones_keyboard(
    organization: Organization, zones: tuple[str, ...], more: str | None, locale: str
) -> InlineKeyboardMarkup:
    """Zones to choose from (two a row) and, when the country has rarer ones, "Other…"."""
    builder = InlineKeyboardBuilder()
    for zone in zones:
        builder.add(_button(zone_label(zone, locale), "tz_set", organization, zone))
    builder.adjust(2)
    if more is not None:
        builder.row(_button(_("Other…"), "tz_more", organization, more))
    return builder.as_markup()

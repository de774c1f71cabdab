"""How organizations look to members: a card (directory, /orgs, invitations), the directory's
pages and filters, /orgs, leaving, and what each join outcome and refusal says. Callers set the
gettext locale (the member's language); every organization-written value is escaped."""

from __future__ import annotations

from collections.abc import Collection
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.numbers import format_decimal

from bot.i18n import _, format_list, language_name
from bot.services.geo import country_name
from bot.services.memberships import (
    DirectoryFilter,
    Facts,
    JoinOutcome,
    Listing,
    Standing,
    organization_text,
    rounded_members,
)
from handlers.members.callbacks import DirectoryButton, MyOrgButton
from handlers.orgs_admin.buttons import OrgAdmin
from handlers.ui import INTEREST_LABELS, ROLE_LABELS
from storage.models import JoinPolicy, Organization, OrgKind, OrgStatus, Role

FACET_CHOICES_MAX = 60


def name_of(organization: Organization, locale: str) -> str:
    """The organization's name as the member reads it (unescaped)."""
    return organization_text(organization, "name", locale)


def mark(organization: Organization) -> str:
    return "🌐" if organization.kind == OrgKind.NETWORK else "🏢"


def members_text(count: int, locale: str) -> str:
    shown = rounded_members(count)
    if shown is None:
        return _("fewer than 10")
    return _("about {count}").format(count=format_decimal(shown, locale=locale))


def organization_card(
    organization: Organization,
    locale: str,
    facts: Facts,
    standing: Standing = Standing.NONE,
    role: Role | None = None,
) -> str:
    """The card: name (a network says so), description in the member's language, where it is
    active, its languages and topics, upcoming events, members (rounded), contact, and where the
    member stands."""
    title = f"{mark(organization)} <b>{escape(name_of(organization, locale))}</b>"
    if organization.kind == OrgKind.NETWORK:
        title += " · " + escape(_("network"))
    lines = [title]
    description = organization_text(organization, "description", locale)
    if description:
        lines += ["", escape(description)]
    countries = format_list([country_name(code, locale) for code in organization.countries or []], locale)
    where = format_list([*(organization.cities or []), countries], locale, "parts") if countries else ""
    rows = [
        ("📍", _("Active in"), where),
        ("🗣", _("Languages"), ", ".join(language_name(code) for code in organization.languages or [])),
        (
            "🏷",
            _("Topics"),
            format_list(
                [str(INTEREST_LABELS[key]) for key in organization.topics or [] if key in INTEREST_LABELS],
                locale,
            ),
        ),
        ("📅", _("Upcoming events"), format_decimal(facts.upcoming_events, locale=locale)),
        ("👥", _("Members"), members_text(facts.members, locale)),
        ("✉️", _("Contact"), organization.contact or ""),
    ]
    lines.append("")
    lines += [f"{icon} {escape(label)}: {escape(value)}" for icon, label, value in rows if value]
    lines += ["", standing_text(organization, standing, role)]
    return "\n".join(lines)


def standing_text(organization: Organization, standing: Standing, role: Role | None) -> str:
    if organization.status == OrgStatus.SUSPENDED:
        return _("⏸ This organization is suspended for now.")
    if standing == Standing.MEMBER:
        if role is not None and role != Role.MEMBER:
            return _("✅ You are a member ({role}).").format(role=ROLE_LABELS[role])
        return _("✅ You are a member.")
    if standing == Standing.PENDING:
        return _("⏳ Your request to join is waiting for an answer from its administrators.")
    policy = JoinPolicy(organization.join_policy)
    if policy == JoinPolicy.INVITE:
        return _("🔒 This organization takes new members by invitation only.")
    if policy == JoinPolicy.APPROVAL:
        return _("Its administrators approve new members.")
    return _("Anyone can join.")


# -- join outcomes and refusals ------------------------------------------------------------------


def outcome_text(outcome: JoinOutcome, organization: Organization, locale: str) -> str:
    name = f"<b>{escape(name_of(organization, locale))}</b>"
    if outcome == JoinOutcome.JOINED:
        return _(
            "🎉 Welcome to {organization}! You are now a member: its news and events will reach you."
        ).format(organization=name)
    if outcome == JoinOutcome.ALREADY_MEMBER:
        return _("✅ You are a member of {organization}.").format(organization=name)
    if outcome == JoinOutcome.REQUESTED:
        return _(
            "📨 Your request to join {organization} was sent to its administrators. I will tell you "
            "their answer."
        ).format(organization=name)
    return _("⏳ Your request to join {organization} is waiting for an answer.").format(organization=name)


def refusal(reason: str) -> str:
    """What a `MembershipError` says to the member (or admin) who ran into it."""
    texts = {
        "not_found": _("This organization is no longer in the directory."),
        "suspended": _("This organization is suspended for now: it cannot take new members."),
        "invite_only": _(
            "This organization takes new members by invitation only: ask it for its invite link."
        ),
        "not_registered": _("Please register first: send /start."),
        "not_member": _("You are not a member of this organization."),
        "last_admin": _(
            "You are the only administrator of this organization, so you cannot leave it. Ask the "
            "confederation's staff to name another administrator first."
        ),
        "no_request": _("This request no longer exists."),
        "not_allowed": _("Sorry, only this organization's administrators can decide on requests."),
    }
    return texts.get(reason, texts["not_found"])


def invalid_invite() -> str:
    return _("This invite link is no longer valid. Ask the organization for its current link.")


# -- the directory -------------------------------------------------------------------------------


def _button(wanted: DirectoryFilter, action: str, **values: object) -> DirectoryButton:
    """A directory button that keeps the filters (and the typed name) it was shown with."""
    return DirectoryButton(
        action=action,
        country=wanted.country,
        language=wanted.language,
        topic=wanted.topic,
        q=bool(wanted.query),
        **values,  # type: ignore[arg-type]
    )


def filters_line(wanted: DirectoryFilter, locale: str) -> str:
    parts = []
    if wanted.country:
        parts.append(_("Country: {country}").format(country=country_name(wanted.country, locale)))
    if wanted.language:
        parts.append(_("Language: {language}").format(language=language_name(wanted.language)))
    if wanted.topic and wanted.topic in INTEREST_LABELS:
        parts.append(_("Topic: {topic}").format(topic=INTEREST_LABELS[wanted.topic]))
    if wanted.query:
        parts.append(_("Name: “{text}”").format(text=wanted.query))
    return escape(" · ".join(parts))


def directory_text(listing: Listing, wanted: DirectoryFilter, locale: str) -> str:
    lines = [_("🔎 <b>Directory of organizations and networks</b>"), ""]
    if wanted.active:
        lines += [filters_line(wanted, locale), ""]
    if not listing.total:
        lines.append(_("Nothing found. Try other filters, or clear them."))
        return "\n".join(lines)
    lines.append(
        _("Found: {count}. Tap one to see it.").format(count=format_decimal(listing.total, locale=locale))
    )
    if any(organization.kind == OrgKind.NETWORK for organization in listing.entries):
        lines.append(_("🌐 marks a network: it gathers members of every organization."))
    return "\n".join(lines)


def directory_keyboard(
    listing: Listing, wanted: DirectoryFilter, locale: str, mine: Collection[int]
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for organization in listing.entries:
        joined = " ✅" if organization.id in mine else ""
        builder.button(
            text=f"{mark(organization)} {name_of(organization, locale)}{joined}"[:60],
            callback_data=_button(wanted, "open", org=organization.id or 0, page=listing.page),
        )
        sizes.append(1)
    if listing.pages > 1:
        row = 0
        if listing.page > 0:
            builder.button(text="◀️", callback_data=_button(wanted, "page", page=listing.page - 1))
            row += 1
        builder.button(
            text=f"{listing.page + 1}/{listing.pages}",
            callback_data=_button(wanted, "page", page=listing.page),
        )
        row += 1
        if listing.page + 1 < listing.pages:
            builder.button(text="▶️", callback_data=_button(wanted, "page", page=listing.page + 1))
            row += 1
        sizes.append(row)
    for facet, label in (
        ("country", _("🌍 Country")),
        ("language", _("🗣 Language")),
        ("topic", _("🏷 Topic")),
    ):
        builder.button(text=label, callback_data=_button(wanted, "facet", facet=facet))
    sizes.append(3)
    builder.button(text=_("🔍 Search by name"), callback_data=_button(wanted, "search"))
    if wanted.active:
        builder.button(text=_("✖ Clear filters"), callback_data=DirectoryButton(action="page"))
        sizes.append(2)
    else:
        sizes.append(1)
    builder.adjust(*sizes)
    return builder.as_markup()


def facet_text(facet: str) -> str:
    return {
        "country": _("Which country? Organizations active there are shown."),
        "language": _("Which language? Organizations working in it are shown."),
        "topic": _("Which topic?"),
    }[facet]


def facet_keyboard(
    facet: str, values: list[str], wanted: DirectoryFilter, locale: str
) -> InlineKeyboardMarkup:
    """The choices of one filter (what the listed organizations name), then Back."""
    builder = InlineKeyboardBuilder()
    labels = {
        "country": lambda code: country_name(code, locale),
        "language": language_name,
        "topic": lambda key: str(INTEREST_LABELS.get(key, key)),
    }[facet]
    choices = sorted(((labels(value), value) for value in values), key=lambda item: item[0].casefold())
    for label, value in choices[:FACET_CHOICES_MAX]:
        chosen = {
            **{"country": wanted.country, "language": wanted.language, "topic": wanted.topic},
            facet: value,
        }
        builder.button(
            text=label[:60],
            callback_data=DirectoryButton(action="page", q=bool(wanted.query), **chosen),  # type: ignore[arg-type]
        )
    builder.button(text=_("⬅️ Back"), callback_data=_button(wanted, "page"))
    builder.adjust(*([2] * ((min(len(choices), FACET_CHOICES_MAX) + 1) // 2)), 1)
    return builder.as_markup()


def directory_card_keyboard(
    organization: Organization, standing: Standing, back: DirectoryButton
) -> InlineKeyboardMarkup:
    """Join / Request to join / withdraw the request (nothing to join by invitation only), and Back."""
    builder = InlineKeyboardBuilder()
    target = {**back.model_dump(), "org": organization.id or 0}
    policy = JoinPolicy(organization.join_policy)
    if organization.status == OrgStatus.ACTIVE and standing == Standing.NONE and policy != JoinPolicy.INVITE:
        label = _("✅ Join") if policy == JoinPolicy.OPEN else _("📨 Request to join")
        builder.button(text=label, callback_data=DirectoryButton(**{**target, "action": "join"}))
    elif standing == Standing.PENDING:
        builder.button(
            text=_("✖ Withdraw my request"), callback_data=DirectoryButton(**{**target, "action": "cancel"})
        )
    builder.button(
        text=_("⬅️ Back to the directory"), callback_data=DirectoryButton(**{**target, "action": "page"})
    )
    builder.adjust(1)
    return builder.as_markup()


# -- /orgs -----------------------------------------------------------------------------------------


def my_orgs_text(entries: list[tuple[Organization, Role]], locale: str) -> str:
    if not entries:
        return _(
            "🏢 You do not belong to any organization yet. Find one in the directory: organizations "
            "and networks of the confederation, by country, language and topic."
        )
    lines = [_("🏢 <b>Your organizations</b>"), ""]
    for organization, role in entries:
        line = f"{mark(organization)} {escape(name_of(organization, locale))}"
        if role != Role.MEMBER:
            line += f" — {escape(str(ROLE_LABELS[role]))}"
        if organization.status == OrgStatus.SUSPENDED:
            line += " ⏸"
        lines.append(line)
    lines += ["", _("Tap one to see its card or to leave it.")]
    return "\n".join(lines)


def my_orgs_keyboard(
    entries: list[tuple[Organization, Role]], locale: str, manage: bool
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for organization, _role in entries:
        builder.button(
            text=f"{mark(organization)} {name_of(organization, locale)}"[:60],
            callback_data=MyOrgButton(action="open", org=organization.id or 0),
        )
    builder.button(text=_("🔎 Directory"), callback_data=DirectoryButton(action="page"))
    if manage:
        builder.button(text=_("⚙️ Manage organizations"), callback_data=OrgAdmin(action="home"))
    builder.adjust(1)
    return builder.as_markup()


def my_org_keyboard(organization: Organization) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🚪 Leave"), callback_data=MyOrgButton(action="leave", org=organization.id or 0))
    builder.button(text=_("⬅️ My organizations"), callback_data=MyOrgButton(action="list"))
    builder.adjust(1)
    return builder.as_markup()


def leave_question(organization: Organization, locale: str, last: bool) -> str:
    text = _(
        "🚪 Leave <b>{organization}</b>? Its announcements, events and surveys will no longer reach "
        "you, and messages of it still waiting are cancelled. Your answers and history are kept."
    ).format(organization=escape(name_of(organization, locale)))
    if last:
        text += "\n\n" + _(
            "It is your last organization: I keep your profile, but nothing will reach you until you "
            "join another one (/directory). To erase your data instead, send /forget."
        )
    return text


def leave_keyboard(organization: Organization) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🚪 Yes, leave"), callback_data=MyOrgButton(action="confirm", org=organization.id or 0)
    )
    builder.button(text=_("No, stay"), callback_data=MyOrgButton(action="open", org=organization.id or 0))
    builder.adjust(1)
    return builder.as_markup()


def left_text(organization: Organization, locale: str) -> str:
    return _("🚪 You left <b>{organization}</b>.").format(organization=escape(name_of(organization, locale)))

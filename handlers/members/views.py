"""What members see of their own data: the profile card, the privacy notice, the keyboards of
language, consent, interests, muted topics and profile edits, and their calendar feed."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import SHIPPED_LANGUAGES, _, format_list, language_name, normalize_language
from bot.services.geo import country_name, zone_label
from bot.services.members import INTERESTS
from bot.services.memberships import organization_text
from handlers.members.callbacks import (
    CalendarFeedAction,
    ConsentAnswer,
    DigestSwitch,
    InterestToggle,
    LanguageChoice,
    MuteToggle,
    ProfileEdit,
)
from handlers.ui import INTEREST_LABELS, locale_now, not_set
from storage.models import Member, Organization


def profile_card(member: Member) -> str:
    """The member's profile as a short HTML card; every stored value escaped."""
    locale = locale_now()
    residence = format_list(
        [member.residence_city or "", country_name(member.residence_country, locale)], locale, "parts"
    )
    interests = format_list(
        [str(INTEREST_LABELS[key]) for key in member.interests if key in INTEREST_LABELS], locale
    )
    rows = [
        (_("Name"), member.display_name),
        (_("Language"), language_name(member.language) if member.language else None),
        (_("Country of origin"), country_name(member.origin_country, locale)),
        (_("Lives in"), residence),
        (_("Time zone"), zone_label(member.timezone, locale) if member.timezone else None),
        (_("Interests"), interests),
        (
            _("Muted topics"),
            format_list([str(INTEREST_LABELS[key]) for key in member.muted if key in INTEREST_LABELS], locale)
            or _("none"),
        ),
    ]
    lines = [
        f"<b>{escape(label)}:</b> {escape(value) if value else '<i>' + escape(not_set()) + '</i>'}"
        for label, value in rows
    ]
    return "\n".join([_("👤 <b>Your profile</b>"), "", *lines])


def privacy_notice(organization: Organization, locale: str) -> str:
    return _(
        "🔒 <b>Before we start: your data</b>\n\n"
        "If you agree, I will store:\n"
        "• your Telegram id and username, and the name you choose;\n"
        "• your language and time zone;\n"
        "• if you wish: your country of origin, where you live and your interests.\n\n"
        "<b>Why:</b> to send you news, events and trainings in your language, at a sensible hour, "
        "about what interests you.\n"
        "<b>Who sees it:</b> the organizers of {organization}. It is never sold or given to anyone else.\n\n"
        "You can see everything I store with /mydata and erase it at any time with /forget."
    ).format(organization=escape(organization_text(organization, "name", locale)))


def consent_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ I agree"), callback_data=ConsentAnswer(accept=True))
    builder.button(text=_("No, thanks"), callback_data=ConsentAnswer(accept=False))
    builder.adjust(1)
    return builder.as_markup()


def language_keyboard(onboarding: bool, telegram_code: str | None = None) -> InlineKeyboardMarkup:
    """Every shipped language in its own name, two a row (eight rows for sixteen: one phone
    screen); the language of the member's Telegram app first, marked 📱."""
    detected = normalize_language(telegram_code)
    builder = InlineKeyboardBuilder()
    others = [code for code in SHIPPED_LANGUAGES if code != detected]
    for code in [detected, *others] if detected else others:
        mark = "📱 " if code == detected else ""
        builder.button(
            text=mark + language_name(code), callback_data=LanguageChoice(code=code, onboarding=onboarding)
        )
    builder.adjust(2)
    return builder.as_markup()


def interests_keyboard(selected: list[str]) -> InlineKeyboardMarkup:
    return _toggles(selected, ("✅", "▫️"), InterestToggle)


def muted_keyboard(muted: list[str]) -> InlineKeyboardMarkup:
    return _toggles(muted, ("🔕", "🔔"), MuteToggle)


def _toggles(
    chosen: list[str], marks: tuple[str, str], button: type[InterestToggle] | type[MuteToggle]
) -> InlineKeyboardMarkup:
    """Every interest with its mark (chosen or not), two a row, then Done."""
    builder = InlineKeyboardBuilder()
    for key in INTERESTS:
        mark = marks[0] if key in chosen else marks[1]
        builder.button(text=f"{mark} {INTEREST_LABELS[key]}", callback_data=button(key=key))
    builder.button(text=_("Done"), callback_data=button(key="done"))
    builder.adjust(2, 2, 2, 2, 1, 1)
    return builder.as_markup()


def edit_keyboard(calendar_feed: bool = False, digest: bool | None = None) -> InlineKeyboardMarkup:
    """The profile's buttons; `calendar_feed` when the bot has a public address (PUBLIC_URL);
    the library's weekly digest switch when `digest` (on or off) is given."""
    builder = InlineKeyboardBuilder()
    labels = {
        "name": _("✏️ Name"),
        "origin": _("✏️ Origin"),
        "residence": _("✏️ Country"),
        "city": _("✏️ City"),
        "timezone": _("✏️ Time zone"),
        "interests": _("✏️ Interests"),
        "muted": _("🔕 Muted topics"),
    }
    for field, label in labels.items():
        builder.button(text=label, callback_data=ProfileEdit(field=field))
    if calendar_feed:
        builder.button(text=_("📅 Calendar feed"), callback_data=CalendarFeedAction(action="show"))
    if digest is not None:
        label = _("📬 Weekly digest: on") if digest else _("📭 Weekly digest: off")
        builder.button(text=label, callback_data=DigestSwitch(on=not digest))
    builder.adjust(2)
    return builder.as_markup()


def calendar_feed_text(url: str) -> str:
    return (
        _("📅 <b>Your private calendar feed</b>")
        + "\n\n"
        + _(
            "Add this address to your calendar app: the events you answered Going or Maybe to and "
            "your training sessions appear there and stay up to date."
        )
        + f"\n\n<code>{escape(url)}</code>\n\n"
        + _(
            "Google Calendar: Other calendars → From URL. Outlook: Add calendar → Subscribe from web. "
            "Apple Calendar: File → New Calendar Subscription."
        )
        + "\n\n"
        + _("Anyone with this address sees these events: keep it to yourself.")
    )


def calendar_feed_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔄 New address"), callback_data=CalendarFeedAction(action="new"))
    builder.button(text=_("🚫 Turn off"), callback_data=CalendarFeedAction(action="off"))
    builder.adjust(2)
    return builder.as_markup()

"""/stats in words: the summary in the viewer's language (numbers, dates, countries and languages
in their locale), the names of every figure (shared with the XLSX export) and the buttons."""

from __future__ import annotations

from datetime import date
from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, language_name, ngettext
from bot.services.geo import country_name
from bot.services.stats import (
    FEW,
    NOT_GIVEN,
    PRESET_DAYS,
    PROFILE_FIELDS,
    OrganizationRow,
    ResourceUsage,
    Stats,
)
from bot.services.stats.exports import OTHER, rate, usage_values
from bot.services.suppression import Breakdown
from handlers.stats.callbacks import StatsButton
from handlers.ui import INTEREST_LABELS

WEEKS_IN_TEXT = 14  # longer periods: the weeks are in the chart and the exports
GROUPS_IN_TEXT = 8  # per breakdown; the rest are in the chart and the exports
ORGANIZATIONS_IN_TEXT = 20
RESOURCES_IN_TEXT = 5  # the most opened; every one used in the period is in the exports

PROFILE_TITLES = {
    "residence_country": __("🏠 Country of residence"),
    "residence_city": __("🏙 City"),
    "origin_country": __("🌍 Country of origin"),
    "language": __("🗣 Language"),
    "interests": __("⭐ Interests"),
}


def number(value: int | str, locale: str, min_group: int) -> str:
    """A count as shown: "1 234", "< 5" for a small group, "🔒" for one withheld with them."""
    if value == FEW:
        return "< " + format_decimal(min_group, locale=locale)
    if isinstance(value, str):
        return "🔒"
    return format_decimal(value, locale=locale)


def _html(value: int | str, locale: str, min_group: int) -> str:
    """`number` for an HTML message ("&lt; 5")."""
    return escape(number(value, locale, min_group))


def share(part: int, whole: int, min_group: int, locale: str) -> str:
    """ "75 %", or "—" when the whole is too small to say it of nobody."""
    fraction = rate(part, whole, min_group)
    return "—" if fraction is None else format_percent(fraction, format="#,##0.#%", locale=locale)


def week_label(monday: date, locale: str) -> str:
    return format_skeleton("MMMd", monday, locale=locale)


def group_name(field: str, group: str, locale: str) -> str:
    """A group of members in words: a country, "Lyon, France", a language, an interest."""
    if group == NOT_GIVEN:
        return _("not given")
    if group == OTHER:
        return _("Other")
    if field in ("residence_country", "origin_country"):
        return country_name(group, locale) or group
    if field == "residence_city":
        city, _comma, country = group.rpartition(", ")
        return f"{city}, {country_name(country, locale)}" if country != NOT_GIVEN else city
    if field == "language":
        return language_name(group) if group in SHIPPED_LANGUAGES else group
    if field == "interests" and group in INTEREST_LABELS:
        return str(INTEREST_LABELS[group])
    return group


def period_line(stats: Stats, locale: str) -> str:
    days = ngettext("{count} day", "{count} days", stats.period.days).format(count=stats.period.days)
    first = format_date(stats.period.first, "medium", locale=locale)
    last = format_date(stats.period.last, "medium", locale=locale)
    return f"📅 {first} – {last} · {days}"


def summary_lines(
    stats: Stats, title: str, locale: str, table: list[OrganizationRow] | None = None
) -> list[str]:
    low = stats.min_group

    def n(value: int | str) -> str:
        return _html(value, locale, low)

    lines = [_("📊 <b>Statistics: {name}</b>").format(name=escape(title)), period_line(stats, locale), ""]
    lines.append(_("👥 <b>Members</b>: {count}").format(count=n(stats.members)))
    lines.append(
        _("Joined: {joined} · Left: {left}").format(joined=n(stats.joins_total), left=n(stats.leaves_total))
    )
    if len(stats.joins) <= WEEKS_IN_TEXT:
        for monday, joined in stats.joins.items():
            lines.append(
                _("Week of {date}: +{joined} / −{left}").format(
                    date=week_label(monday, locale), joined=n(joined), left=n(stats.leaves[monday])
                )
            )
    else:
        lines.append(_("Week by week: see the chart and the exports."))
    for field in PROFILE_FIELDS:
        lines += ["", breakdown_line(field, stats.profile[field], locale, low)]
    lines += ["", *activity_lines(stats, locale), "", *library_lines(stats, locale)]
    if table is not None:
        lines += ["", *table_lines(table, locale, low)]
    lines += [
        "",
        _(
            "🔒 Groups of fewer than {min} members are shown only together, as “Other”, and smaller "
            "weekly counts as “{few}”: nobody can be singled out."
        ).format(min=low, few=_html(FEW, locale, low)),
    ]
    return lines


def breakdown_line(field: str, groups: Breakdown, locale: str, low: int) -> str:
    parts = [
        f"{escape(group_name(field, group, locale))} {_html(count, locale, low)}"
        for group, count in groups.shown[:GROUPS_IN_TEXT]
    ]
    if len(groups.shown) > GROUPS_IN_TEXT:
        more = len(groups.shown) - GROUPS_IN_TEXT
        parts.append(ngettext("{count} more", "{count} more", more).format(count=more))
    if groups.other:
        other, label = FEW if groups.other < low else groups.other, _("Other")
        parts.append(f"{label} {_html(other, locale, low)}")
    return _("<b>{title}</b>: {figures}").format(
        title=PROFILE_TITLES[field], figures=" · ".join(parts) or _("nobody yet")
    )


def activity_lines(stats: Stats, locale: str) -> list[str]:
    low = stats.min_group

    def n(value: int | str) -> str:
        return _html(value, locale, low)

    events, trainings, surveys, reach = stats.events, stats.trainings, stats.surveys, stats.reach
    came = ("completed", trainings.completed), ("participants", trainings.finished_participants)
    answered = ("responses", surveys.responses), ("invited", surveys.invited)
    return [
        _("📅 <b>Events</b>: {count}").format(count=n(events.events)),
        _("✅ Going: {going} · 🤔 Maybe: {maybe} · ❌ Can't go: {no}").format(
            going=n(events.answers["going"]),
            maybe=n(events.answers["maybe"]),
            no=n(events.answers["not_going"]),
        ),
        _("⏳ Waitlist: {waiting} · 🎟 Offered a seat: {offered}").format(
            waiting=n(events.answers["waitlisted"]), offered=n(events.answers["offered"])
        ),
        _("Check-ins: {checkins} · Going → attended: {share}").format(
            checkins=n(events.checkins), share=share(events.going_attended, events.going_past, low, locale)
        ),
        attendees_line(events.attendees, locale, low),
        "",
        _("🎓 <b>Trainings</b>: {count}").format(count=n(trainings.trainings)),
        _("🎟 {confirmed} of {capacity} seats taken · ⏳ waitlist: {waiting}").format(
            confirmed=n(trainings.confirmed), capacity=n(trainings.capacity), waiting=n(trainings.waitlisted)
        ),
        _("Seats filled: {share}").format(share=share(trainings.confirmed, trainings.capacity, 1, locale)),
        _ratio(_("Came to every session: {completed} of {participants} ({share})"), *came, low, locale),
        "",
        _("📝 <b>Surveys and polls</b>: {count}").format(count=n(surveys.surveys)),
        _ratio(
            _("Responses: {responses} of {invited} invitations delivered ({share})"), *answered, low, locale
        ),
        "",
        _("📣 <b>Announcements</b>: {count}").format(count=n(reach.announcements)),
        _("Sent: {sent} · Failed: {failed} · Blocked: {blocked}").format(
            sent=n(reach.deliveries["delivered"]),
            failed=n(reach.deliveries["failed"]),
            blocked=n(reach.deliveries["blocked"]),
        )
        + (
            " · " + _("Waiting: {count}").format(count=n(reach.deliveries["waiting"]))
            if reach.deliveries["waiting"]
            else ""
        ),
    ]


def library_lines(stats: Stats, locale: str) -> list[str]:
    """The library: how many resources are published and were opened, then the most opened ones
    with how many people opened, saved and voted on each (small counts as "< 5")."""
    low, library = stats.min_group, stats.library
    lines = [
        _("📚 <b>Library</b>: {published} published · {opened} opened in the period").format(
            published=format_decimal(library.published, locale=locale),
            opened=format_decimal(library.opened, locale=locale),
        )
    ]
    if library.resources:
        lines.append(_("👁 opened by · ⭐ saved by · 👍 useful · 👎 not useful"))
    for usage in library.resources[:RESOURCES_IN_TEXT]:
        views, saves, useful, not_useful = (_html(value, locale, low) for value in usage_values(usage))
        figures = f"👁 {views} · ⭐ {saves} · 👍 {useful} · 👎 {not_useful}"
        title = escape(usage_title(usage, locale))
        lines.append(_("<b>{title}</b>: {figures}").format(title=title, figures=figures))
    if len(library.resources) > RESOURCES_IN_TEXT:
        more = len(library.resources) - RESOURCES_IN_TEXT
        lines.append(
            ngettext(
                "… and {count} more resource in the exports.",
                "… and {count} more resources in the exports.",
                more,
            ).format(count=more)
        )
    return lines


def usage_title(usage: ResourceUsage, locale: str) -> str:
    """A resource's title in the viewer's language when the staff translated it."""
    entry = usage.translations.get(locale) or {}
    return str(entry.get("title") or usage.title)


def _ratio(template: str, part: tuple[str, int], whole: tuple[str, int], low: int, locale: str) -> str:
    """A part of a whole and its share ("6 of 8 (75%)"), each number under its placeholder's name."""
    return template.format(
        **{part[0]: _html(part[1], locale, low), whole[0]: _html(whole[1], locale, low)},
        share=share(part[1], whole[1], low, locale),
    )


def attendees_line(attendees: Breakdown, locale: str, low: int) -> str:
    """New and returning attendees, or only how many came when either group is too small."""
    if attendees.other:
        total = FEW if attendees.total < low else attendees.total
        return _("Attendees: {count} (too few to tell new ones from returning ones)").format(
            count=_html(total, locale, low)
        )
    counts = dict(attendees.shown)
    return _("New attendees: {new} · Returning: {returning}").format(
        new=_html(counts.get("new", 0), locale, low),
        returning=_html(counts.get("returning", 0), locale, low),
    )


def table_lines(table: list[OrganizationRow], locale: str, low: int) -> list[str]:
    lines = [
        _("🏢 <b>Organizations</b>: {count}").format(count=format_decimal(len(table), locale=locale)),
        _("👥 members · joined / left · 📅 events · ✅ check-ins · 📣 messages delivered"),
    ]
    for row in table[:ORGANIZATIONS_IN_TEXT]:
        figures = (row.members, row.joins, row.leaves, row.events, row.checkins, row.delivered)
        members, joined, left, events, checkins, delivered = (_html(value, locale, low) for value in figures)
        figures_text = f"👥 {members} · +{joined} / −{left} · 📅 {events} · ✅ {checkins} · 📣 {delivered}"
        lines.append(_("<b>{title}</b>: {figures}").format(title=escape(row.name), figures=figures_text))
    if len(table) > ORGANIZATIONS_IN_TEXT:
        more = len(table) - ORGANIZATIONS_IN_TEXT
        lines.append(
            ngettext(
                "… and {count} more organization in the exports.",
                "… and {count} more organizations in the exports.",
                more,
            ).format(count=more)
        )
    return lines


def keyboard(button: StatsButton, super_admin: bool) -> InlineKeyboardMarkup:
    """Periods, other dates, charts and files for what is shown (`button`: its organization and
    days); super-admins also choose the organization, or every one."""
    builder = InlineKeyboardBuilder()
    shown = dict(org=button.org, first=button.first, last=button.last)
    for days in PRESET_DAYS:
        label = ngettext("{count} day", "{count} days", days).format(count=days)
        builder.button(text=label, callback_data=StatsButton(action="days", org=button.org, days=days))
    builder.button(text=_("📅 Other dates"), callback_data=StatsButton(action="dates", **shown))
    builder.button(text=_("📈 Charts"), callback_data=StatsButton(action="charts", **shown))
    builder.button(text=_("📄 CSV"), callback_data=StatsButton(action="csv", **shown))
    builder.button(text=_("📗 Excel (XLSX)"), callback_data=StatsButton(action="xlsx", **shown))
    sizes = [3, 1, 3]
    if super_admin:
        builder.button(
            text=_("🏢 Choose the organization"), callback_data=StatsButton(action="orgs", **shown)
        )
        sizes.append(1)
    builder.adjust(*sizes)
    return builder.as_markup()

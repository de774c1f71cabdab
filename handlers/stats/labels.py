"""The words of the XLSX export: each section and item of `bot.services.stats.exports.rows` in the
viewer's language (the CSV keeps the codes)."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import lazy_gettext as __
from babel.dates import format_date

from bot.i18n import _
from bot.services.stats import PROFILE_FIELDS
from bot.services.stats.exports import Words
from handlers.stats.views import PROFILE_TITLES, group_name, usage_title

SECTIONS = {
    "period": __("Period"),
    "members": __("Members"),
    "joins_per_week": __("Joined, week of"),
    "leaves_per_week": __("Left, week of"),
    "events": __("Events"),
    "attendees": __("Attendees"),
    "trainings": __("Trainings"),
    "surveys": __("Surveys and polls"),
    "announcements": __("Announcements"),
    "library": __("📚 Library"),
}
ITEMS = {
    "first": __("First day"),
    "last": __("Last day"),
    "now": __("Members"),
    "joined": __("Joined"),
    "left": __("Left"),
    "events": __("Events"),
    "going": __("Going"),
    "maybe": __("Maybe"),
    "not_going": __("Can't go"),
    "waitlisted": __("Waitlist"),
    "offered": __("Offered a seat"),
    "checkins": __("Check-ins"),
    "going_past": __("Going, events already held"),
    "going_attended": __("Going and came"),
    "conversion": __("Going → attended"),
    "new": __("New"),
    "returning": __("Returning"),
    "trainings": __("Trainings"),
    "capacity": __("Seats"),
    "confirmed": __("Seats taken"),
    "fill_rate": __("Seats filled"),
    "finished_participants": __("Participants of finished trainings"),
    "completed": __("Came to every session"),
    "completion_rate": __("Completion"),
    "surveys": __("Surveys and polls"),
    "invitations_delivered": __("Invitations delivered"),
    "responses": __("Responses"),
    "response_rate": __("Response rate"),
    "announcements": __("Announcements"),
    "delivered": __("Sent"),
    "blocked": __("Blocked the bot"),
    "failed": __("Failed"),
    "waiting": __("Waiting"),
    "published": __("Resources published"),
    "opened": __("Resources opened"),
}
LIBRARY_HEADINGS = (
    __("Resource"),
    __("Opened by"),
    __("Saved by"),
    __("👍 Useful"),
    __("👎 Not useful"),
)
TABLE_HEADINGS = (
    __("Organization"),
    __("Members"),
    __("Joined"),
    __("Left"),
    __("Events"),
    __("Check-ins"),
    __("Sent"),
)


def export_words(locale: str) -> Words:
    """The workbook's words in the viewer's language (the gettext locale is theirs already)."""

    def label(section: str, item: str) -> tuple[str, str]:
        if section in PROFILE_FIELDS:
            return str(PROFILE_TITLES[section]), group_name(section, item, locale)
        if section.endswith("_per_week"):
            return str(SECTIONS[section]), format_date(date.fromisoformat(item), "medium", locale=locale)
        if section == "attendees" and item == "other":
            return str(SECTIONS[section]), _("Other")
        return str(SECTIONS.get(section, section)), str(ITEMS.get(item, item))

    return Words(
        label=label,
        sheet=_("Statistics"),
        headings=(_("Section"), _("Item"), _("Value")),
        table_sheet=_("Organizations"),
        table_headings=tuple(str(heading) for heading in TABLE_HEADINGS),
        library_sheet=str(SECTIONS["library"]),
        library_headings=tuple(str(heading) for heading in LIBRARY_HEADINGS),
        title=lambda usage: usage_title(usage, locale),
    )

"""What /audit shows: a page of the trail (newest first) in the viewer's language and time zone,
names escaped, and the buttons that filter and turn the pages."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, datetime
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.i18n import _, format_when
from bot.services.audit import FAMILIES, TrailPage
from bot.services.events import telegram_length
from handlers.audit.callbacks import AuditButton
from handlers.ui import ROLE_LABELS, page_turns
from storage.models import AuditEntry, Role

ACTIONS = {
    "role.granted": __("Role given"),
    "role.revoked": __("Role taken away"),
    "membership.joined": __("Joined"),
    "membership.left": __("Left"),
    "join.requested": __("Asked to join"),
    "join.approved": __("Request to join approved"),
    "join.declined": __("Request to join declined"),
    "organization.created": __("Organization created"),
    "organization.changed": __("Organization changed"),
    "organization.suspended": __("Organization suspended"),
    "organization.archived": __("Organization archived"),
    "organization.restored": __("Organization restored"),
    "organization.invite_rotated": __("Invite link renewed"),
    "organization.quiet_hours": __("Quiet hours changed"),
    "export.survey": __("Survey responses exported"),
    "export.event": __("Event answers exported"),
    "export.training": __("Training list exported"),
    "export.stats": __("Statistics exported"),
    "export.audit": __("Audit trail exported"),
    "broadcast.announcement": __("Announcement sent"),
    "broadcast.survey": __("Survey sent"),
    "broadcast.poll": __("Quick poll sent"),
    "member.deleted": __("Member erased their data"),
    "member.forgotten": __("Member erased their data"),
    "retention.run": __("Inactive members anonymized"),
    "resource.changed": __("Library resource changed"),
    "resource.withdrawn": __("Library resource withdrawn"),
}
RETAINED = __("Inactive member anonymized")  # a "member.deleted" entry of the retention pass
FAMILY_LABELS = {
    "ro": __("👑 Roles"),
    "jo": __("🚪 Joins"),
    "ex": __("📤 Exports"),
    "br": __("📣 Broadcasts"),
    "de": __("🗑 Deletions"),
    "or": __("🏢 Organizations"),
}
assert set(FAMILY_LABELS) == set(FAMILIES)
PAGE_SIZE = 8  # entries a page
DETAILS_MAX = 200  # characters of an entry's details
TEXT_MAX = 4096


SELF_ACTIONS = (
    "member.deleted",
    "member.forgotten",
    "membership.joined",
    "membership.left",
    "join.requested",
)


def _details(entry: AuditEntry, locale: str) -> str:
    """What changed, from the entry's ids and codes (roles in words, moments as dates)."""
    parts = []
    for key, value in sorted(entry.details.items()):
        if key in ("role", "previous") and value in set(Role):
            value = ROLE_LABELS[Role(value)]
        elif key.endswith("_at") and isinstance(value, str):
            with suppress(ValueError):
                value = format_date(datetime.fromisoformat(value), "medium", locale=locale)
        parts.append(f"{key}: {value}")
    text = ", ".join(parts)
    return text if len(text) <= DETAILS_MAX else text[: DETAILS_MAX - 1] + "…"


def entry_lines(entry: AuditEntry, names: dict[str, str], locale: str, zone: str, whole: bool) -> list[str]:
    """One entry: when and what (and, in the whole trail, which organization), who did it to whom,
    and its details."""
    action = str(ACTIONS[entry.action]) if entry.action in ACTIONS else entry.action
    retained = entry.details.get("by") == "retention"
    if retained:
        action = str(RETAINED)
    head = f"<b>{escape(format_when(entry.at, locale, zone))}</b> · {escape(action)}"
    if whole and entry.organization_id:
        head += f" · 🏢 {escape(names.get(f'o{entry.organization_id}', str(entry.organization_id)))}"
    if entry.actor_telegram_id:
        actor = names.get(f"t{entry.actor_telegram_id}") or f"id {entry.actor_telegram_id}"
    elif entry.action in SELF_ACTIONS and not retained:
        actor = _("the member themself")
    else:
        actor = _("the bot")
    who = f"👤 {escape(actor)}"
    if entry.target_member_id and entry.action not in ("member.deleted", "member.forgotten"):
        target = names.get(f"m{entry.target_member_id}") or _("a member who erased their data")
        who += f" → {escape(target)}"
    lines = [head, who]
    if details := _details(entry, locale):
        lines.append(f"<i>{escape(details)}</i>")
    return lines


def filters_line(button: AuditButton, person: str, locale: str) -> str:
    """The filters in force, in words ("" when none)."""
    parts = []
    if button.fam in FAMILY_LABELS:
        parts.append(str(FAMILY_LABELS[button.fam]))
    if person:
        parts.append(f"👤 {escape(person)}")
    if button.first and button.last:
        first, last = (
            format_date(date.fromordinal(day), "medium", locale=locale) for day in (button.first, button.last)
        )
        parts.append(f"📅 {first} – {last}")
    return _("Filters: {filters}").format(filters=" · ".join(parts)) if parts else ""


def page_text(
    page: TrailPage, button: AuditButton, title: str, person: str, locale: str, zone: str, whole: bool
) -> str:
    lines = [_("🧾 <b>Audit trail: {name}</b>").format(name=escape(title))]
    if filters := filters_line(button, person, locale):
        lines.append(filters)
    if not page.entries:
        lines += ["", _("No entries match.") if page.total else _("Nothing has been recorded yet.")]
        return "\n".join(lines)
    first = button.page * PAGE_SIZE + 1
    lines.append(
        _("Entries {first}–{last} of {total}, newest first").format(
            first=format_decimal(first, locale=locale),
            last=format_decimal(first + len(page.entries) - 1, locale=locale),
            total=format_decimal(page.total, locale=locale),
        )
    )
    for entry in page.entries:
        block = ["", *entry_lines(entry, page.names, locale, zone, whole)]
        if telegram_length("\n".join([*lines, *block])) > TEXT_MAX:
            break
        lines += block
    return "\n".join(lines)


def keyboard(button: AuditButton, total: int) -> InlineKeyboardMarkup:
    filters: dict[str, Any] = dict(
        fam=button.fam, member=button.member, actor=button.actor, first=button.first, last=button.last
    )
    builder = InlineKeyboardBuilder()
    for code, label in FAMILY_LABELS.items():
        chosen = code == button.fam
        builder.button(
            text=("✅ " if chosen else "") + str(label),
            callback_data=AuditButton(action="page", **(filters | {"fam": "" if chosen else code})),
        )
    builder.button(text=_("👤 Person"), callback_data=AuditButton(action="who", **filters))
    builder.button(text=_("📅 Dates"), callback_data=AuditButton(action="dates", **filters))
    sizes = [3, 3, 2]
    if any((button.fam, button.member, button.actor, button.first)):
        builder.button(text=_("✖️ Clear the filters"), callback_data=AuditButton(action="page"))
        sizes.append(1)
    paging = page_turns(button.page, PAGE_SIZE, total)
    for label, page in paging:
        builder.button(text=label, callback_data=AuditButton(action="page", page=page, **filters))
    if paging:
        sizes.append(len(paging))
    builder.button(text=_("📄 CSV"), callback_data=AuditButton(action="csv", **filters))
    sizes.append(1)
    builder.adjust(*sizes)
    return builder.as_markup()

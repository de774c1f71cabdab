"""Labels and small helpers shared by several capabilities' handlers."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from bot.i18n import _
from bot.services.members import INTERESTS
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
    """The member's time zone, else the organization's (`ctx.zone` in handlers that take `ctx`)."""
    return (member.timezone if member else None) or organization.timezone


def not_set() -> str:
    return _("not set")


def locale_now() -> str:
    return I18n.get_current().current_locale


def page_turns(page: int, size: int, total: int) -> list[tuple[str, int]]:
    """The ◀️ / ▶️ buttons under page `page` (from 0) of `total` items shown `size` at a time, each
    with the page it opens."""
    turns = [("◀️", page - 1)] if page > 0 else []
    return turns + ([("▶️", page + 1)] if (page + 1) * size < total else [])

"""What the delivery engine sends about join requests: the request each admin gets (with Approve
and Decline) and the answer the member gets. Callers set the gettext locale (the reader's language).
"""

from __future__ import annotations

from html import escape

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import format_list, language_name
from bot.services.geo import country_name
from bot.services.memberships import organization_text
from storage.models import Member, Organization
from storage.types import RowId


class JoinDecision(CallbackData, prefix="jreq"):
    """An admin's answer to a join request (re-checked on the server: who presses, which request)."""

    request: RowId
    approve: bool


def applicant_name(member: Member | None) -> str:
    """How admins know the applicant: the name they chose, else their @username."""
    if member is not None and member.display_name:
        return member.display_name
    if member is not None and member.username:
        return f"@{member.username}"
    return _("A new member")


def request_text(organization: Organization, applicant: Member | None, locale: str) -> str:
    """The request as an admin reads it: who asks to join which organization, and what the
    applicant's profile says of them (the organization's staff may see it: the privacy notice)."""
    name = escape(organization_text(organization, "name", locale))
    lines = [
        _("📨 <b>Request to join {organization}</b>").format(organization=name),
        "",
        _("{name} would like to join.").format(name=f"<b>{escape(applicant_name(applicant))}</b>"),
    ]
    if applicant is not None:
        residence = format_list(
            [applicant.residence_city or "", country_name(applicant.residence_country, locale)],
            locale,
            "parts",
        )
        facts = [
            (_("Lives in"), residence),
            (_("Country of origin"), country_name(applicant.origin_country, locale)),
            (_("Language"), language_name(applicant.language) if applicant.language else ""),
        ]
        lines += [f"{escape(label)}: {escape(value)}" for label, value in facts if value]
    return "\n".join(lines)


def request_keyboard(request_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Approve"), callback_data=JoinDecision(request=request_id, approve=True))
    builder.button(text=_("❌ Decline"), callback_data=JoinDecision(request=request_id, approve=False))
    builder.adjust(2)
    return builder.as_markup()


def decision_text(organization: Organization, approved: bool, locale: str) -> str:
    """What the member is told of the admins' answer."""
    name = escape(organization_text(organization, "name", locale))
    if approved:
        return _(
            "🎉 Your request to join <b>{organization}</b> was approved: you are now a member. "
            "Its news and events will reach you. /orgs lists your organizations."
        ).format(organization=name)
    return _(
        "Your request to join <b>{organization}</b> was declined. You can find other organizations "
        "with /directory."
    ).format(organization=name)

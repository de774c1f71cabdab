"""Joint positions' texts shared by the staff's handlers and the delivery engine: a position's
title and statement in the reader's language, an organization admin's request (with its current
answer and the buttons offering the other), the drafter's "‹organization› endorses" notice, and the
refusals of `PositionError`. User-written text is always escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import lazy_gettext as __

from bot.i18n import _, format_list, format_when, ngettext
from bot.services.organizations import organization_text
from bot.services.positions.drafts import PositionError
from bot.services.positions.endorsements import Request
from bot.services.positions.submission import texts_in
from bot.services.text import clip
from storage.models import EndorsementDecision, Organization, Position, PositionStatus

BUTTON_NAME_MAX: Final = 32  # an organization's name inside a button's label
NAMES_MAX: Final = 800  # a list of organizations' names on a card

STATUS_LABELS: Final = {
    PositionStatus.DRAFT: __("📝 Draft"),
    PositionStatus.OPEN: __("🟢 Open"),
    PositionStatus.CLOSED: __("🔒 Closed"),
    PositionStatus.WITHDRAWN: __("↩️ Withdrawn"),
}
DECISION_LABELS: Final = {
    EndorsementDecision.PENDING: __("⏳ Not answered yet"),
    EndorsementDecision.ENDORSED: __("✅ Endorsed"),
    EndorsementDecision.DECLINED: __("❌ Declined"),
}


def name_of(organization: Organization | None, language: str) -> str:
    return organization_text(organization, "name", language) if organization is not None else "—"


def names(organizations: Sequence[Organization], language: str) -> str:
    """Organizations' names in the reader's language, as a list (cut after `NAMES_MAX`)."""
    listed = format_list([name_of(item, language) for item in organizations], language)
    return escape(clip(listed, NAMES_MAX)) or "—"


def refusal(error: PositionError) -> str:
    texts = {
        "title_empty": _("That looks empty. Please type your answer."),
        "statement_empty": _("That looks empty. Please type your answer."),
        "addressee_empty": _("That looks empty. Please type your answer."),
        "title_too_long": _("That is too long: {limit} characters at most."),
        "deadline_past": _("The deadline has passed. Please choose a date and time to come (✏️ Edit)."),
        "incomplete": _("The title, the statement, the addressee and the deadline are all needed."),
        "target_all": _("Only the confederation's staff can ask every organization."),
    }
    if error.reason.endswith("_too_long"):
        return texts["title_too_long"].format(limit=error.limit)
    return texts.get(error.reason, texts["incomplete"])


def head_lines(position: Position, language: str, zone: str) -> list[str]:
    """Title, addressee and deadline (in the reader's language and zone)."""
    title, _statement = texts_in(position, language)
    lines = [f"<b>{escape(title)}</b>", _("To: {addressee}").format(addressee=escape(position.addressee))]
    if position.deadline is not None:
        when = format_when(position.deadline, language, zone)
        lines.append(_("📅 Deadline: {when}").format(when=escape(when)))
    return lines


def request_text(request: Request, language: str, zone: str) -> str:
    """What an admin of the organization asked reads: who asks, the position, its statement, and
    the organization's current answer."""
    position = request.position
    _title, statement = texts_in(position, language)
    lines = [
        _("📢 <b>{drafting}</b> asks {organization} to endorse a joint position.").format(
            drafting=escape(name_of(request.drafting, language)),
            organization=escape(name_of(request.asked, language)),
        ),
        "",
        *head_lines(position, language, zone),
        "",
        escape(statement),
        "",
        _("Your organization's answer: {answer}").format(
            answer=DECISION_LABELS[request.endorsement.decision]
        ),
    ]
    if position.signatures_open:
        lines.append(_("Members may also add their names."))
    lines.append(_("You can change the answer until the deadline."))
    return "\n".join(lines)


def request_keyboard(request: Request, language: str) -> InlineKeyboardMarkup:
    """Endorse and Decline while unanswered; then the other answer only."""
    from handlers.positions.callbacks import Endorsement  # the buttons' data lives with their handlers

    endorsement = request.endorsement
    ident = endorsement.id or 0
    buttons = []
    if endorsement.decision != EndorsementDecision.ENDORSED:
        label = _("✅ Endorse on behalf of {organization}").format(
            organization=clip(name_of(request.asked, language), BUTTON_NAME_MAX)
        )
        buttons.append(
            InlineKeyboardButton(text=label, callback_data=Endorsement(action="endorse", id=ident).pack())
        )
    if endorsement.decision != EndorsementDecision.DECLINED:
        buttons.append(
            InlineKeyboardButton(
                text=_("❌ Decline"), callback_data=Endorsement(action="decline", id=ident).pack()
            )
        )
    return InlineKeyboardMarkup(inline_keyboard=[[button] for button in buttons])


def endorsed_text(
    position: Position, endorser: Organization | None, endorsing: Sequence[Organization], language: str
) -> str:
    """The drafter's notice: who endorsed now, and every endorsing organization so far."""
    title, _statement = texts_in(position, language)
    count = len(endorsing)
    return "\n".join(
        [
            _("✅ {organization} endorses your joint position “{title}”.").format(
                organization=escape(name_of(endorser, language)), title=escape(title)
            ),
            ngettext(
                "Endorsed so far by {count} organization: {names}",
                "Endorsed so far by {count} organizations: {names}",
                count,
            ).format(count=count, names=names(endorsing, language)),
        ]
    )


def closed_text() -> str:
    return _("This position no longer takes answers: its deadline has passed, or it was closed or withdrawn.")

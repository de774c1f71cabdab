"""What a member reads of joint positions: a page of the list, a card (in as many messages as
Telegram's 4096-character limit needs, the buttons on the last), the consent text before adding
their name, and the answers to their buttons. Title and statement in the reader's language when
the drafter translated them; everything written by people escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import _, format_list, format_when, language_name, ngettext
from bot.services.geo import country_name
from bot.services.organizations import organization_text
from bot.services.positions.signatures import Outcome, Shared
from bot.services.positions.visibility import PAGE_SIZE, PositionFacts, reads_in
from bot.services.rows import Page
from bot.services.text import telegram_length
from handlers.positions.callbacks import PositionMember
from handlers.ui import page_turns
from storage.models import Organization, Position, PositionStatus

MESSAGE_MAX: Final = 4096
STATEMENT_PARTS: Final = 3  # a statement longer than this many messages is cut, and says so
PIECE: Final = 4000  # room for a piece of the statement in one message
ENDORSERS_BUDGET: Final = 2500  # the endorsing organizations' names on a card, at most


def title_in(position: Position, language: str) -> str:
    entry = (position.translations or {}).get(language)
    title = entry.get("title") if isinstance(entry, dict) else None
    return str(title or position.title)


def statement_in(position: Position, language: str) -> str:
    entry = (position.translations or {}).get(language)
    statement = entry.get("statement") if isinstance(entry, dict) else None
    return str(statement or position.statement)


def status_line(position: Position, locale: str, zone: str, now: datetime) -> str:
    """🟢 Open until <deadline> (in the member's zone and locale), or 🔒 Closed on <date>."""
    past = position.deadline is not None and position.deadline <= now
    if position.status == PositionStatus.OPEN and not past:
        if position.deadline is None:
            return _("🟢 Open")
        return _("🟢 Open until {when}").format(when=escape(format_when(position.deadline, locale, zone)))
    closed = position.closed_at or position.deadline or now
    return _("🔒 Closed on {when}").format(when=escape(format_when(closed, locale, zone)))


def endorsers_line(count: int) -> str:
    return ngettext(
        "✅ {count} organization endorses it", "✅ {count} organizations endorse it", count
    ).format(count=count)


def list_view(
    found: Page[Position], counts: dict[int, int], locale: str, zone: str, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of /positions: one entry per position, number buttons open the cards."""
    lines = [_("📢 <b>Joint positions</b>")]
    builder = InlineKeyboardBuilder()
    if found.total == 0:
        lines += ["", _("No joint position is open to you yet. You will find them here when there is one.")]
        return "\n".join(lines), builder.as_markup()
    first, last = found.offset + 1, found.offset + len(found.items)
    shown = ngettext("{first}–{last} of {total} position", "{first}–{last} of {total} positions", found.total)
    lines.append(shown.format(first=first, last=last, total=found.total))
    for number, position in enumerate(found.items, start=first):
        entry = f"{number}. <b>{escape(title_in(position, locale))}</b>"
        if not reads_in(position, locale):
            entry += f" (🌐 {escape(language_name(position.language))})"
        status = status_line(position, locale, zone, now)
        lines += ["", entry, f"{status} · {endorsers_line(counts.get(position.id or 0, 0))}"]
        builder.button(text=str(number), callback_data=PositionMember(action="open", id=position.id or 0))
    builder.adjust(5)
    turns = [
        InlineKeyboardButton(text=arrow, callback_data=PositionMember(action="list", page=page).pack())
        for arrow, page in page_turns(found.offset // PAGE_SIZE, PAGE_SIZE, found.total)
    ]
    if turns:
        builder.row(*turns)
    return "\n".join(lines), builder.as_markup()


def card_keyboard(position: Position, signed: bool, refusal: Outcome | None) -> InlineKeyboardMarkup:
    """✍️ Add my name while names are collected, ↩️ Withdraw my name until the deadline (even if the
    drafters stopped collecting names since), and back to the list. `refusal`: `signing_refusal`."""
    builder = InlineKeyboardBuilder()
    ident = position.id or 0
    if signed and refusal in (None, Outcome.NOT_COLLECTED):
        withdraw = PositionMember(action="withdraw", id=ident)
        builder.button(text=_("↩️ Withdraw my name"), callback_data=withdraw)
    elif not signed and refusal is None:
        builder.button(text=_("✍️ Add my name"), callback_data=PositionMember(action="sign", id=ident))
    builder.button(text=_("⬅️ Back"), callback_data=PositionMember(action="list"))
    builder.adjust(1)
    return builder.as_markup()


def statement_pieces(text: str, budget: int = PIECE, parts: int = STATEMENT_PARTS) -> list[str]:
    """The statement escaped, in at most `parts` pieces of at most `budget` UTF-16 units each (cut
    at a paragraph, a line or a space when one is near); what does not fit ends with a marker."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        if telegram_length(escape(rest)) <= budget:
            pieces.append(escape(rest))
            break
        if len(pieces) == parts - 1:
            marker = "\n\n" + _("✂️ The statement is too long to show here in full.")
            pieces.append(escape(rest[: _fitting(rest, budget - telegram_length(marker) - 1)]) + "…" + marker)
            break
        cut = _fitting(rest, budget)
        for separator in ("\n\n", "\n", " "):
            at = rest.rfind(separator, 0, cut)
            if at > cut // 2:
                cut = at
                break
        pieces.append(escape(rest[:cut].rstrip()))
        rest = rest[cut:].lstrip()
    return pieces


def _fitting(text: str, budget: int) -> int:
    """How many characters of `text` fit in `budget` UTF-16 units once escaped."""
    used = 0
    for index, character in enumerate(text):
        used += telegram_length(escape(character))
        if used > budget:
            return index
    return len(text)


def card_messages(
    position: Position, facts: PositionFacts, locale: str, zone: str, now: datetime, link: str
) -> list[str]:
    """The card as one message, or, when the statement would take it over Telegram's limit, the
    head, the statement in pieces, then the rest (where the buttons go)."""
    head = [f"📢 <b>{escape(title_in(position, locale))}</b>", status_line(position, locale, zone, now)]
    if position.addressee:
        head.append(_("📬 Addressed to: {addressee}").format(addressee=escape(position.addressee)))
    if facts.drafter is not None:
        name = organization_text(facts.drafter, "name", locale)
        head.append(_("🏛 Drafted by: {organization}").format(organization=escape(name)))
    if not reads_in(position, locale):
        head.append(_("🌐 Written in {language}").format(language=escape(language_name(position.language))))
    tail = [endorsed_by(facts.endorsers, locale)]
    if position.signatures_open:
        tail.append(
            ngettext(
                "✍️ {count} member added their name", "✍️ {count} members added their names", facts.signatures
            ).format(count=facts.signatures)
        )
    if facts.mine is not None:
        when = format_when(facts.mine.consented_at, locale, zone)
        tail.append(_("✍️ You added your name on {when}.").format(when=escape(when)))
    tail.append(_("Share: {link}").format(link=escape(link)))
    statement = statement_in(position, locale)
    whole = "\n".join(head) + "\n\n" + escape(statement) + "\n\n" + "\n".join(tail)
    if telegram_length(whole) <= MESSAGE_MAX:
        return [whole]
    return ["\n".join(head), *statement_pieces(statement), "\n".join(tail)]


def endorsed_by(organizations: Sequence[Organization], locale: str, budget: int = ENDORSERS_BUDGET) -> str:
    """ "✅ 3 organizations endorse it: A, B and C"; a list too long for the card ends with
    "… and 40 more" (the submission has them all)."""
    if not organizations:
        return _("No organization has endorsed it yet.")
    names = [escape(organization_text(organization, "name", locale)) for organization in organizations]
    head = endorsers_line(len(names)) + ": "
    shown: list[str] = []
    for name in names:
        if telegram_length(name) + sum(telegram_length(item) + 2 for item in shown) > budget:
            break
        shown.append(name)
    if len(shown) == len(names):
        return head + format_list(names, locale)
    return head + ", ".join(shown) + " " + _("… and {count} more").format(count=len(names) - len(shown))


def consent_text(
    position: Position, what: Shared, drafter: Organization | None, locale: str, zone: str
) -> str:
    """What adding one's name shares (the real values), with whom, until when, and how to take it back."""
    country = country_name(what.country, locale) if what.country else _("not given")
    drafter_name = organization_text(drafter, "name", locale) if drafter is not None else ""
    lines = [
        _("✍️ <b>Add your name to “{title}”?</b>").format(title=escape(title_in(position, locale))),
        "",
        _(
            "If you agree, this is shared with {addressee} and with {organization}, "
            "which drafted the position:"
        ).format(addressee=escape(position.addressee or "—"), organization=escape(drafter_name or "—")),
        _("• your name: {name}").format(name=f"<b>{escape(what.display_name)}</b>"),
        _("• your country of residence: {country}").format(country=f"<b>{escape(country)}</b>"),
        "",
    ]
    if position.keep_until is not None:
        when = format_when(position.keep_until, locale, zone)
        lines.append(_("Both are kept until {when}, then deleted.").format(when=escape(when)))
    else:
        lines.append(_("Both are kept until you withdraw your name or send /forget."))
    if position.deadline is not None:
        when = format_when(position.deadline, locale, zone)
        withdraw = _("You can withdraw your name until {when}; /forget removes it too.")
        lines.append(withdraw.format(when=escape(when)))
    else:
        lines.append(_("You can withdraw your name while the position is open; /forget removes it too."))
    return "\n".join(lines)


def consent_keyboard(position_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ I agree"), callback_data=PositionMember(action="consent", id=position_id))
    builder.button(text=_("No, thanks"), callback_data=PositionMember(action="cancel", id=position_id))
    builder.adjust(2)
    return builder.as_markup()


def outcome_text(outcome: Outcome) -> str:
    """The answer to ✍️ / ✅ / ↩️, in the reader's language."""
    texts = {
        Outcome.SIGNED: _("✅ Your name is added. You can withdraw it until the deadline."),
        Outcome.ALREADY: _("Your name is already under this position: nothing changed."),
        Outcome.WITHDRAWN: _("↩️ Your name is withdrawn."),
        Outcome.NOT_SIGNED: _("Your name is not under this position: nothing changed."),
        Outcome.NOT_COLLECTED: _("This position does not collect members' names."),
        Outcome.CLOSED: _("This position is closed: names can no longer be added or withdrawn."),
        Outcome.PAST_DEADLINE: _("The deadline has passed: names can no longer be added or withdrawn."),
        Outcome.NO_NAME: _("Please add your name in /profile first."),
    }
    return texts[outcome]

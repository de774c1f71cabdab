"""What the event handlers show (and the delivery code does not): the organizer's preview card,
/myevents list, management card and keyboards, attendee list and check-in code; the member's
/events list and card with their own answer. Built from rows the services return; every
organizer-written value is escaped. (Cards the delivery code also sends: `bot.views.events`.)"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from html import escape
from typing import Final

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _, ngettext
from bot.services import events as service
from bot.services.origins import origin_name, origin_names
from bot.services.versions import title_in
from bot.views.events import CardEvent, EventAction, card_keyboard, event_card, when_text
from bot.views.origin import origin_line
from handlers.events.callbacks import EventAdmin
from handlers.events.texts import event_title
from storage.models import Event, EventStatus, Member, Organization, RsvpStatus
from storage.types import utcnow

PAGE_SIZE: Final = 5  # events per page, in /myevents and /events
TOGGLES: Final = 20  # attendance buttons per attendee page
TEXT_BUDGET: Final = 3900  # stay clear of Telegram's 4096


def markup(builder: InlineKeyboardBuilder, *sizes: int) -> InlineKeyboardMarkup | None:
    if not list(builder.buttons):
        return None
    builder.adjust(*(sizes or (1,)))
    return builder.as_markup()


def admin_keyboard(
    ident: int, choices: Iterable[tuple[str, str, str]], *sizes: int
) -> InlineKeyboardMarkup | None:
    """Organizer buttons about one event (0: the /newevent dialog's questions), each (text, action,
    value), one a row unless `sizes` says otherwise."""
    builder = InlineKeyboardBuilder()
    for text, action, value in choices:
        builder.button(text=text, callback_data=EventAdmin(action=action, id=ident, value=value))
    return markup(builder, *sizes)


# -- the organizer's side -------------------------------------------------------------------------


async def preview_card(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    locale: str,
    zone: str,
    version: str | None = None,
) -> str:
    """The card as members see it (in `locale`, the organizer's zone)."""
    counts = await service.counts(session, event.id or 0)
    chosen = version or service.version_for(event, locale, organization.default_language)
    origin = await origin_name(session, event.organization_id, locale)
    return event_card(event, chosen, locale, zone, counts, origin=origin)


async def list_page(
    session: AsyncSession,
    organization: Organization,
    offset: int,
    locale: str,
    zone: str,
    *,
    past: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of /myevents: drafts and events still taking check-in codes (soonest first, those
    happening now marked), or with `past` the events after that (latest first), with their counts.
    Each opens the event's card: the code and the attendance stay reachable."""
    offset, now = max(0, offset), utcnow()
    page = await service.organizer_events(session, organization.id or 0, now, offset, PAGE_SIZE, past=past)
    if not page.events and offset > 0:  # the list got shorter since that button was sent
        offset = 0
        page = await service.organizer_events(session, organization.id or 0, now, 0, PAGE_SIZE, past=past)
    builder = InlineKeyboardBuilder()
    other = EventAdmin(action="page", id=0, value="" if past else "past")
    switch = _("🗓 Upcoming events") if past else _("🕘 Past events")
    if not page.events:
        empty = (
            _("There are no past events yet.")
            if past
            else _("There are no upcoming events. /newevent creates one.")
        )
        builder.button(text=switch, callback_data=other)
        return empty, builder.as_markup()
    header = (
        _("🕘 <b>Past events</b> ({first}–{last} of {total})")
        if past
        else _("🗓 <b>Upcoming events</b> ({first}–{last} of {total})")
    )
    lines = [header.format(first=offset + 1, last=offset + len(page.events), total=page.total)]
    for number, event in enumerate(page.events, start=offset + 1):
        title = event_title(event, locale, organization)
        counts = await service.counts(session, event.id or 0)
        status = " · " + _("📝 draft") if event.status == EventStatus.DRAFT else ""
        if event.status == EventStatus.PUBLISHED and not past and event.starts_at <= now:
            status += " · " + _("🟢 happening now")
        repeat = " 🔁" if event.series_id else ""
        lines += [
            "",
            f"{number}. <b>{escape(title)}</b>{repeat}{status}",
            f"🕒 {escape(when_text(event, locale, zone))}",
            _("✅ Going: {going} · 🤔 Maybe: {maybe}").format(
                going=counts[RsvpStatus.GOING], maybe=counts[RsvpStatus.MAYBE]
            ),
        ]
        label = f"{number}. {title}"
        builder.button(
            text=label if len(label) <= 40 else label[:39] + "…",
            callback_data=EventAdmin(action="open", id=event.id or 0),
        )
    sizes = [1] * len(page.events)
    navigation = 0
    value = "past" if past else ""
    if offset > 0:
        builder.button(
            text="◀️", callback_data=EventAdmin(action="page", id=max(0, offset - PAGE_SIZE), value=value)
        )
        navigation += 1
    if offset + PAGE_SIZE < page.total:
        builder.button(text="▶️", callback_data=EventAdmin(action="page", id=offset + PAGE_SIZE, value=value))
        navigation += 1
    if navigation:
        sizes.append(navigation)
    builder.button(text=switch, callback_data=other)
    sizes.append(1)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def manage_keyboard(event: Event, now: datetime | None = None) -> InlineKeyboardMarkup | None:
    """The organizer's buttons; once the event is over only its attendance remains (and the code
    while check-in still takes it)."""
    now = now or utcnow()
    choices = [(_("👥 Attendees"), "att", ""), (_("📄 CSV"), "csv", "")]
    over = event.status == EventStatus.PUBLISHED and service.effective_end(event) <= now
    if not over:
        choices.append((_("✏️ Edit"), "edit", ""))
    if not over or now <= service.effective_end(event) + service.CHECKIN_AFTER:
        choices.append((_("🔑 Check-in code"), "code", ""))
    if event.status == EventStatus.DRAFT:
        choices += [(_("📤 Publish"), "publish", "manage"), (_("🗑 Discard"), "discard", "")]
    elif not over:
        choices += [(_("📢 Post in a group"), "group", ""), (_("✖ Cancel event"), "cancel", "")]
    return admin_keyboard(event.id or 0, choices, 2)


async def manage_text(
    session: AsyncSession, event: Event, organization: Organization, locale: str, zone: str
) -> str:
    head = _("🗓 Event #{id}").format(id=event.id)
    if event.status == EventStatus.DRAFT:
        head += " · " + _("📝 draft, not published yet")
    if event.series_id:
        head += " · " + _("🔁 repeating")
    return head + "\n\n" + await preview_card(session, event, organization, locale, zone)


def code_text(event: Event, organization: Organization, locale: str) -> str:
    title = event_title(event, locale, organization)
    return _(
        "🔑 Check-in code for “{title}”: <code>{code}</code>\n\n"
        "Members send this code to the bot during the event (from an hour before the start until an "
        "hour after the end) and their attendance is recorded. Show it on a screen or read it out."
    ).format(title=escape(title), code=escape(event.checkin_code or ""))


def _who(row: service.Attendee) -> str:
    """An attendee as HTML (escaped)."""
    name = escape(row.name) if row.name else _("member #{id}").format(id=row.member_id)
    return f"{name} (@{escape(row.username)})" if row.username else name


async def attendees_view(
    session: AsyncSession, event: Event, organization: Organization, locale: str, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Counts, then everyone who answered by status (as much as fits in one message), and a page
    of attendance toggles for those going."""
    rows = await service.attendees(session, event.id or 0)
    counts = await service.counts(session, event.id or 0)
    title = event_title(event, locale, organization)
    lines = [
        _("👥 <b>{title}</b>").format(title=escape(title)),
        _("✅ Going: {going} · 🤔 Maybe: {maybe} · ❌ Can't go: {no}").format(
            going=counts[RsvpStatus.GOING], maybe=counts[RsvpStatus.MAYBE], no=counts[RsvpStatus.NOT_GOING]
        ),
        _("⏳ Waitlist: {waiting} · 🎟 Offered a seat: {offered}").format(
            waiting=counts[RsvpStatus.WAITLISTED], offered=counts[RsvpStatus.OFFERED]
        ),
    ]
    sections = (
        (RsvpStatus.GOING, _("<b>Going</b>")),
        (RsvpStatus.OFFERED, _("<b>Offered a seat</b>")),
        (RsvpStatus.MAYBE, _("<b>Maybe</b>")),
        (RsvpStatus.WAITLISTED, _("<b>Waitlist</b>")),
        (RsvpStatus.NOT_GOING, _("<b>Can't go</b>")),
    )
    going = [row for row in rows if row.status == RsvpStatus.GOING]
    footer = [_("Tap a name below to mark who attended (✔️).")] if going else []
    used = sum(len(line) + 1 for line in lines + footer) + 120
    shown = 0
    for status, heading in sections:
        group = [row for row in rows if row.status == status]
        if not group:
            continue
        if used + len(heading) + 2 > TEXT_BUDGET:
            break
        lines += ["", heading]
        used += len(heading) + 2
        for number, row in enumerate(group, start=1):
            line = f"{number}. {_who(row)}" + (" ✔️" if row.attended else "")
            if used + len(line) + 1 > TEXT_BUDGET:
                break
            lines.append(line)
            used += len(line) + 1
            shown += 1
    if shown < len(rows):
        lines += ["", _("…and {count} more: the CSV file has everyone.").format(count=len(rows) - shown)]
    if footer:
        lines += ["", *footer]
    builder = InlineKeyboardBuilder()
    offset = max(0, min(offset, max(0, len(going) - 1)))
    offset -= offset % TOGGLES
    for row in going[offset : offset + TOGGLES]:
        name = row.name or (f"@{row.username}" if row.username else f"#{row.member_id}")
        label = f"{'✅' if row.attended else '▫️'} {name}"
        builder.button(
            text=label if len(label) <= 40 else label[:39] + "…",
            callback_data=EventAdmin(action="mark", id=event.id or 0, member=row.member_id, page=offset),
        )
    sizes = [2] * ((min(TOGGLES, len(going) - offset) + 1) // 2) if going else []
    navigation = 0
    if offset > 0:
        builder.button(
            text="◀️",
            callback_data=EventAdmin(action="att", id=event.id or 0, value="nav", page=offset - TOGGLES),
        )
        navigation += 1
    if offset + TOGGLES < len(going):
        builder.button(
            text="▶️",
            callback_data=EventAdmin(action="att", id=event.id or 0, value="nav", page=offset + TOGGLES),
        )
        navigation += 1
    if navigation:
        sizes.append(navigation)
    return "\n".join(lines), markup(builder, *sizes)


# -- the member's side ----------------------------------------------------------------------------


async def member_card(
    session: AsyncSession,
    event: CardEvent,
    member: Member | None,
    organization: Organization,
    locale: str,
    zone: str,
    known: tuple[RsvpStatus, int | None] | None = None,
    counts: dict[RsvpStatus, int] | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card in the member's version and zone, with their answer (and place in line): `known`
    when the caller has just written them, else read; the answers per status likewise."""
    version = service.version_for(event, member.language if member else locale, organization.default_language)
    if counts is None:
        counts = await service.counts(session, event.id or 0)
    answer: RsvpStatus | None = None
    position: int | None = None
    if known is not None:
        answer, position = known
    elif member is not None and member.id is not None:
        mine = await service.my_answer(session, event.id or 0, member.id)
        answer = mine.status if mine else None
        position = await service.place_in_line(session, mine) if mine is not None else None
    origin = await origin_name(session, event.organization_id, locale)
    text = event_card(event, version, locale, zone, counts, answer, position, origin)
    return text, card_keyboard(event, answer)


async def events_page(
    session: AsyncSession,
    member: Member | None,
    organization: Organization,
    locale: str,
    zone: str,
    offset: int,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of /events: the upcoming published events of the member's organizations and those
    open to every organization, the member's own answer marked (and each one's organization, when
    the deployment shows it)."""
    page = await service.upcoming_events(session, None, member, utcnow(), offset, PAGE_SIZE)
    origins = await origin_names(session, locale)
    if not page.events:
        return _("No upcoming events right now. You'll hear from me when there is one!"), None
    lines = [
        ngettext("📅 <b>{count} upcoming event</b>", "📅 <b>{count} upcoming events</b>", page.total).format(
            count=page.total
        ),
        "",
    ]
    rows: list[list[InlineKeyboardButton]] = []  # built directly: the builder deep-copies per button
    marks = {RsvpStatus.GOING: " ✅", RsvpStatus.MAYBE: " 🤔", RsvpStatus.WAITLISTED: " ⏳"}
    language = member.language if member else locale
    for number, event in enumerate(page.events, start=offset + 1):
        version = service.version_for(event, language, organization.default_language)
        title = title_in(event, version)
        mark = marks.get(page.answers.get(event.id or 0), "")  # type: ignore[arg-type]
        lines.append(f"{number}. <b>{escape(title)}</b>{mark}\n    {escape(when_text(event, locale, zone))}")
        if origin := origins.get(event.organization_id):
            lines.append(f"    {origin_line(origin)}")
        rows.append([_button(f"{number}. {title}"[:60], "open", event.id)])
    navigation = []
    if offset > 0:
        navigation.append(("◀", max(0, offset - PAGE_SIZE)))
    if offset + PAGE_SIZE < page.total:
        navigation.append(("▶", offset + PAGE_SIZE))
    if navigation:
        rows.append([_button(label, "page", target) for label, target in navigation])
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


@lru_cache(maxsize=4096)
def _button(text: str, action: str, ident: int) -> InlineKeyboardButton:
    """A /events button, built once per text and target: building one (pydantic's validation and
    the callback data's) was most of the page's own Python work; a button is frozen, so every page
    showing it may share it."""
    return InlineKeyboardButton(text=text, callback_data=EventAction(action=action, id=ident).pack())

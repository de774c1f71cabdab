"""Events: validation, publishing, RSVPs with capacity and a waitlist, changes and cancellations.

Nothing here sends. Every notification decision is an `EventNotice` row, and its outbox rows
(kind "event_notice", ref_id = the notice id) are written in the caller's transaction, so the
decision and the messages commit together. Reminders are in `bot.services.reminders`.

Seat counting: every transaction that can change who holds a seat (a tap, confirming or expiring
an offer, a capacity change, a check-in) starts with
`UPDATE events SET rsvp_seq = rsvp_seq + 1 WHERE id = :id ... RETURNING ...`. On PostgreSQL that
holds the event's row lock until commit; on SQLite it takes the database write lock (pysqlite
begins the transaction only at the first write, so reading first would race). Counting seats
after it is safe on both, and the returned number is the tap's place in tap order.
"""

from __future__ import annotations

import csv
import io
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import (
    AUDIENCE_KEYS,
    audience_filter,
    count_members,
    member_pages,
    pick_version,
    spreadsheet_cell,
)
from bot.services.schedule_math import after_quiet_hours
from bot.services.text import TextRejected, clean_line
from storage.models import (
    DeliveryStatus,
    Event,
    EventNotice,
    EventStatus,
    Member,
    Membership,
    MemberStatus,
    Organization,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpStatus,
)

NOTICE_KIND = "event_notice"  # outbox kind of every notice; reminders use "reminder"
MUTE_TOPIC = "events"  # members who muted this interest get no "published" notices
TITLE_MAX = 200
DESCRIPTION_MAX = 3000  # with title, place and link the card stays under Telegram's 4096
PLACE_MAX = 300
URL_MAX = 500
CAPACITY_MAX = 100_000
CLAIM_WINDOW_MAX = 168  # hours
OFFSET_MAX = 28 * 24 * 60  # minutes: reminders up to four weeks ahead
OFFSETS_MAX = 5
DEFAULT_DURATION = timedelta(hours=2)  # when an event has no end
CHECKIN_BEFORE = timedelta(hours=1)  # check-in opens this long before the start
CHECKIN_AFTER = timedelta(hours=1)  # ... and closes this long after the end
CHOICES = (RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.NOT_GOING)
HOLDS_SEAT = (RsvpStatus.GOING, RsvpStatus.OFFERED)
# Who hears about a change or a cancellation: everyone still interested.
AFFECTED = (RsvpStatus.GOING, RsvpStatus.MAYBE, RsvpStatus.WAITLISTED, RsvpStatus.OFFERED)
NOTIFY_FIELDS = ("starts_at", "ends_at", "place", "online_url")  # changes members are told about
EDITABLE = (
    "title",
    "description",
    "language",
    "translations",
    "starts_at",
    "ends_at",
    "timezone",
    "place",
    "online_url",
    "capacity",
    "rsvp_deadline",
    "claim_window_hours",
    "reminder_offsets",
    "audience",
)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class EventError(Exception):
    """A refused event operation; `reason` is a stable code the handlers translate.

    Validation: "title_empty", "title_too_long", "description_too_long", "place_too_long",
    "bad_url", "capacity_range", "claim_window_range", "offsets_range", "bad_timezone",
    "bad_audience", "bad_language", "past_start", "end_before_start", "deadline_after_start",
    "deadline_in_past". State: "not_found", "not_editable", "closed" (a draft), "cancelled",
    "event_past", "deadline_passed", "offer_expired", "bad_code". Series (`recurrence`):
    "bad_rule", "series_empty", "count_range", "duration_range".
    `limit` is the maximum for the "…_too_long" and "…_range" reasons.
    """

    def __init__(self, reason: str, limit: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


# -- validation --------------------------------------------------------------------------------


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def validate_title(text: str) -> str:
    try:
        title = clean_line(text, TITLE_MAX)
    except TextRejected as error:
        reason = "title_empty" if error.reason == "empty" else "title_too_long"
        raise EventError(reason, TITLE_MAX) from None
    if telegram_length(title) > TITLE_MAX:
        raise EventError("title_too_long", TITLE_MAX)
    return title


def validate_description(text: str | None) -> str:
    description = unicodedata.normalize("NFC", text or "").strip()
    if telegram_length(description) > DESCRIPTION_MAX:
        raise EventError("description_too_long", DESCRIPTION_MAX)
    return description


def validate_place(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        place = clean_line(text, PLACE_MAX)
    except TextRejected:
        raise EventError("place_too_long", PLACE_MAX) from None
    if telegram_length(place) > PLACE_MAX:
        raise EventError("place_too_long", PLACE_MAX)
    return place


def validate_url(text: str | None) -> str | None:
    """An http(s) link with a host, or None."""
    if text is None or not text.strip():
        return None
    url = text.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        raise EventError("bad_url") from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or "." not in parts.hostname
        or any(char.isspace() for char in url)
        or len(url) > URL_MAX
    ):
        raise EventError("bad_url")
    return url


def _bounded(value: int | str | None, low: int, high: int, reason: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise EventError(reason, high)
    try:
        number = int(value.strip()) if isinstance(value, str) else int(value)
    except ValueError:
        raise EventError(reason, high) from None
    if not low <= number <= high:
        raise EventError(reason, high)
    return number


def validate_capacity(value: int | str | None) -> int | None:
    """1–100000 seats, or None for no limit."""
    return _bounded(value, 1, CAPACITY_MAX, "capacity_range")


def validate_claim_window(value: int | str | None) -> int | None:
    """1–168 hours to confirm an offered seat, or None to promote at once."""
    return _bounded(value, 1, CLAIM_WINDOW_MAX, "claim_window_range")


def validate_offsets(offsets: Sequence[int]) -> list[int]:
    """Minutes before the start, each 1 min – 4 weeks, at most five; sorted, longest first."""
    cleaned = sorted(
        {_bounded(value, 1, OFFSET_MAX, "offsets_range") or 0 for value in offsets}, reverse=True
    )
    if len(cleaned) > OFFSETS_MAX:
        raise EventError("offsets_range", OFFSETS_MAX)
    return cleaned


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise EventError("bad_timezone") from None
    return name


def validate_audience(audience: dict[str, Any] | None) -> dict[str, Any]:
    audience = dict(audience or {})
    if set(audience) - set(AUDIENCE_KEYS):
        raise EventError("bad_audience")
    return {key: value for key, value in audience.items() if value}


def validate_translations(translations: dict[str, dict[str, str]] | None) -> dict[str, dict[str, str]]:
    cleaned: dict[str, dict[str, str]] = {}
    for language, version in (translations or {}).items():
        if not language or len(language) > 8:
            raise EventError("bad_language")
        entry = {"title": validate_title(version.get("title", ""))}
        if description := validate_description(version.get("description")):
            entry["description"] = description
        cleaned[language] = entry
    return cleaned


def validate_times(
    starts_at: datetime,
    ends_at: datetime | None,
    rsvp_deadline: datetime | None,
    now: datetime,
    *,
    check_start: bool = True,
    check_deadline: bool = True,
) -> None:
    """Start in the future, end after start, deadline before start (and not already passed)."""
    for moment in (starts_at, ends_at, rsvp_deadline, now):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("naive datetime")
    if check_start and starts_at <= now:
        raise EventError("past_start")
    if ends_at is not None and ends_at <= starts_at:
        raise EventError("end_before_start")
    if rsvp_deadline is not None:
        if rsvp_deadline > starts_at:
            raise EventError("deadline_after_start")
        if check_deadline and rsvp_deadline <= now:
            raise EventError("deadline_in_past")


def _validated(
    values: dict[str, Any], now: datetime, check_start: bool, check_deadline: bool
) -> dict[str, Any]:
    """Every editable field checked and normalized; raises before anything is written."""
    cleaned = dict(values)
    cleaned["title"] = validate_title(values["title"])
    cleaned["description"] = validate_description(values.get("description"))
    cleaned["language"] = values.get("language") or "en"
    if len(cleaned["language"]) > 8:
        raise EventError("bad_language")
    cleaned["translations"] = validate_translations(values.get("translations"))
    cleaned["timezone"] = validate_timezone(values.get("timezone") or "UTC")
    cleaned["place"] = validate_place(values.get("place"))
    cleaned["online_url"] = validate_url(values.get("online_url"))
    cleaned["capacity"] = validate_capacity(values.get("capacity"))
    cleaned["claim_window_hours"] = validate_claim_window(values.get("claim_window_hours"))
    offsets = values.get("reminder_offsets")
    cleaned["reminder_offsets"] = validate_offsets([1440, 60] if offsets is None else offsets)
    cleaned["audience"] = validate_audience(values.get("audience"))
    validate_times(
        values["starts_at"],
        values.get("ends_at"),
        values.get("rsvp_deadline"),
        now,
        check_start=check_start,
        check_deadline=check_deadline,
    )
    return cleaned


def validate_event(now: datetime, **fields: Any) -> dict[str, Any]:
    """The fields of a new event (`create_event`'s keywords, title and starts_at required)
    validated and normalized; writes nothing."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not event fields: {sorted(unknown)}")
    values = {name: None for name in EDITABLE} | fields
    return _validated(values, now, check_start=True, check_deadline=True)


# -- languages ---------------------------------------------------------------------------------


def version_for(event: Event, member_language: str | None, default_language: str) -> str:
    """The version of title/description a member gets (see `pick_version`)."""
    return pick_version(event.language, event.translations, member_language, default_language)


def event_text(event: Event, version: str) -> tuple[str, str]:
    """(title, description) in `version`; a translation without description falls back."""
    if version == event.language or version not in event.translations:
        return event.title, event.description
    entry = event.translations[version]
    return entry.get("title") or event.title, entry.get("description") or event.description


def effective_end(event: Event) -> datetime:
    return event.ends_at or event.starts_at + DEFAULT_DURATION


# -- creating and publishing -------------------------------------------------------------------


async def get_event(session: AsyncSession, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None:
        raise EventError("not_found")
    return event


async def create_event(
    session: AsyncSession,
    *,
    organization_id: int,
    title: str,
    starts_at: datetime,
    now: datetime,
    timezone: str = "UTC",
    description: str = "",
    language: str = "en",
    translations: dict[str, dict[str, str]] | None = None,
    ends_at: datetime | None = None,
    place: str | None = None,
    online_url: str | None = None,
    capacity: int | str | None = None,
    rsvp_deadline: datetime | None = None,
    claim_window_hours: int | str | None = None,
    reminder_offsets: Sequence[int] | None = None,
    audience: dict[str, Any] | None = None,
    created_by_member_id: int | None = None,
    series_id: int | None = None,
) -> Event:
    """A draft event. Everything is validated first: on EventError nothing was written."""
    values = validate_event(
        now,
        title=title,
        description=description,
        language=language,
        translations=translations,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        place=place,
        online_url=online_url,
        capacity=capacity,
        rsvp_deadline=rsvp_deadline,
        claim_window_hours=claim_window_hours,
        reminder_offsets=None if reminder_offsets is None else list(reminder_offsets),
        audience=audience,
    )
    event = Event(
        organization_id=organization_id,
        series_id=series_id,
        created_by_member_id=created_by_member_id,
        status=EventStatus.DRAFT,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(event)
    await session.flush()
    return event


async def delete_draft(session: AsyncSession, event: Event) -> None:
    """A draft was never seen by members: it can simply go."""
    if event.status != EventStatus.DRAFT:
        raise EventError("not_editable")
    await session.delete(event)
    await session.flush()


def _members_query(organization_id: int, audience: dict[str, Any]) -> Any:
    return (
        select(Member.id, Member.telegram_id, Member.language, Member.timezone)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(audience_filter(organization_id, audience, MUTE_TOPIC))
    )


async def count_audience(session: AsyncSession, event: Event) -> int:
    """How many members publishing would notify (for the organizer's card)."""
    return await count_members(session, event.organization_id, event.audience, MUTE_TOPIC)


def _outbox_row(
    *,
    kind: str,
    ref_id: int,
    recipient: Any,
    event: Event,
    organization: Organization,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> dict[str, Any]:
    """`language` is the member's interface language (for the message chrome); the payload
    carries `version`, the language of the title/description they get, and their `timezone`."""
    member_id, chat_id, language, zone = recipient
    return {
        "kind": kind,
        "ref_id": ref_id,
        "member_id": member_id,
        "chat_id": chat_id,
        "language": language or organization.default_language,
        "payload": {
            "event_id": event.id,
            **payload,
            "version": version_for(event, language, organization.default_language),
            "timezone": zone or organization.timezone,
        },
        "status": DeliveryStatus.PENDING,
        "not_before": not_before,
        "attempts": 0,
        "created_at": now,
    }


async def _insert_outbox(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(insert(OutboxMessage), rows)


async def _new_notice(
    session: AsyncSession, event_id: int, kind: str, details: dict[str, Any], now: datetime
) -> int:
    notice = EventNotice(event_id=event_id, kind=kind, details=details, created_at=now)
    session.add(notice)
    await session.flush()
    assert notice.id is not None
    return notice.id


def _recipient_query() -> Any:
    return select(Member.id, Member.telegram_id, Member.language, Member.timezone).where(
        Member.status == MemberStatus.ACTIVE,
        col(Member.consent_at).is_not(None),
        col(Member.telegram_id).is_not(None),
    )


async def _notify_answered(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    kind: str,
    details: dict[str, Any],
    now: datetime,
) -> int:
    """A notice to everyone whose answer is in AFFECTED, each with their RSVP status."""
    notice_id = await _new_notice(session, event.id or 0, kind, details, now)
    query = (
        _recipient_query()
        .add_columns(Rsvp.status)
        .join(Rsvp, col(Rsvp.member_id) == col(Member.id))
        .where(Rsvp.event_id == event.id, col(Rsvp.status).in_(AFFECTED))
    )
    total = 0
    async for page in member_pages(session, query):
        rows = [
            _outbox_row(
                kind=NOTICE_KIND,
                ref_id=notice_id,
                recipient=row[:4],
                event=event,
                organization=organization,
                payload={"notice": kind, "rsvp": str(row[4]), **details},
                not_before=now,
                now=now,
            )
            for row in page
        ]
        await _insert_outbox(session, rows)
        total += len(rows)
    return total


async def _notify_member(
    session: AsyncSession,
    event: Event,
    organization: Organization,
    member_id: int,
    kind: str,
    details: dict[str, Any],
    now: datetime,
) -> None:
    notice_id = await _new_notice(session, event.id or 0, kind, {"member_id": member_id, **details}, now)
    recipient = (await session.exec(_recipient_query().where(Member.id == member_id))).first()
    if recipient is None:  # blocked or gone: the decision is recorded, there is no one to tell
        return
    row = _outbox_row(
        kind=NOTICE_KIND,
        ref_id=notice_id,
        recipient=recipient,
        event=event,
        organization=organization,
        payload={"notice": kind, **details},
        not_before=now,
        now=now,
    )
    await _insert_outbox(session, [row])


def new_checkin_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))


async def publish(
    session: AsyncSession, event: Event, organization: Organization, now: datetime, *, announce: bool = True
) -> int:
    """Publish a draft: reminders are scheduled and (with `announce`) a "published" notice goes to
    the event's audience, each member in their quiet-hours-respecting morning if it is night.
    Returns how many members are notified (0 is fine: the event can be shared by link)."""
    if event.status != EventStatus.DRAFT:
        raise EventError("not_editable")
    if event.organization_id != organization.id:
        raise ValueError("event of another organization")
    validate_times(event.starts_at, event.ends_at, event.rsvp_deadline, now)
    event.status = EventStatus.PUBLISHED
    event.checkin_code = event.checkin_code or new_checkin_code()
    event.updated_at = now
    session.add(event)
    await session.flush()
    await _sync_reminders(session, event, now)
    if not announce or event.training_id is not None:  # a session is announced with its training
        return 0
    details: dict[str, Any] = {"series_id": event.series_id} if event.series_id else {}
    notice_id = await _new_notice(session, event.id or 0, "published", details, now)
    total = 0
    async for page in member_pages(session, _members_query(event.organization_id, event.audience)):
        rows = []
        for recipient in page:
            zone = recipient[3] or organization.timezone
            not_before = after_quiet_hours(now, zone, organization.quiet_start, organization.quiet_end)
            if not_before >= event.starts_at:  # quiet until after the start: better now than never
                not_before = now
            rows.append(
                _outbox_row(
                    kind=NOTICE_KIND,
                    ref_id=notice_id,
                    recipient=recipient,
                    event=event,
                    organization=organization,
                    payload={"notice": "published", **details},
                    not_before=not_before,
                    now=now,
                )
            )
        await _insert_outbox(session, rows)
        total += len(rows)
    return total


# -- reminders scheduling (sending is in bot.services.reminders) --------------------------------


async def _sync_reminders(session: AsyncSession, event: Event, now: datetime) -> None:
    """Make the reminder rows match the event's start and offsets: pending ones get their new due
    time, those already in the past are skipped, removed offsets are cancelled, and a reminder
    already sent whose time moves into the future again is replaced (so it goes out again)."""
    existing = {
        reminder.offset_minutes: reminder
        for reminder in (
            await session.exec(
                select(Reminder)
                .where(Reminder.event_id == event.id)
                .execution_options(populate_existing=True)
            )
        ).all()
    }
    wanted = set(event.reminder_offsets) if event.status == EventStatus.PUBLISHED else set()
    open_states = (ReminderStatus.PENDING, ReminderStatus.CLAIMED)
    for offset, reminder in existing.items():
        if offset not in wanted and reminder.status in open_states:
            reminder.status, reminder.claimed_at = ReminderStatus.CANCELLED, None
            session.add(reminder)
    for offset in sorted(wanted):
        due = event.starts_at - timedelta(minutes=offset)
        reminder = existing.get(offset)
        if reminder is not None and reminder.status == ReminderStatus.SENT:
            if due == reminder.due_at or due <= now:
                continue
            await session.delete(reminder)  # sent for the old time; a new row for the new one
            await session.flush()
            reminder = None
        if reminder is None:
            if due > now:
                session.add(Reminder(event_id=event.id or 0, offset_minutes=offset, due_at=due))
            continue
        reminder.due_at, reminder.claimed_at = due, None
        reminder.status = ReminderStatus.PENDING if due > now else ReminderStatus.SKIPPED
        session.add(reminder)
    await session.flush()


async def _cancel_outbox(session: AsyncSession, *conditions: Any) -> int:
    result = await (await session.connection()).execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.PENDING, *conditions)
        .values(status=DeliveryStatus.CANCELLED)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _reminders_of(event_id: int) -> Any:
    return select(Reminder.id).where(Reminder.event_id == event_id).scalar_subquery()


# -- the lock ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Locked:
    seq: int
    status: EventStatus
    starts_at: datetime
    capacity: int | None
    claim_window_hours: int | None


async def _lock(session: AsyncSession, event_id: int, *conditions: Any) -> _Locked | None:
    """The first statement of every seat-changing transaction (see the module docstring)."""
    statement = (
        update(Event)
        .where(col(Event.id) == event_id, *conditions)
        .values(rsvp_seq=col(Event.rsvp_seq) + 1)
        .returning(
            col(Event.rsvp_seq),
            col(Event.status),
            col(Event.starts_at),
            col(Event.capacity),
            col(Event.claim_window_hours),
        )
    )
    row = (await (await session.connection()).execute(statement)).first()
    if row is None:
        return None
    seq, status, starts_at, capacity, window = row
    return _Locked(int(seq), EventStatus(status), starts_at, capacity, window)


async def _lock_open(session: AsyncSession, event_id: int, now: datetime, *, deadline: bool) -> _Locked:
    """Lock an event that takes answers; nothing is written when it does not."""
    conditions = [
        Event.status == EventStatus.PUBLISHED,
        col(Event.starts_at) > now,
        col(Event.training_id).is_(None),
    ]
    if deadline:
        conditions.append(or_(col(Event.rsvp_deadline).is_(None), col(Event.rsvp_deadline) > now))
    locked = await _lock(session, event_id, *conditions)
    if locked is not None:
        return locked
    event = (
        await session.exec(
            select(Event).where(Event.id == event_id).execution_options(populate_existing=True)
        )
    ).first()
    if event is None or event.training_id is not None:  # a training session: seats are the training's
        raise EventError("not_found")
    if event.status == EventStatus.CANCELLED:
        raise EventError("cancelled")
    if event.status == EventStatus.DRAFT:
        raise EventError("closed")
    if event.starts_at <= now:
        raise EventError("event_past")
    raise EventError("deadline_passed")


# -- RSVPs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RsvpResult:
    status: RsvpStatus
    previous: RsvpStatus | None
    changed: bool
    position: int | None = None  # place on the waitlist, 1 = next in line
    offered_until: datetime | None = None
    promoted: tuple[int, ...] = ()  # members promoted or offered a seat because of this change


async def _answer(session: AsyncSession, event_id: int, member_id: int) -> Rsvp | None:
    result = await session.exec(
        select(Rsvp)
        .where(Rsvp.event_id == event_id, Rsvp.member_id == member_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def _count(session: AsyncSession, event_id: int, statuses: Sequence[RsvpStatus]) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(Rsvp)
        .where(Rsvp.event_id == event_id, col(Rsvp.status).in_(statuses))
    )
    return int(result.one())


async def _position(session: AsyncSession, event_id: int, seq: int) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(Rsvp)
        .where(Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.WAITLISTED, col(Rsvp.seq) <= seq)
    )
    return int(result.one())


async def _has_free_seat(session: AsyncSession, event_id: int, locked: _Locked) -> bool:
    if locked.capacity is None:
        return True
    if await _count(session, event_id, (RsvpStatus.WAITLISTED,)):
        return False  # those waiting come first
    return await _count(session, event_id, HOLDS_SEAT) < locked.capacity


async def _context(session: AsyncSession, event_id: int) -> tuple[Event, Organization]:
    event = await get_event(session, event_id)
    organization = await session.get(Organization, event.organization_id)
    assert organization is not None
    return event, organization


async def _fill_seats(session: AsyncSession, event_id: int, locked: _Locked, now: datetime) -> list[int]:
    """Give free seats to the waitlist in tap order: promoted at once, or offered for the claim
    window (never past the start). Each one gets a notice. Call with the event locked."""
    if locked.starts_at <= now:
        return []
    query = (
        select(Rsvp)
        .where(Rsvp.event_id == event_id, Rsvp.status == RsvpStatus.WAITLISTED)
        .order_by(col(Rsvp.seq))
        .execution_options(populate_existing=True)
    )
    if locked.capacity is not None:
        free = locked.capacity - await _count(session, event_id, HOLDS_SEAT)
        if free <= 0:
            return []
        query = query.limit(free)
    waiting = list((await session.exec(query)).all())
    if not waiting:
        return []
    event, organization = await _context(session, event_id)
    for answer in waiting:
        answer.updated_at = now
        if locked.claim_window_hours:
            answer.status = RsvpStatus.OFFERED
            answer.offered_until = min(now + timedelta(hours=locked.claim_window_hours), locked.starts_at)
        else:
            answer.status = RsvpStatus.GOING
        session.add(answer)
    await session.flush()
    for answer in waiting:
        if answer.status == RsvpStatus.OFFERED:
            assert answer.offered_until is not None
            details = {"offered_until": answer.offered_until.isoformat()}
            await _notify_member(session, event, organization, answer.member_id, "offered", details, now)
        else:
            await _notify_member(session, event, organization, answer.member_id, "promoted", {}, now)
    return [answer.member_id for answer in waiting]


async def _expire_locked(session: AsyncSession, event_id: int, locked: _Locked, now: datetime) -> int:
    """Offers not confirmed in time: the member is marked not going and told, and the seat passes
    to the next in line. Call with the event locked."""
    expired = list(
        (
            await session.exec(
                select(Rsvp)
                .where(
                    Rsvp.event_id == event_id,
                    Rsvp.status == RsvpStatus.OFFERED,
                    col(Rsvp.offered_until) <= now,
                )
                .order_by(col(Rsvp.seq))
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    if not expired:
        return 0
    for answer in expired:
        answer.status, answer.offered_until, answer.updated_at = RsvpStatus.NOT_GOING, None, now
        session.add(answer)
    await session.flush()
    if locked.status == EventStatus.PUBLISHED and locked.starts_at > now:
        event, organization = await _context(session, event_id)
        for answer in expired:
            await _notify_member(session, event, organization, answer.member_id, "offer_expired", {}, now)
        await _fill_seats(session, event_id, locked, now)
    return len(expired)


async def _forget_reminders_for(session: AsyncSession, event_id: int, member_id: int) -> None:
    """A member who changed their mind gets no reminder still waiting in the outbox."""
    await _cancel_outbox(
        session,
        OutboxMessage.kind == "reminder",
        OutboxMessage.member_id == member_id,
        col(OutboxMessage.ref_id).in_(_reminders_of(event_id)),
    )


async def rsvp(
    session: AsyncSession, event_id: int, member_id: int, choice: RsvpStatus | str, now: datetime
) -> RsvpResult:
    """One tap: going, maybe or not_going; tapping again changes the answer.

    Going on a full event (or while others wait) is waitlisted in tap order; a waitlisted member
    tapping Going again keeps their place; an offered member tapping Going takes the seat. When a
    seat is freed the waitlist moves up (see `_fill_seats`). After the RSVP deadline only
    "not_going" is accepted (so seats can still be freed). Runs in the caller's transaction.
    """
    choice = RsvpStatus(choice)
    if choice not in CHOICES:
        raise ValueError(f"not a choice: {choice}")
    locked = await _lock_open(session, event_id, now, deadline=choice != RsvpStatus.NOT_GOING)
    await _expire_locked(session, event_id, locked, now)
    answer = await _answer(session, event_id, member_id)
    previous = answer.status if answer is not None else None
    if answer is not None and (
        previous == choice or (previous == RsvpStatus.WAITLISTED and choice == RsvpStatus.GOING)
    ):
        position = (
            await _position(session, event_id, answer.seq) if previous == RsvpStatus.WAITLISTED else None
        )
        return RsvpResult(answer.status, previous, False, position, answer.offered_until)
    if answer is not None and previous == RsvpStatus.OFFERED and choice == RsvpStatus.GOING:
        answer.status, answer.offered_until, answer.updated_at = RsvpStatus.GOING, None, now
        session.add(answer)
        await session.flush()
        return RsvpResult(RsvpStatus.GOING, previous, True)
    status = choice
    if choice == RsvpStatus.GOING and not await _has_free_seat(session, event_id, locked):
        status = RsvpStatus.WAITLISTED
    if answer is None:
        answer = Rsvp(event_id=event_id, member_id=member_id, status=status, seq=locked.seq, created_at=now)
    answer.status, answer.seq, answer.offered_until, answer.updated_at = status, locked.seq, None, now
    session.add(answer)
    await session.flush()
    promoted: list[int] = []
    if previous in HOLDS_SEAT:
        promoted = await _fill_seats(session, event_id, locked, now)
    if status not in (RsvpStatus.GOING, RsvpStatus.MAYBE):
        await _forget_reminders_for(session, event_id, member_id)
    position = await _position(session, event_id, locked.seq) if status == RsvpStatus.WAITLISTED else None
    return RsvpResult(status, previous, True, position, None, tuple(promoted))


async def confirm_offer(session: AsyncSession, event_id: int, member_id: int, now: datetime) -> RsvpResult:
    """The offered member takes the seat (allowed after the RSVP deadline, until `offered_until`)."""
    locked = await _lock_open(session, event_id, now, deadline=False)
    await _expire_locked(session, event_id, locked, now)
    answer = await _answer(session, event_id, member_id)
    if answer is not None and answer.status == RsvpStatus.GOING:
        return RsvpResult(RsvpStatus.GOING, RsvpStatus.GOING, False)
    if answer is None or answer.status != RsvpStatus.OFFERED:
        raise EventError("offer_expired")
    answer.status, answer.offered_until, answer.updated_at = RsvpStatus.GOING, None, now
    session.add(answer)
    await session.flush()
    return RsvpResult(RsvpStatus.GOING, RsvpStatus.OFFERED, True)


async def expire_offers(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: offers whose claim window ended pass to the next in line. Returns how many
    expired. Events are locked one by one in id order; the caller commits."""
    event_ids = (
        await session.exec(
            select(Rsvp.event_id)
            .join(Event, col(Event.id) == col(Rsvp.event_id))
            .where(
                Rsvp.status == RsvpStatus.OFFERED,
                col(Rsvp.offered_until) <= now,
                Event.status == EventStatus.PUBLISHED,
            )
            .distinct()
        )
    ).all()
    expired = 0
    for event_id in sorted(event_ids):
        locked = await _lock(session, event_id)
        if locked is not None:
            expired += await _expire_locked(session, event_id, locked, now)
    return expired


async def my_answer(session: AsyncSession, event_id: int, member_id: int) -> Rsvp | None:
    return await _answer(session, event_id, member_id)


async def waitlist_position(session: AsyncSession, event_id: int, member_id: int) -> int | None:
    answer = await _answer(session, event_id, member_id)
    if answer is None or answer.status != RsvpStatus.WAITLISTED:
        return None
    return await _position(session, event_id, answer.seq)


async def withdraw_member(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Answer "not going" to every upcoming event the member holds or waits for a seat at (for
    `/forget`): their seats go to the waitlist. Returns how many answers changed."""
    event_ids = (
        await session.exec(
            select(Rsvp.event_id)
            .join(Event, col(Event.id) == col(Rsvp.event_id))
            .where(
                Rsvp.member_id == member_id,
                col(Rsvp.status).in_(AFFECTED),
                Event.status == EventStatus.PUBLISHED,
                col(Event.starts_at) > now,
                col(Event.training_id).is_(None),  # seats at trainings: trainings.withdraw_member
            )
        )
    ).all()
    for event_id in sorted(event_ids):
        await rsvp(session, event_id, member_id, RsvpStatus.NOT_GOING, now)
    return len(event_ids)


# -- changes and cancellation --------------------------------------------------------------------


def check_update(event: Event, now: datetime, **changes: Any) -> dict[str, Any]:
    """Every editable field of `event` with `changes` applied, validated and normalized; writes
    nothing. The start and deadline must be in the future only if they change."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if event.status == EventStatus.CANCELLED:
        raise EventError("not_editable")
    merged = {name: getattr(event, name) for name in EDITABLE} | changes
    if changes.get("reminder_offsets") is not None:
        merged["reminder_offsets"] = list(changes["reminder_offsets"])
    return _validated(
        merged,
        now,
        check_start="starts_at" in changes and changes["starts_at"] != event.starts_at,
        check_deadline="rsvp_deadline" in changes and changes["rsvp_deadline"] != event.rsvp_deadline,
    )


@dataclass(frozen=True)
class EventUpdate:
    changed: tuple[str, ...]  # fields that really changed
    notified: int  # members sent a "changed" notice
    promoted: tuple[int, ...] = ()  # members given a seat because the capacity grew


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def update_event(
    session: AsyncSession, event: Event, organization: Organization, now: datetime, **changes: Any
) -> EventUpdate:
    """Edit any field of a draft or published event (see EDITABLE).

    Published events: a change of time or place sends a "changed" notice (payload `fields` and
    `before`) to everyone in AFFECTED; reminders follow the new start; a larger capacity gives seats
    to the waitlist. A smaller one takes no seat back. All values are validated first.
    """
    cleaned = check_update(event, now, **changes)
    changed = tuple(name for name in EDITABLE if name in changes and cleaned[name] != getattr(event, name))
    if not changed:
        return EventUpdate((), 0)
    before = {name: _iso(getattr(event, name)) for name in changed if name in NOTIFY_FIELDS}
    for name in changed:
        setattr(event, name, cleaned[name])
    event.updated_at = now
    session.add(event)
    await session.flush()  # the UPDATE of the event row: from here on the event is locked
    if event.status != EventStatus.PUBLISHED:
        return EventUpdate(changed, 0)
    if "starts_at" in changed or "reminder_offsets" in changed:
        await _sync_reminders(session, event, now)
    promoted: list[int] = []
    if "capacity" in changed or "claim_window_hours" in changed:
        locked = await _lock(session, event.id or 0)
        assert locked is not None
        promoted = await _fill_seats(session, event.id or 0, locked, now)
    notified = 0
    if before:
        details = {"fields": list(before), "before": before}
        notified = await _notify_answered(session, event, organization, "changed", details, now)
    return EventUpdate(changed, notified, tuple(promoted))


async def cancel_event(session: AsyncSession, event: Event, organization: Organization, now: datetime) -> int:
    """Cancel: reminders and messages still waiting are cancelled and everyone in AFFECTED gets a
    "cancelled" notice. Returns how many are notified."""
    if event.status == EventStatus.CANCELLED:
        raise EventError("not_editable")
    published = event.status == EventStatus.PUBLISHED
    if published:
        await _lock(session, event.id or 0)
    event.status = EventStatus.CANCELLED
    event.updated_at = now
    session.add(event)
    await session.flush()
    await (await session.connection()).execute(
        update(Reminder)
        .where(
            Reminder.event_id == event.id,
            col(Reminder.status).in_((ReminderStatus.PENDING, ReminderStatus.CLAIMED)),
        )
        .values(status=ReminderStatus.CANCELLED, claimed_at=None)
    )
    await _cancel_outbox(
        session, OutboxMessage.kind == "reminder", col(OutboxMessage.ref_id).in_(_reminders_of(event.id or 0))
    )
    notices = select(EventNotice.id).where(EventNotice.event_id == event.id).scalar_subquery()
    await _cancel_outbox(session, OutboxMessage.kind == NOTICE_KIND, col(OutboxMessage.ref_id).in_(notices))
    if not published:
        return 0
    return await _notify_answered(session, event, organization, "cancelled", {}, now)


# -- lists, counts, exports, check-in ------------------------------------------------------------


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    total: int
    answers: dict[int, RsvpStatus]  # the member's own answer per listed event


async def upcoming_events(
    session: AsyncSession,
    organization_id: int | None,
    member: Member | None,
    now: datetime,
    offset: int = 0,
    limit: int = 5,
    *,
    include_drafts: bool = False,
) -> EventPage:
    """Published events not yet over (drafts too for organizers), soonest first.

    `organization_id` None: every organization the member belongs to.
    """
    if organization_id is not None:
        organizations: Any = col(Event.organization_id) == organization_id
    elif member is not None:
        organizations = col(Event.organization_id).in_(
            select(Membership.organization_id).where(Membership.member_id == member.id)
        )
    else:
        raise ValueError("an organization or a member is needed")
    statuses = [EventStatus.PUBLISHED, EventStatus.DRAFT] if include_drafts else [EventStatus.PUBLISHED]
    where = and_(
        organizations,
        col(Event.status).in_(statuses),
        col(Event.training_id).is_(None),  # training sessions are listed with their training
        or_(col(Event.starts_at) > now, and_(col(Event.ends_at).is_not(None), col(Event.ends_at) > now)),
    )
    total = int((await session.exec(select(func.count()).select_from(Event).where(where))).one())
    events = list(
        (
            await session.exec(
                select(Event)
                .where(where)
                .order_by(col(Event.starts_at), col(Event.id))
                .offset(offset)
                .limit(limit)
            )
        ).all()
    )
    answers: dict[int, RsvpStatus] = {}
    if member is not None and events:
        result = await session.exec(
            select(Rsvp.event_id, Rsvp.status).where(
                Rsvp.member_id == member.id, col(Rsvp.event_id).in_([event.id for event in events])
            )
        )
        answers = {event_id: RsvpStatus(status) for event_id, status in result.all()}
    return EventPage(events, total, answers)


async def counts(session: AsyncSession, event_id: int) -> dict[RsvpStatus, int]:
    """Answers per status, every status present."""
    result = await session.exec(
        select(Rsvp.status, func.count()).where(Rsvp.event_id == event_id).group_by(Rsvp.status)
    )
    found = {RsvpStatus(status): int(count) for status, count in result.all()}
    return {status: found.get(status, 0) for status in RsvpStatus}


@dataclass(frozen=True)
class Attendee:
    member_id: int
    name: str | None
    username: str | None
    telegram_id: int | None
    language: str | None
    status: RsvpStatus
    seq: int
    attended: bool
    checked_in_at: datetime | None
    offered_until: datetime | None


_STATUS_ORDER = {
    status: index
    for index, status in enumerate(
        (RsvpStatus.GOING, RsvpStatus.OFFERED, RsvpStatus.MAYBE, RsvpStatus.WAITLISTED, RsvpStatus.NOT_GOING)
    )
}


async def attendees(
    session: AsyncSession, event_id: int, statuses: Sequence[RsvpStatus] | None = None
) -> list[Attendee]:
    """Answers with who gave them: going, offered, maybe, waitlisted, not going; tap order within."""
    query = (
        select(Rsvp, Member)
        .join(Member, col(Member.id) == col(Rsvp.member_id))
        .where(Rsvp.event_id == event_id)
        .order_by(col(Rsvp.seq))
    )
    if statuses:
        query = query.where(col(Rsvp.status).in_(statuses))
    rows = [
        Attendee(
            member_id=member.id or 0,
            name=member.display_name,
            username=member.username,
            telegram_id=member.telegram_id,
            language=member.language,
            status=RsvpStatus(answer.status),
            seq=answer.seq,
            attended=answer.attended,
            checked_in_at=answer.checked_in_at,
            offered_until=answer.offered_until,
        )
        for answer, member in (await session.exec(query)).all()
    ]
    return sorted(rows, key=lambda row: (_STATUS_ORDER[row.status], row.seq))


async def export_csv(session: AsyncSession, event_id: int) -> bytes:
    """One row per answer: name, language, status, seq, attended (UTF-8 with BOM for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "language", "status", "seq", "attended"])
    for row in await attendees(session, event_id):
        name = row.name or f"#{row.member_id}"
        writer.writerow(
            [
                spreadsheet_cell(name),
                row.language or "",
                str(row.status),
                row.seq,
                "yes" if row.attended else "",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


async def mark_attendance(
    session: AsyncSession, event_id: int, member_id: int, attended: bool, now: datetime
) -> Rsvp:
    """The organizer ticks (or unticks) someone on the list."""
    answer = await _answer(session, event_id, member_id)
    if answer is None:
        raise EventError("not_found")
    answer.attended = attended
    answer.checked_in_at = now if attended else None
    answer.updated_at = now
    session.add(answer)
    await session.flush()
    return answer


async def check_in(session: AsyncSession, member_id: int, code: str, now: datetime) -> Event:
    """A member sends the event's check-in code during the event (from an hour before the start
    to an hour after the end). Someone without an answer is recorded as a walk-in (going)."""
    normalized = "".join(code.split()).upper()
    candidates = (
        await session.exec(
            select(Event).where(
                Event.checkin_code == normalized,
                Event.status == EventStatus.PUBLISHED,
                col(Event.starts_at) <= now + CHECKIN_BEFORE,
                col(Event.starts_at) > now - timedelta(days=7),
            )
        )
    ).all()
    event = next((e for e in candidates if now <= effective_end(e) + CHECKIN_AFTER), None)
    if event is None or not normalized:
        raise EventError("bad_code")
    locked = await _lock(session, event.id or 0)
    assert locked is not None
    answer = await _answer(session, event.id or 0, member_id)
    if answer is None:
        answer = Rsvp(
            event_id=event.id or 0,
            member_id=member_id,
            status=RsvpStatus.GOING,
            seq=locked.seq,
            created_at=now,
        )
    answer.attended, answer.checked_in_at, answer.updated_at = True, now, now
    session.add(answer)
    await session.flush()
    return event


async def member_answers(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """The member's answers, for `/mydata`."""
    result = await session.exec(
        select(Rsvp, Event.title, Event.starts_at)
        .join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(Rsvp.member_id == member_id)
        .order_by(col(Event.starts_at))
    )
    return [
        {
            "event": title,
            "starts_at": starts_at.isoformat(),
            "answer": str(answer.status),
            "attended": answer.attended,
            "answered_at": answer.updated_at.isoformat(),
        }
        for answer, title, starts_at in result.all()
    ]

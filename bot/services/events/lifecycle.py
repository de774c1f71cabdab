"""An event's life: created as a draft (validated first, nothing written on error), published
(reminders scheduled, the audience told), edited (those who answered told of a new time or place,
reminders moved, a larger capacity filling seats from the waitlist) and cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import audience_members, is_wide
from bot.services.events.checkin import new_checkin_code
from bot.services.events.notices import MUTE_TOPIC, NOTICE_KIND, NOTICES, answered
from bot.services.events.reminders import reminder_ids_of, sync_reminders
from bot.services.events.rules import (
    EDITABLE,
    NOTIFY_FIELDS,
    EventError,
    check_update,
    validate_event,
    validate_times,
)
from bot.services.events.seats import lock_event
from bot.services.events.waitlist import fill_seats
from bot.services.outbox_rows import cancel_pending, write_notice
from bot.services.rows import delete_rows, saved
from storage.models import (
    Event,
    EventNotice,
    EventStatus,
    Organization,
    OutboxMessage,
    Reminder,
    ReminderStatus,
)


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
    open_to_all: bool = False,
) -> Event:
    """A draft event (`open_to_all`: visible and bookable by members of every organization).
    Everything is validated first: on EventError nothing was written."""
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
        open_to_all=open_to_all,
        status=EventStatus.DRAFT,
        created_at=now,
        updated_at=now,
        **values,
    )
    return await saved(session, event)


async def set_open_to_all(session: AsyncSession, event: Event, open_to_all: bool) -> None:
    """Open a draft to the members of every organization, or keep it to its own (the other drafts
    of its series alike). An event announced beyond its organization stays open."""
    if event.status != EventStatus.DRAFT or (is_wide(event.audience) and not open_to_all):
        raise EventError("not_editable")
    query = select(Event).where(Event.status == EventStatus.DRAFT)
    query = (
        query.where(Event.series_id == event.series_id)
        if event.series_id
        else query.where(Event.id == event.id)
    )
    for draft in (await session.exec(query)).all():
        draft.open_to_all = open_to_all
        session.add(draft)
    event.open_to_all = open_to_all
    await session.flush()


async def delete_draft(session: AsyncSession, event: Event) -> None:
    """A draft was never seen by members: it can simply go."""
    if event.status != EventStatus.DRAFT:
        raise EventError("not_editable")
    await delete_rows(session, [event])


async def _claim_draft(session: AsyncSession, event: Event) -> bool:
    """Draft → published in one conditional update: of two transactions publishing the same draft
    (two taps on Publish), the second finds it claimed (PostgreSQL re-reads the row once the first
    commits; SQLite serializes writers) and publishes nothing."""
    result = await (await session.connection()).execute(
        update(Event)
        .where(col(Event.id) == event.id, col(Event.status) == EventStatus.DRAFT)
        .values(status=EventStatus.PUBLISHED)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def publish(
    session: AsyncSession, event: Event, organization: Organization, now: datetime, *, announce: bool = True
) -> int:
    """Publish a draft: reminders are scheduled and (with `announce`) a "published" notice goes to
    the event's audience, each member in their quiet-hours-respecting morning if it is night.
    Returns how many members are notified (0 is fine: the event can be shared by link).
    "not_editable" when it is no longer a draft (or another transaction published it first)."""
    if event.status != EventStatus.DRAFT:
        raise EventError("not_editable")
    if event.organization_id != organization.id:
        raise ValueError("event of another organization")
    validate_times(event.starts_at, event.ends_at, event.rsvp_deadline, now)
    await session.flush()  # the caller's pending changes go before the claim
    if not await _claim_draft(session, event):
        raise EventError("not_editable")
    event.status = EventStatus.PUBLISHED
    event.checkin_code = event.checkin_code or new_checkin_code()
    event.updated_at = now
    session.add(event)
    await session.flush()
    await sync_reminders(session, event, now)
    if not announce or event.training_id is not None:  # a session is announced with its training
        return 0
    details: dict[str, Any] = {"series_id": event.series_id} if event.series_id else {}
    members = audience_members(event.organization_id, event.audience, MUTE_TOPIC)
    return await write_notice(
        session, NOTICES, event, organization, "published", details, members, now, urgent_from=event.starts_at
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
        await sync_reminders(session, event, now)
    promoted: list[int] = []
    if "capacity" in changed or "claim_window_hours" in changed:
        locked = await lock_event(session, event.id or 0)
        assert locked is not None
        promoted = await fill_seats(session, event.id or 0, locked, now)
    notified = 0
    if before:
        details = {"fields": list(before), "before": before}
        old_start = datetime.fromisoformat(before["starts_at"]) if "starts_at" in before else event.starts_at
        urgent_from = min(old_start, event.starts_at)
        affected = answered(event)
        notified = await write_notice(
            session, NOTICES, event, organization, "changed", details, affected, now, urgent_from=urgent_from
        )
    return EventUpdate(changed, notified, tuple(promoted))


async def cancel_event(session: AsyncSession, event: Event, organization: Organization, now: datetime) -> int:
    """Cancel: reminders and messages still waiting are cancelled and everyone in AFFECTED gets a
    "cancelled" notice. Returns how many are notified."""
    if event.status == EventStatus.CANCELLED:
        raise EventError("not_editable")
    published = event.status == EventStatus.PUBLISHED
    if published:
        await lock_event(session, event.id or 0)
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
    await cancel_pending(
        session,
        OutboxMessage.kind == "reminder",
        col(OutboxMessage.ref_id).in_(reminder_ids_of(event.id or 0)),
    )
    notices = select(EventNotice.id).where(EventNotice.event_id == event.id).scalar_subquery()
    await cancel_pending(session, OutboxMessage.kind == NOTICE_KIND, col(OutboxMessage.ref_id).in_(notices))
    if not published:
        return 0
    affected = answered(event)
    return await write_notice(
        session, NOTICES, event, organization, "cancelled", {}, affected, now, urgent_from=event.starts_at
    )

"""Event reminders: the rows that follow an event's start, due rows claimed atomically, then
handed to the outbox.

Every reminder is a `Reminder` row (kept in step with the event by `sync_reminders`, called when it
is published or its start or offsets change), so a restart loses none. A tick runs
`release_reminders`:

1. `claim_due_reminders` moves due rows pending → claimed in one
   `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING` and commits: two instances
   never claim the same row. A claim older than the lease (a releaser that died) is claimed again.
2. `hand_over` then, in one transaction per batch, locks the events (the lock order every event
   transaction uses: event rows first), turns claimed → sent with `WHERE status = 'claimed'` (a
   second releaser holding a stale claim finds nothing to do) and writes one outbox row
   (kind "reminder", ref_id = reminder id) per member whose answer is Going or Maybe *now*.
   The outbox's unique (kind, ref_id, chat_id) is the last guard: a duplicate is dropped.

A reminder whose event has already started when it is handed over (the bot was down) is skipped,
and so is one superseded by a later reminder of the same event that is also due (after downtime
the member gets only the nearest one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import still_member
from bot.services.outbox_rows import cancel_pending, pending_row, personalized
from bot.services.row_locks import claim
from storage.models import (
    Event,
    EventStatus,
    Member,
    MemberStatus,
    Organization,
    OutboxMessage,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpStatus,
)

KIND = "reminder"
LEASE = timedelta(minutes=5)
BATCH = 500
REMINDED = (RsvpStatus.GOING, RsvpStatus.MAYBE)


@dataclass
class Released:
    """What one `release_reminders` run did; `skipped` lists (reminder id, event id) to log."""

    sent: int = 0  # reminders handed to the outbox
    messages: int = 0  # outbox rows written
    skipped: list[tuple[int, int]] = field(default_factory=list)
    cancelled: int = 0  # their event was cancelled meanwhile

    def add(self, other: Released) -> None:
        self.sent += other.sent
        self.messages += other.messages
        self.skipped += other.skipped
        self.cancelled += other.cancelled


# -- the rows that follow the event ------------------------------------------------------------


async def sync_reminders(session: AsyncSession, event: Event, now: datetime) -> None:
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


def reminder_ids_of(event_id: int) -> Any:
    return select(Reminder.id).where(Reminder.event_id == event_id).scalar_subquery()


async def forget_reminders_for(session: AsyncSession, event_id: int, member_id: int) -> None:
    """A member who changed their mind gets no reminder still waiting in the outbox."""
    await cancel_pending(
        session,
        OutboxMessage.kind == "reminder",
        OutboxMessage.member_id == member_id,
        col(OutboxMessage.ref_id).in_(reminder_ids_of(event_id)),
    )


# -- releasing due reminders ---------------------------------------------------------------------


async def claim_due_reminders(
    session: AsyncSession, now: datetime, limit: int = BATCH, lease: timedelta = LEASE
) -> list[int]:
    """Claim up to `limit` due reminders (and stale claims); commits. Returns their ids."""
    due = or_(
        and_(Reminder.status == ReminderStatus.PENDING, col(Reminder.due_at) <= now),
        and_(Reminder.status == ReminderStatus.CLAIMED, col(Reminder.claimed_at) < now - lease),
    )
    values = {"status": ReminderStatus.CLAIMED, "claimed_at": now}
    order = (col(Reminder.due_at), col(Reminder.id))
    ids = await claim(session, Reminder, due, values, order_by=order, limit=limit)
    await session.commit()
    return sorted(ids)


def _insert_ignoring_duplicates(dialect: str) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(OutboxMessage).on_conflict_do_nothing()


async def hand_over(session: AsyncSession, reminder_ids: Sequence[int], now: datetime) -> Released:
    """Write the outbox rows of claimed reminders and mark them sent (or skipped/cancelled) in
    the caller's transaction; the caller commits. Reminders no longer claimed are left alone."""
    released = Released()
    if not reminder_ids:
        return released
    connection = await session.connection()
    event_ids = sorted(
        set((await session.exec(select(Reminder.event_id).where(col(Reminder.id).in_(reminder_ids)))).all())
    )
    # Lock order: events first, as every RSVP, edit and cancellation does (no deadlock on PostgreSQL;
    # SQLite ignores FOR UPDATE and is serialized by the write lock taken below).
    await session.exec(
        select(Event.id).where(col(Event.id).in_(event_ids)).order_by(col(Event.id)).with_for_update()
    )
    won = (
        await connection.execute(
            update(Reminder)
            .where(col(Reminder.id).in_(reminder_ids), Reminder.status == ReminderStatus.CLAIMED)
            .values(status=ReminderStatus.SENT)
            .returning(col(Reminder.id), col(Reminder.event_id), col(Reminder.offset_minutes))
        )
    ).all()
    if not won:
        return released
    events = {
        event.id: event
        for event in (
            await session.exec(
                select(Event)
                .where(col(Event.id).in_({row[1] for row in won}))
                .execution_options(populate_existing=True)
            )
        ).all()
    }
    organizations = {
        organization.id: organization
        for organization in (
            await session.exec(
                select(Organization).where(
                    col(Organization.id).in_({event.organization_id for event in events.values()})
                )
            )
        ).all()
    }
    # Other reminders of these events also due now supersede the longer-ahead ones.
    due_offsets: dict[int, list[int]] = {}
    for event_id, offset in (
        await session.exec(
            select(Reminder.event_id, Reminder.offset_minutes).where(
                col(Reminder.event_id).in_(events),
                col(Reminder.due_at) <= now,
                col(Reminder.status).in_(
                    (ReminderStatus.PENDING, ReminderStatus.CLAIMED, ReminderStatus.SENT)
                ),
            )
        )
    ).all():
        due_offsets.setdefault(event_id, []).append(offset)

    to_send: dict[int, tuple[int, int]] = {}  # reminder id -> (event id, offset)
    skipped: list[int] = []
    cancelled: list[int] = []
    for reminder_id, event_id, offset in won:
        event = events[event_id]
        if event.status != EventStatus.PUBLISHED:
            cancelled.append(reminder_id)
        elif event.starts_at <= now or any(other < offset for other in due_offsets.get(event_id, [])):
            skipped.append(reminder_id)
            released.skipped.append((reminder_id, event_id))
        else:
            to_send[reminder_id] = (event_id, offset)
    for ids, status in ((skipped, ReminderStatus.SKIPPED), (cancelled, ReminderStatus.CANCELLED)):
        if ids:
            await connection.execute(update(Reminder).where(col(Reminder.id).in_(ids)).values(status=status))
    released.cancelled = len(cancelled)
    released.sent = len(to_send)
    if not to_send:
        return released

    by_event: dict[int, list[tuple[int, int]]] = {}
    for reminder_id, (event_id, offset) in to_send.items():
        by_event.setdefault(event_id, []).append((reminder_id, offset))
    recipients = (
        await session.exec(
            select(Rsvp.event_id, Member.id, Member.telegram_id, Member.language, Member.timezone)
            .join(Member, col(Member.id) == col(Rsvp.member_id))
            .join(Event, col(Event.id) == col(Rsvp.event_id))
            .where(
                col(Rsvp.event_id).in_(by_event),
                col(Rsvp.status).in_(REMINDED),
                or_(col(Event.open_to_all), still_member(Event.organization_id)),  # left: no reminder
                Member.status == MemberStatus.ACTIVE,
                col(Member.consent_at).is_not(None),
                col(Member.telegram_id).is_not(None),
            )
        )
    ).all()
    rows: list[dict[str, Any]] = []
    for event_id, member_id, chat_id, language, zone in recipients:
        event = events[event_id]
        organization = organizations[event.organization_id]
        for reminder_id, offset in by_event[event_id]:
            payload = {"event_id": event_id, "offset_minutes": offset}
            to, payload = personalized((member_id, chat_id, language, zone), event, organization, payload)
            rows.append(
                pending_row(KIND, reminder_id, to, payload, now, now, organization_id=event.organization_id)
            )
    statement = _insert_ignoring_duplicates(connection.dialect.name)
    for start in range(0, len(rows), 1000):
        await connection.execute(statement, rows[start : start + 1000])
    released.messages = len(rows)
    return released


async def release_reminders(
    session: AsyncSession, now: datetime, batch: int = BATCH, lease: timedelta = LEASE
) -> Released:
    """Scheduler job: claim every due reminder and hand it over, a batch per transaction."""
    released = Released()
    while True:
        ids = await claim_due_reminders(session, now, batch, lease)
        if not ids:
            return released
        released.add(await hand_over(session, ids, now))
        await session.commit()
        if len(ids) < batch:
            return released


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next pending reminder is due (to size the scheduler's sleep, or for status)."""
    result = await session.exec(
        select(Reminder.due_at)
        .where(Reminder.status == ReminderStatus.PENDING)
        .order_by(col(Reminder.due_at))
        .limit(1)
    )
    return result.first()

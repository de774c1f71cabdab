"""Recurring events: weekly, every two weeks, or monthly on a weekday ("first Saturday", "last
Friday"), on the series' local clock.

Occurrences are computed as local dates and a local wall-clock time in the series' zone, then
converted to UTC one by one, so 18:30 stays 18:30 across daylight-saving changes (a time that does
not exist on a spring-forward day moves forward by the gap). Each occurrence is its own `Event`
(own RSVPs, own reminders) with `series_id` set.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.events.lifecycle import EventUpdate, create_event, delete_draft, publish, update_event
from bot.services.events.rules import EDITABLE, EventError, check_update, validate_event, validate_timezone
from storage.models import Event, EventSeries, EventStatus, Organization, SeriesRule

DEFAULT_HORIZON = 12  # occurrences created when neither `until` nor `count` is given
MAX_OCCURRENCES = 52


def local_to_utc(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """`day` at hh:mm on the zone's clock, as UTC."""
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    # A wall time skipped by a spring-forward change: fold=0 resolves it with the old offset,
    # which lands after the gap (02:30 → 03:30 CEST) — the same moment every library picks.
    return local.astimezone(UTC)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (1–5, or -1 for last) `weekday` (0 = Monday) of a month; None if there is none."""
    days = [
        day
        for day in calendar.Calendar().itermonthdates(year, month)
        if day.month == month and day.weekday() == weekday
    ]
    if nth == -1:
        return days[-1]
    return days[nth - 1] if 1 <= nth <= len(days) else None


def _dates(rule: SeriesRule, start: date, weekday: int, nth: int | None) -> Iterator[date]:
    if rule in (SeriesRule.WEEKLY, SeriesRule.BIWEEKLY):
        day = start + timedelta(days=(weekday - start.weekday()) % 7)
        step = timedelta(days=7 if rule == SeriesRule.WEEKLY else 14)
        while True:
            yield day
            day += step
    else:
        if nth is None:
            raise EventError("bad_rule")
        year, month = start.year, start.month
        for _ in range(12 * 50):
            day = nth_weekday(year, month, weekday, nth)
            if day is not None and day >= start:
                yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def occurrences(
    rule: SeriesRule | str,
    zone_name: str,
    starts_on: date,
    local_start: int,
    *,
    weekday: int,
    nth: int | None = None,
    until: date | None = None,
    count: int | None = None,
    after: datetime | None = None,
    limit: int = MAX_OCCURRENCES,
) -> list[datetime]:
    """UTC start times of a series from `starts_on` (local date), at most `limit` (or `count`),
    none after `until` (local date) and none at or before `after`."""
    rule = SeriesRule(rule)
    if not 0 <= weekday <= 6 or not 0 <= local_start < 24 * 60:
        raise EventError("bad_rule")
    if rule == SeriesRule.MONTHLY_WEEKDAY and nth not in (1, 2, 3, 4, 5, -1):
        raise EventError("bad_rule")
    zone = ZoneInfo(zone_name)
    wanted = min(count or limit, limit)
    found: list[datetime] = []
    for index, day in enumerate(_dates(rule, starts_on, weekday, nth)):
        if until is not None and day > until:
            break
        if count is not None and index >= count:
            break
        moment = local_to_utc(day, local_start, zone)
        if after is None or moment > after:
            found.append(moment)
            if len(found) >= wanted:
                break
    return found


async def create_series(
    session: AsyncSession,
    *,
    organization_id: int,
    rule: SeriesRule | str,
    timezone: str,
    starts_on: date,
    local_start: int,
    now: datetime,
    duration_minutes: int | None = None,
    weekday: int | None = None,
    nth: int | None = None,
    until: date | None = None,
    count: int | None = None,
    horizon: int = DEFAULT_HORIZON,
    **fields: Any,
) -> tuple[EventSeries, list[Event]]:
    """A series and its draft occurrences still in the future: up to `count`, else every one up to
    `until` (at most 52), else the next `horizon`. `fields` are `create_event`'s (title,
    description, place, capacity, ...). Validated before anything is written."""
    validate_timezone(timezone)
    if weekday is None:
        weekday = starts_on.weekday()
    if count is not None and not 1 <= count <= MAX_OCCURRENCES:
        raise EventError("count_range", MAX_OCCURRENCES)
    if duration_minutes is not None and not 1 <= duration_minutes <= 7 * 24 * 60:
        raise EventError("duration_range", 7 * 24 * 60)
    limit = MAX_OCCURRENCES if (until is not None or count is not None) else horizon
    starts = occurrences(
        rule,
        timezone,
        starts_on,
        local_start,
        weekday=weekday,
        nth=nth,
        until=until,
        count=count,
        after=now,
        limit=limit,
    )
    if not starts:
        raise EventError("series_empty")
    if fields.get("rsvp_deadline") is not None:
        raise ValueError("a series has no single RSVP deadline")
    series = EventSeries(
        organization_id=organization_id,
        rule=SeriesRule(rule),
        timezone=timezone,
        local_start=local_start,
        duration_minutes=duration_minutes,
        weekday=weekday,
        nth=nth,
        until=until,
        count=count,
        created_at=now,
    )
    # All occurrences share every field but the time: checking the first checks them all.
    validate_event(
        now,
        starts_at=starts[0],
        ends_at=_end(starts[0], duration_minutes),
        timezone=timezone,
        **{name: value for name, value in fields.items() if name in EDITABLE},
    )
    session.add(series)
    await session.flush()
    events = [
        await create_event(
            session,
            organization_id=organization_id,
            starts_at=start,
            ends_at=_end(start, duration_minutes),
            timezone=timezone,
            now=now,
            series_id=series.id,
            **fields,
        )
        for start in starts
    ]
    return series, events


def _end(start: datetime, duration_minutes: int | None) -> datetime | None:
    return start + timedelta(minutes=duration_minutes) if duration_minutes else None


async def series_events(
    session: AsyncSession, series_id: int, *, from_start: datetime | None = None
) -> list[Event]:
    """The series' occurrences that are not cancelled, in time order (from `from_start` on)."""
    query = select(Event).where(Event.series_id == series_id, Event.status != EventStatus.CANCELLED)
    if from_start is not None:
        query = query.where(col(Event.starts_at) >= from_start)
    return list((await session.exec(query.order_by(col(Event.starts_at)))).all())


async def publish_series(
    session: AsyncSession, series: EventSeries, organization: Organization, now: datetime
) -> int:
    """Publish the series' drafts. Members hear about it once: only the first occurrence is
    announced (its notice payload carries `series_id`). Returns members notified.
    "not_editable" when no draft is left (another tap published them), as `publish` says of one."""
    notified = 0
    drafts = [e for e in await series_events(session, series.id or 0) if e.status == EventStatus.DRAFT]
    if not drafts:
        raise EventError("not_editable")
    for index, event in enumerate(drafts):
        notified += await publish(session, event, organization, now, announce=index == 0)
    return notified


async def update_series_from(
    session: AsyncSession,
    occurrence: Event,
    organization: Organization,
    now: datetime,
    **changes: Any,
) -> list[EventUpdate]:
    """Apply a change to this occurrence and every later one of its series.

    `starts_at`/`ends_at` give this occurrence's new times: later ones move by the same number
    of days to the same new local clock time in the series' zone (DST-safe), and keep the new
    duration. Other fields are copied as they are. The series row follows.
    """
    if occurrence.series_id is None:
        return [await update_event(session, occurrence, organization, now, **changes)]
    series = await session.get(EventSeries, occurrence.series_id)
    assert series is not None
    zone = ZoneInfo(series.timezone)
    new_start: datetime | None = changes.pop("starts_at", None)
    end_given = "ends_at" in changes  # None removes the end time
    new_end: datetime | None = changes.pop("ends_at", None)
    old_local = occurrence.starts_at.astimezone(zone)
    day_shift = 0
    clock = series.local_start
    if new_start is not None:
        local = new_start.astimezone(zone)
        day_shift = (local.date() - old_local.date()).days
        clock = local.hour * 60 + local.minute
    anchor_start = new_start or occurrence.starts_at
    if end_given:
        duration: timedelta | None = new_end - anchor_start if new_end is not None else None
    elif occurrence.ends_at is not None:
        duration = occurrence.ends_at - occurrence.starts_at
    else:
        duration = None
    targets = sorted(
        [
            e
            for e in await series_events(session, occurrence.series_id, from_start=occurrence.starts_at)
            if e.starts_at > now or e.id == occurrence.id
        ],
        key=lambda e: e.id or 0,  # lock order
    )
    planned = []
    for event in targets:
        event_changes = dict(changes)
        if new_start is not None or end_given:
            start = event.starts_at
            if new_start is not None:
                day = event.starts_at.astimezone(zone).date() + timedelta(days=day_shift)
                start = local_to_utc(day, clock, zone)
            if start != event.starts_at:
                event_changes["starts_at"] = start
            event_changes["ends_at"] = start + duration if duration is not None else None
        check_update(event, now, **event_changes)  # all checked before the first write
        planned.append((event, event_changes))
    results = [
        await update_event(session, event, organization, now, **event_changes)
        for event, event_changes in planned
    ]
    if new_start is not None:
        series.local_start = clock
        series.weekday = (series.weekday + day_shift) % 7
    if new_start is not None or end_given:
        series.duration_minutes = int(duration.total_seconds() // 60) if duration is not None else None
    session.add(series)
    await session.flush()
    return results


# -- drafts: a series goes along --------------------------------------------------------------------


def week_of_month(local: datetime) -> int:
    """Which of its month's weekdays a local date is: 1 to 4, or -1 for the last (a fifth one)."""
    nth = (local.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


async def create_drafts(
    session: AsyncSession,
    *,
    organization: Organization,
    rule: SeriesRule | None,
    starts_at: datetime,
    ends_at: datetime | None,
    rsvp_deadline: datetime | None,
    timezone: str,
    now: datetime,
    count: int,
    **fields: Any,
) -> list[Event]:
    """One draft (`rule` None), or a series of `count` drafts on the first one's local clock (a
    monthly one on the same weekday of the month), each closing answers as long before its start
    as `rsvp_deadline` is before `starts_at`. `fields` are `create_event`'s."""
    if rule is None:
        event = await create_event(
            session,
            organization_id=organization.id or 0,
            starts_at=starts_at,
            ends_at=ends_at,
            rsvp_deadline=rsvp_deadline,
            timezone=timezone,
            now=now,
            **fields,
        )
        return [event]
    local = starts_at.astimezone(ZoneInfo(timezone))
    _series, events = await create_series(
        session,
        organization_id=organization.id or 0,
        rule=rule,
        timezone=timezone,
        starts_on=local.date(),
        local_start=local.hour * 60 + local.minute,
        now=now,
        duration_minutes=int((ends_at - starts_at).total_seconds() // 60) if ends_at else None,
        weekday=local.weekday(),
        nth=week_of_month(local) if rule == SeriesRule.MONTHLY_WEEKDAY else None,
        count=count,
        **fields,
    )
    if rsvp_deadline is not None:
        lead = starts_at - rsvp_deadline
        for occurrence in events:
            await update_event(
                session, occurrence, organization, now, rsvp_deadline=occurrence.starts_at - lead
            )
    return events


async def publish_draft(
    session: AsyncSession, event: Event, organization: Organization, now: datetime
) -> int:
    """Publish a draft, or every draft of its series (announced once). Returns members notified."""
    series = await session.get(EventSeries, event.series_id) if event.series_id else None
    if series is not None:
        return await publish_series(session, series, organization, now)
    return await publish(session, event, organization, now)


async def discard_draft(session: AsyncSession, event: Event) -> None:
    """A draft (and the other drafts of its series) simply goes: members never saw it. The series
    row goes too when no occurrence is left."""
    if event.series_id is None:
        await delete_draft(session, event)
        return
    series_id = event.series_id
    for occurrence in await series_events(session, series_id):
        if occurrence.status == EventStatus.DRAFT:
            await delete_draft(session, occurrence)
    remaining = (
        await session.exec(select(func.count()).select_from(Event).where(Event.series_id == series_id))
    ).one()
    series = await session.get(EventSeries, series_id)
    if not remaining and series is not None:
        await session.delete(series)
        await session.flush()

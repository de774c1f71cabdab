"""Time arithmetic in members' own zones: quiet hours and "10:00 local" sends (DST-safe)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def _at_local(day: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """`day`'s date at hh:mm in `zone`, as UTC (a time skipped by a DST change moves forward)."""
    local = datetime.combine(day.date(), time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def in_quiet_hours(moment: datetime, zone_name: str, start: int, end: int) -> bool:
    local = moment.astimezone(ZoneInfo(zone_name))
    minutes = local.hour * 60 + local.minute
    if start == end:
        return False
    if start < end:
        return start <= minutes < end
    return minutes >= start or minutes < end  # the window wraps midnight, e.g. 22:00–08:00


def after_quiet_hours(moment: datetime, zone_name: str, start: int, end: int) -> datetime:
    """`moment`, or the end of the member's quiet hours if it falls inside them."""
    if not in_quiet_hours(moment, zone_name, start, end):
        return moment
    zone = ZoneInfo(zone_name)
    local = moment.astimezone(zone)
    candidate = _at_local(local, end, zone)
    if candidate <= moment:
        candidate = _at_local(local + timedelta(days=1), end, zone)
    return candidate


def next_local_time(after: datetime, zone_name: str, minutes: int) -> datetime:
    """The first hh:mm on the member's clock at or after `after` (UTC)."""
    zone = ZoneInfo(zone_name)
    local = after.astimezone(zone)
    candidate = _at_local(local, minutes, zone)
    if candidate < after:
        candidate = _at_local(local + timedelta(days=1), minutes, zone)
    return candidate


def parse_clock(text: str) -> int | None:
    """ "10:00", "9.30", "18h30", "6:30pm", "6pm" → minutes after midnight; None if not a time."""
    match = re.fullmatch(r"\s*(\d{1,2})(?:([:.h])(\d{2})?)?\s*(am|pm)?\s*", text.strip().lower())
    if not match or (match.group(2) in (":", ".") and match.group(3) is None):
        return None
    hour, minute = int(match.group(1)), int(match.group(3) or 0)
    suffix = match.group(4)
    if suffix:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    elif match.group(2) is None:
        return None  # a bare number is not a time ("18h" is)
    if hour > 23 or minute > 59:
        return None
    return hour * 60 + minute

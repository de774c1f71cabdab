"""What a statistics request covers: which organizations (`Scope`) and which days (`Period`), the
days counted in the viewer's time zone and grouped by week (Monday first)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import true
from sqlmodel import col

PRESET_DAYS = (30, 90, 365)


@dataclass(frozen=True)
class Scope:
    """One organization, or every one (`organization_id` None: the super-admins' confederation view)."""

    organization_id: int | None

    def where(self, column: Any) -> Any:
        """The condition "`column` is an organization of the scope" (true for every one)."""
        return true() if self.organization_id is None else col(column) == self.organization_id

    def covers(self, organization_id: int | None) -> bool:
        return self.organization_id is None or organization_id == self.organization_id


@dataclass(frozen=True)
class Period:
    """The days `first` to `last` (both included) in the time zone `zone`."""

    first: date
    last: date
    zone: str = "UTC"

    @classmethod
    def last_days(cls, days: int, now: datetime, zone: str) -> Period:
        """The `days` days that end today (in `zone`)."""
        today = now.astimezone(ZoneInfo(zone)).date()
        return cls(today - timedelta(days=days - 1), today, zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first moment of the period, in UTC."""
        return self._midnight(self.first)

    @property
    def end(self) -> datetime:
        """The first moment after the period, in UTC."""
        return self._midnight(self.last + timedelta(days=1))

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), ZoneInfo(self.zone)).astimezone(UTC)

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def week_of(self, moment: datetime) -> date:
        """The Monday of the week `moment` falls in, in the period's zone."""
        day = moment.astimezone(ZoneInfo(self.zone)).date()
        return day - timedelta(days=day.weekday())

    def weeks(self) -> list[date]:
        """The Mondays of every week the period touches, in order."""
        monday = self.first - timedelta(days=self.first.weekday())
        return [monday + timedelta(weeks=index) for index in range((self.last - monday).days // 7 + 1)]

    def per_week(self, moments: Iterable[datetime]) -> dict[date, int]:
        """How many of `moments` fall in each week of the period (those outside it left out)."""
        counts = dict.fromkeys(self.weeks(), 0)
        for moment in moments:
            if self.contains(moment):
                counts[self.week_of(moment)] += 1
        return counts

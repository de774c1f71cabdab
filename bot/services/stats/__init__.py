"""Statistics for an organization's staff and the confederation's super-admins: members over time
and by profile, events, trainings, surveys, announcements and the library's usage over a period
(`collect`), and for super-admins one row per organization (`organization_rows`, in `table`).

Nothing here can single anyone out: every breakdown of members passes through
`bot.services.suppression` (groups under `STATS_MIN_GROUP` merged into "Other", with complementary
suppression), the weekly joins and leaves too (small weeks shown as "< 5"), and the library's
counts of people per resource (`library`); the raw counts never leave this package. What the
views and the exports get is already safe to show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.stats.activity import (
    EventStats,
    ReachStats,
    SurveyStats,
    TrainingStats,
    event_stats,
    reach_stats,
    survey_stats,
    training_stats,
)
from bot.services.stats.library import LibraryStats, ResourceUsage, library_stats
from bot.services.stats.members import NOT_GIVEN, PROFILE_FIELDS, flow, member_count, profile_counts
from bot.services.stats.period import PRESET_DAYS, Period, Scope
from bot.services.stats.table import OrganizationRow, organization_rows
from bot.services.suppression import FEW, WITHHELD, Breakdown, breakdown, series

__all__ = [
    "FEW",
    "NOT_GIVEN",
    "PRESET_DAYS",
    "PROFILE_FIELDS",
    "WITHHELD",
    "LibraryStats",
    "OrganizationRow",
    "Period",
    "ResourceUsage",
    "Scope",
    "Stats",
    "collect",
    "organization_rows",
    "shown_count",
]


def shown_count(count: int, min_group: int) -> int | str:
    """A number of people as it may be shown alone: `FEW` under the threshold (zero stays zero)."""
    return FEW if 0 < count < min_group else count


@dataclass
class Stats:
    scope: Scope
    period: Period
    min_group: int
    members: int
    joins: dict[date, int | str]  # per week (Monday): a count, `FEW` or `WITHHELD`
    leaves: dict[date, int | str]
    joins_total: int | str
    leaves_total: int | str
    profile: dict[str, Breakdown]  # per `PROFILE_FIELDS` name
    events: EventStats
    trainings: TrainingStats
    surveys: SurveyStats
    reach: ReachStats
    library: LibraryStats


async def collect(
    session: AsyncSession, scope: Scope, period: Period, min_group: int, now: datetime
) -> Stats:
    """Everything /stats shows for the scope and period, small groups suppressed."""
    moves = await flow(session, scope, period)
    profile = await profile_counts(session, scope)
    return Stats(
        scope=scope,
        period=period,
        min_group=min_group,
        members=await member_count(session, scope),
        joins=series(moves.joins, min_group),
        leaves=series(moves.leaves, min_group),
        joins_total=shown_count(sum(moves.joins.values()), min_group),
        leaves_total=shown_count(sum(moves.leaves.values()), min_group),
        profile={name: breakdown(profile[name], min_group) for name in PROFILE_FIELDS},
        events=await event_stats(session, scope, period, now, min_group),
        trainings=await training_stats(session, scope, period, now),
        surveys=await survey_stats(session, scope, period),
        reach=await reach_stats(session, scope, period),
        library=await library_stats(session, scope, period, min_group),
    )


def _keyed(counts: dict[date, int]) -> dict[date, int]:
    return counts

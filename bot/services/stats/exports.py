"""/stats as files: a CSV of (section, item, value) rows with stable codes (ISO country and language
codes, interest keys, Mondays of weeks), and an XLSX workbook holding the same rows in the viewer's
words, plus a sheet of the library's usage per resource and one of the organizations for the
super-admins' view. Both hold what /stats shows and no more: small groups are already merged,
hidden counts written "<5" (`FEW`) or "suppressed"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.services import spreadsheets
from bot.services.stats import FEW, PROFILE_FIELDS, OrganizationRow, ResourceUsage, Stats
from bot.services.stats.activity import EventStats
from bot.services.suppression import Breakdown

Label = Callable[[str, str], tuple[str, str]]  # (section, item) → the words for both
OTHER = "other"
TABLE_COLUMNS = ("members", "joined", "left", "events", "checkins", "delivered")
USAGE_COLUMNS = ("views", "saves", "useful", "not_useful")


def rate(part: int, whole: int, min_group: int) -> float | None:
    """`part` of `whole` as a fraction; None when `whole` is too small to say it of nobody."""
    return round(part / whole, 4) if whole >= min_group and whole > 0 else None


def shown(value: int | str, min_group: int) -> int | str:
    if value == FEW:
        return f"<{min_group}"
    return "suppressed" if isinstance(value, str) else value


def rows(stats: Stats) -> Iterator[tuple[str, str, Any]]:
    """Every figure of /stats as (section, item, value)."""
    low = stats.min_group
    yield "period", "first", stats.period.first.isoformat()
    yield "period", "last", stats.period.last.isoformat()
    yield "members", "now", stats.members
    yield "members", "joined", shown(stats.joins_total, low)
    yield "members", "left", shown(stats.leaves_total, low)
    for section, weekly in (("joins_per_week", stats.joins), ("leaves_per_week", stats.leaves)):
        for monday, value in weekly.items():
            yield section, monday.isoformat(), shown(value, low)
    for name in PROFILE_FIELDS:
        groups = stats.profile[name]
        yield from ((name, group, count) for group, count in groups.shown)
        if groups.other:
            yield name, OTHER, _other(groups, low)
    yield from _events(stats.events, low)
    trainings = stats.trainings
    yield "trainings", "trainings", trainings.trainings
    yield "trainings", "capacity", trainings.capacity
    yield "trainings", "confirmed", trainings.confirmed
    yield "trainings", "fill_rate", _or_blank(rate(trainings.confirmed, trainings.capacity, 1))
    yield "trainings", "waitlisted", trainings.waitlisted
    yield "trainings", "finished_participants", trainings.finished_participants
    yield "trainings", "completed", trainings.completed
    completion = rate(trainings.completed, trainings.finished_participants, low)
    yield "trainings", "completion_rate", _or_blank(completion)
    surveys = stats.surveys
    yield "surveys", "surveys", surveys.surveys
    yield "surveys", "invitations_delivered", surveys.invited
    yield "surveys", "responses", surveys.responses
    yield "surveys", "response_rate", _or_blank(rate(surveys.responses, surveys.invited, low))
    yield "announcements", "announcements", stats.reach.announcements
    for outcome in ("delivered", "blocked", "failed", "waiting"):
        yield "announcements", outcome, stats.reach.deliveries[outcome]
    yield "library", "published", stats.library.published
    yield "library", "opened", stats.library.opened


def usage_values(usage: ResourceUsage) -> tuple[int | str, ...]:
    """A resource's counts in the order of `USAGE_COLUMNS`."""
    return usage.views, usage.saves, usage.useful, usage.not_useful


def library_rows(stats: Stats) -> Iterator[tuple[str, str, Any]]:
    """The CSV's rows per resource: its title, then each count, the resource's id as the item."""
    for usage in stats.library.resources:
        yield "resource.title", str(usage.resource_id), usage.title
        for column, value in zip(USAGE_COLUMNS, usage_values(usage), strict=True):
            yield f"resource.{column}", str(usage.resource_id), shown(value, stats.min_group)


def _events(events: EventStats, low: int) -> Iterator[tuple[str, str, Any]]:
    yield "events", "events", events.events
    for status in ("going", "maybe", "not_going", "waitlisted", "offered"):
        yield "events", status, events.answers[status]
    yield "events", "checkins", events.checkins
    yield "events", "going_past", events.going_past
    yield "events", "going_attended", events.going_attended
    yield "events", "conversion", _or_blank(rate(events.going_attended, events.going_past, low))
    yield from (("attendees", group, count) for group, count in events.attendees.shown)
    if events.attendees.other:
        yield "attendees", OTHER, _other(events.attendees, low)


def _other(groups: Breakdown, low: int) -> int | str:
    """The merged small groups: under the threshold themselves only when the whole is."""
    return shown(FEW if groups.other < low else groups.other, low)


def _or_blank(value: float | None) -> float | str:
    return "" if value is None else value


def table_rows(table: list[OrganizationRow], min_group: int) -> Iterator[tuple[str, str, Any]]:
    for row in table:
        for column, value in zip(TABLE_COLUMNS, _values(row), strict=True):
            yield f"organization.{column}", row.name, shown(value, min_group)


def export_csv(stats: Stats, table: list[OrganizationRow] | None = None) -> bytes:
    body = [*rows(stats), *library_rows(stats), *table_rows(table or [], stats.min_group)]
    return spreadsheets.csv_bytes([("section", "item", "value"), *body])


@dataclass(frozen=True)
class Words:
    """The viewer's words for the workbook: `label` names each (section, item) of `rows`."""

    label: Label
    sheet: str  # the title of the statistics sheet
    headings: tuple[str, str, str]  # section, item, value
    table_sheet: str = ""  # the super-admins' sheet: one row per organization
    table_headings: tuple[str, ...] = ()  # the organization, then `TABLE_COLUMNS`
    library_sheet: str = ""  # one row per resource used in the period
    library_headings: tuple[str, ...] = ()  # the resource, then `USAGE_COLUMNS`
    title: Callable[[ResourceUsage], str] = lambda usage: usage.title  # in the viewer's language


def export_xlsx(stats: Stats, words: Words, table: list[OrganizationRow] | None = None) -> bytes:
    """The CSV's rows in the viewer's words, the library's usage per resource on a sheet of its
    own, and (for the super-admins' view) one row per organization on another."""
    workbook = spreadsheets.new_workbook()
    named = [(*words.label(section, item), value) for section, item, value in rows(stats)]
    spreadsheets.add_sheet(workbook, words.sheet, [words.headings, *named])
    if stats.library.resources:
        low = stats.min_group
        used = [
            (words.title(usage), *(shown(value, low) for value in usage_values(usage)))
            for usage in stats.library.resources
        ]
        spreadsheets.add_sheet(workbook, words.library_sheet, [words.library_headings, *used])
    if table:
        body = [(row.name, *(shown(value, stats.min_group) for value in _values(row))) for row in table]
        spreadsheets.add_sheet(workbook, words.table_sheet, [words.table_headings, *body])
    return spreadsheets.workbook_bytes(workbook)


def _values(row: OrganizationRow) -> tuple[int | str, ...]:
    return row.members, row.joins, row.leaves, row.events, row.checkins, row.delivered

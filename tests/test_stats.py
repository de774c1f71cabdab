"""Statistics' building blocks: small groups suppressed (one rule for surveys and /stats), weekly
counts, typed ranges of days, and joins and leaves per week from memberships and the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.dates import DateError, parse_day_range
from bot.services.members import TelegramIdentity, forget_member, record_consent
from bot.services.roles import ensure_default_organization
from bot.services.stats import Period, Scope
from bot.services.stats.members import Flow, flow
from bot.services.suppression import FEW, WITHHELD, Breakdown, breakdown, hidden_groups, series
from bot.services.surveys import breakdowns
from storage.models import AuditEntry, Membership


def test_one_suppression_rule_for_survey_breakdowns_and_statistics() -> None:
    assert breakdowns.hidden_groups is hidden_groups


def test_a_small_city_is_merged_with_the_next_smallest_so_no_total_gives_it_back() -> None:
    cities = {"Berlin": 6, "Hamburg": 5, "Lyon": 2}
    shown = breakdown(cities, 5)
    assert shown == Breakdown(shown=[("Berlin", 6)], other=7, other_groups=2)
    assert shown.total == sum(cities.values())  # the total is right; "Other" is Lyon and Hamburg
    assert breakdown({"Berlin": 6, "Hamburg": 5, "Lyon": 2, "?": 3}, 5).shown == [
        ("Berlin", 6),
        ("Hamburg", 5),
    ]
    assert breakdown({"A": 2, "B": 1}, 5) == Breakdown([], 3, 2)  # all hidden: fewer than 5 in all
    assert breakdown({"A": 0, "B": 7}, 5) == Breakdown([("B", 7)], 0, 0)  # an empty group hides no one


def test_weekly_counts_under_the_threshold_are_few_and_one_more_is_withheld_when_needed() -> None:
    weeks = {date(2027, 3, 1): 0, date(2027, 3, 8): 2, date(2027, 3, 15): 9, date(2027, 3, 22): 6}
    assert series(weeks, 5) == {
        date(2027, 3, 1): 0,
        date(2027, 3, 8): FEW,
        date(2027, 3, 15): 9,
        date(2027, 3, 22): WITHHELD,  # else the period's total minus 9 and 6 gives the 2 back
    }
    assert series({date(2027, 3, 1): 7, date(2027, 3, 8): 5}, 5) == {date(2027, 3, 1): 7, date(2027, 3, 8): 5}


def test_a_period_counts_per_week_in_its_zone() -> None:
    period = Period(date(2027, 3, 3), date(2027, 3, 16), "Europe/Berlin")  # Wednesday to Tuesday
    assert period.weeks() == [date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15)]
    assert period.start == datetime(2027, 3, 2, 23, 0, tzinfo=UTC)
    moments = [
        datetime(2027, 3, 2, 23, 30, tzinfo=UTC),  # 3 March in Berlin: in
        datetime(2027, 3, 7, 23, 30, tzinfo=UTC),  # Monday 8 March in Berlin: the second week
        datetime(2027, 3, 16, 23, 30, tzinfo=UTC),  # 17 March in Berlin: out
    ]
    assert period.per_week(moments) == {date(2027, 3, 1): 1, date(2027, 3, 8): 1, date(2027, 3, 15): 0}


@pytest.mark.parametrize(
    ("typed", "language", "expected"),
    [
        ("2027-01-01 – 2027-03-31", "en", (date(2027, 1, 1), date(2027, 3, 31))),
        ("1.1.2027 - 31.3.2027", "de", (date(2027, 1, 1), date(2027, 3, 31))),
        ("01.03 - 15.03", "fr", (date(2027, 3, 1), date(2027, 3, 15))),
        ("1 mars 2027 - 31 mars 2027", "fr", (date(2027, 3, 1), date(2027, 3, 31))),
        ("١/٣/٢٠٢٧ - ١٥/٣/٢٠٢٧", "ar", (date(2027, 3, 1), date(2027, 3, 15))),
    ],
)
def test_typed_ranges_of_days(typed: str, language: str, expected: tuple[date, date]) -> None:
    assert parse_day_range(typed, date(2027, 5, 10), language=language) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("soon", "format"),
        ("2027-01-01", "format"),
        ("03/04 - 05/06", "ambiguous"),
        ("2027-03-31 - 2027-01-01", "order"),
        ("2020-01-01 - 2027-01-01", "long"),
    ],
)
def test_ranges_that_cannot_be_taken_say_why(typed: str, reason: str) -> None:
    with pytest.raises(DateError) as refused:
        parse_day_range(typed, date(2027, 5, 10), language="en")
    assert refused.value.reason == reason


async def _at(session: AsyncSession, action: str, moment: datetime) -> None:
    """Date the latest `action` entry back to `moment`."""
    entry = (
        await session.exec(
            select(AuditEntry).where(AuditEntry.action == action).order_by(col(AuditEntry.id).desc())
        )
    ).first()
    assert entry is not None
    entry.at = moment
    session.add(entry)
    await session.flush()


async def test_joins_and_leaves_per_week_count_those_who_left(session: AsyncSession) -> None:
    organization = await ensure_default_organization(session, "Org", "en", "UTC")
    scope, period = Scope(organization.id), Period(date(2027, 3, 1), date(2027, 3, 21), "UTC")
    weeks = period.weeks()
    assert await flow(session, scope, period) == Flow(dict.fromkeys(weeks, 0), dict.fromkeys(weeks, 0))
    people = [
        await record_consent(session, TelegramIdentity(700 + index, None, "x"), "en", "UTC", organization.id)
        for index in range(3)
    ]
    memberships = (await session.exec(select(Membership).order_by(col(Membership.id)))).all()
    for membership, day in zip(memberships, (2, 9, 9), strict=True):
        membership.created_at = datetime(2027, 3, day, 12, tzinfo=UTC)
        session.add(membership)
    # Someone who joined in the first week left in the third (their membership row is gone).
    audit.record(
        session,
        "membership.left",
        actor_telegram_id=None,
        organization_id=organization.id,
        details={"joined_at": datetime(2027, 3, 3, tzinfo=UTC).isoformat()},
    )
    await session.flush()
    await _at(session, "membership.left", datetime(2027, 3, 16, tzinfo=UTC))
    assert await flow(session, scope, period) == Flow(
        dict(zip(weeks, (2, 2, 0), strict=True)), dict(zip(weeks, (0, 0, 1), strict=True))
    )
    # Erasing one's data is a leave too, and their join still counts.
    await forget_member(session, people[0])
    await _at(session, "member.deleted", datetime(2027, 3, 20, tzinfo=UTC))
    assert await flow(session, scope, period) == Flow(
        dict(zip(weeks, (2, 2, 0), strict=True)), dict(zip(weeks, (0, 0, 2), strict=True))
    )

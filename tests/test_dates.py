"""Dates as organizers type them, in their language and zone (bot/services/dates.py): the phrases
of issue 16, a date without a year as its next occurrence, day/month order that only the
organizer can settle, and a past moment named back (the older forms: test_text_and_parsing.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.services.dates import DateError, parse_local_datetime

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)  # Wednesday 10 March 2027, 13:00 in Paris


@pytest.mark.parametrize(
    ("language", "typed", "expected_utc"),
    [
        ("fr", "19/12 19h", "2027-12-19T18:00"),  # the next 19 December
        ("fr", "demain 18h", "2027-03-11T17:00"),
        ("fr", "le 19 décembre à 19h", "2027-12-19T18:00"),
        ("en", "next Friday 7pm", "2027-03-12T18:00"),
        ("en", "7pm next Friday", "2027-03-12T18:00"),  # the time first
        ("en", "12/25 6:30 pm", "2027-12-25T17:30"),  # 25 cannot be a month
        ("ru", "завтра в 18:30", "2027-03-11T17:30"),
        ("ru", "в субботу в 10:00", "2027-03-13T09:00"),
        ("uk", "у неділю о 10:00", "2027-03-14T09:00"),
        ("es", "sábado 10:00", "2027-03-13T09:00"),
        ("de", "morgen um 18:00", "2027-03-11T17:00"),
        ("fa", "فردا ساعت ۱۸:۰۰", "2027-03-11T17:00"),  # Persian digits
        ("fr", "03/04 18:00", "2027-04-03T16:00"),  # day first in French: 3 April
        ("fr", "10/03 18:00", "2027-03-10T17:00"),  # today, still to come
        ("fr", "10/03 11:00", "2028-03-10T10:00"),  # today's date, time passed: next year's
        ("fr", "mercredi 11h", "2027-03-17T10:00"),  # today's weekday, time passed: next week's
        ("fr", "09/03 18:00", "2028-03-09T17:00"),  # yesterday's date: next year's
    ],
)
def test_dates_in_the_organizers_language(language: str, typed: str, expected_utc: str) -> None:
    moment = parse_local_datetime(typed, "Europe/Paris", NOW, language=language)
    assert moment.utc.strftime("%Y-%m-%dT%H:%M") == expected_utc


def test_a_day_and_month_that_read_both_ways_are_asked_about() -> None:
    """In English 03/04 is 3 April or 4 March: both readings come back, nothing is guessed."""
    with pytest.raises(DateError) as error:
        parse_local_datetime("03/04 18:00", "Europe/Paris", NOW, language="en")
    assert error.value.reason == "ambiguous"
    assert [moment.strftime("%Y-%m-%d %H:%M") for moment in error.value.moments] == [
        "2027-04-03 16:00",  # 3 April (day first)
        "2028-03-04 17:00",  # 4 March (month first), next year's since this one has passed
    ]
    assert error.value.zone == "Europe/Paris"
    same_both_ways = parse_local_datetime("04/04 18:00", "Europe/Paris", NOW, language="en")
    assert same_both_ways.utc == datetime(2027, 4, 4, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "typed"),
    [("fr", "14.03.2020 18:30"), ("es", "hoy 11:00"), ("en", "2027-03-10 12:30")],
)
def test_a_past_moment_is_named_back(language: str, typed: str) -> None:
    with pytest.raises(DateError) as error:
        parse_local_datetime(typed, "Europe/Paris", NOW, language=language)
    assert error.value.reason == "past"
    assert len(error.value.moments) == 1 and error.value.moments[0] <= NOW


@pytest.mark.parametrize("typed", ["next week 18:00", "demain", "mardi prochain vers midi", "32/01 10:00"])
def test_unreadable_dates(typed: str) -> None:
    with pytest.raises(DateError) as error:
        parse_local_datetime(typed, "Europe/Paris", NOW, language="fr")
    assert error.value.reason == "format"

"""Dates as organizers type them (issue 16), through the emulator: /newevent's start typed the way
a French, English, Russian and Spanish organizer would, each in their own zone, echoed back in
words and stored as that moment; a past or two-way date is a question, a typed end an echo."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.i18n import format_when, zone_city
from storage.db import create_session_factory
from storage.models import Event, Member
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.helpers import plain
from tests.e2e.test_announce import make_organizer


def tomorrow(today: date) -> date:
    return today + timedelta(days=1)


def next_weekday(weekday: int, strictly_after: bool) -> Any:
    """The first `weekday` (Monday 0) after today (or from today on)."""

    def day(today: date) -> date:
        ahead = (weekday - today.weekday()) % 7
        return today + timedelta(days=ahead or (7 if strictly_after else 0))

    return day


def next_day_of_year(month: int, day_number: int) -> Any:
    def day(today: date) -> date:
        this_year = date(today.year, month, day_number)
        return this_year if this_year >= today else date(today.year + 1, month, day_number)

    return day


# (language, zone, typed, the day it means from a given local today, the local clock time)
PHRASES = [
    ("fr", "Europe/Paris", "19/12 19h", next_day_of_year(12, 19), time(19, 0)),
    ("fr", "Europe/Paris", "demain 18h", tomorrow, time(18, 0)),
    ("en", "America/New_York", "next Friday 7pm", next_weekday(4, strictly_after=True), time(19, 0)),
    ("ru", "Europe/Moscow", "завтра в 18:30", tomorrow, time(18, 30)),
    ("es", "Europe/Madrid", "sábado 10:00", next_weekday(5, strictly_after=False), time(10, 0)),
]


def meant(zone: str, day_of: Any, clock: time) -> datetime:
    """What the phrase means now; a day whose clock time has passed is next week's or year's."""
    now = utcnow()
    local_today = now.astimezone(ZoneInfo(zone)).date()
    moment = datetime.combine(day_of(local_today), clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    if moment <= now:  # only today's weekday or date can be passed
        later = day_of(local_today + timedelta(days=1))
        moment = datetime.combine(later, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return moment


async def organizer_in(harness: Harness, registered: Any, language: str, zone: str) -> Any:
    user = await make_organizer(harness, registered, language)
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        member.timezone = zone
        session.add(member)
        await session.commit()
    return user


async def start_question(harness: Harness, organizer: Any, language: str) -> None:
    await harness.send(organizer, "/newevent")
    question = await harness.send(organizer, "Rencontre")
    await harness.choose(organizer, question, harness.t("Skip", language))


@pytest.mark.parametrize(("language", "zone", "typed", "day_of", "clock"), PHRASES)
async def test_a_start_typed_as_people_do_is_echoed_and_stored(
    harness: Harness,
    registered: Any,
    language: str,
    zone: str,
    typed: str,
    day_of: Any,
    clock: time,
) -> None:
    organizer = await organizer_in(harness, registered, language, zone)
    t = harness.t
    await start_question(harness, organizer, language)
    before = meant(zone, day_of, clock)
    echo = await harness.send(organizer, typed)
    after = meant(zone, day_of, clock)  # the same unless midnight passed meanwhile
    start = before if format_when(before, language, zone, "words") in echo["text"] else after
    assert echo["text"] == plain(
        t("It starts on {when}. Is that right?", language, when=format_when(start, language, zone, "words"))
    )
    assert f"({zone_city(zone, language)})" in echo["text"]  # in the organizer's own zone, named
    question = await harness.choose(organizer, echo, t("✅ Correct", language))
    for button in ("Skip", "Skip", "No limit", "Skip", "No reminders", "Everyone", "Only once"):
        question = await harness.choose(organizer, question, t(button, language))
    async with create_session_factory(harness.app.engine)() as session:
        event = (await session.exec(select(Event))).one()
    assert event.starts_at == start
    assert event.starts_at.astimezone(ZoneInfo(zone)).time() == clock


async def test_past_and_two_way_dates_are_questions_and_an_end_is_echoed(
    harness: Harness, registered: Any
) -> None:
    organizer = await organizer_in(harness, registered, "en", "Europe/London")
    t = harness.t
    await start_question(harness, organizer, "en")
    past = datetime(2020, 3, 14, 18, 30, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    reply = await harness.send(organizer, "14.03.2020 18:30")
    assert reply["text"] == plain(
        t(
            "{when} has already passed. Which date did you mean? Please send a date and time to come.",
            "en",
            when=format_when(past, "en", "Europe/London", "words"),
        )
    )
    assert reply["text"].startswith("Saturday, March 14, 2020")
    reply = await harness.send(organizer, "03/04/2099 18:00")
    first, second = (
        datetime(2099, month, day, 18, 0, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
        for month, day in ((4, 3), (3, 4))
    )
    assert reply["text"] == plain(
        t(
            "Did you mean {first} or {second}? Please send it again with the month in words, or the "
            "year first, for example {example}.",
            "en",
            first=format_when(first, "en", "Europe/London", "words"),
            second=format_when(second, "en", "Europe/London", "words"),
            example="2099-04-03 18:00",
        )
    )
    echo = await harness.send(organizer, "3 April 2099 18:00")  # the month in words: no doubt left
    assert "April 3, 2099" in echo["text"]
    await harness.choose(organizer, echo, t("✅ Correct", "en"))
    place_question = await harness.send(organizer, "9:30pm")
    end = datetime(2099, 4, 3, 21, 30, tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    assert place_question["text"] == plain(
        t("✅ It ends on {when}.", "en", when=format_when(end, "en", "Europe/London", "words"))
        + "\n\n"
        + t(
            "Where does it take place? Send an address, or a link (https://…) for an online event, "
            "or press Skip.",
            "en",
        )
    )

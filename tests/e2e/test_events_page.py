"""A member's first /events page is read once while nothing it shows changes
(`bot.services.upcoming_cache`, long polling): every change shows in the next /events at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlmodel import col

from bot.services import events as service
from storage.db import create_session_factory
from storage.models import Event, Membership, Organization
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.reach_kit import home_id, member_row, published_event


async def _edit(harness: Harness, event_id: int, **changes: Any) -> None:
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
        organization = await session.get(Organization, home_id(harness))
        assert event is not None and organization is not None
        await service.update_event(session, event, organization, utcnow(), **changes)
        await session.commit()


async def _cancel(harness: Harness, event_id: int) -> None:
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
        organization = await session.get(Organization, home_id(harness))
        assert event is not None and organization is not None
        await service.cancel_event(session, event, organization, utcnow())
        await session.commit()


async def test_events_page_shows_every_change_at_once(harness: Harness, registered: Any) -> None:
    """Given Amina's /events read once, when an event is renamed, she answers, another is
    published, one is cancelled or she leaves the organization, then her next /events shows it."""
    amina = await registered("Amina", "en")
    meetup = await published_event(harness, home_id(harness), "Meetup")
    page = await harness.send(amina, "/events")
    assert "1. Meetup" in page["text"]
    assert (await harness.send(amina, "/events"))["text"] == page["text"]  # nothing changed

    await _edit(harness, meetup, title="Picnic")
    page = await harness.send(amina, "/events")
    assert "1. Picnic" in page["text"] and "Meetup" not in page["text"]

    card = await harness.choose(amina, page, "1. Picnic")
    await harness.press(amina, card, "✅ Going")
    page = await harness.send(amina, "/events")
    assert "1. Picnic ✅" in page["text"]

    workshop = await published_event(harness, home_id(harness), "Workshop")
    page = await harness.send(amina, "/events")
    assert page["text"].startswith("📅 2 upcoming events") and "2. Workshop" in page["text"]

    await _cancel(harness, workshop)
    page = await harness.send(amina, "/events")
    assert page["text"].startswith("📅 1 upcoming event") and "Workshop" not in page["text"]

    member = await member_row(harness, amina)
    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(delete(Membership).where(col(Membership.member_id) == member.id))  # type: ignore[call-overload]
        await session.commit()
    page = await harness.send(amina, "/events")
    assert "Picnic" not in page["text"]

"""A member's private calendar feed: turned on from /profile, read by calendar apps at a secret
address (the events they answered Going or Maybe to, and their training sessions, in their
language), given a new address (the old one stops working), turned off, and erased by /forget."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from icalendar import Calendar
from sqlmodel import select

from bot.services import events as service
from bot.services.calendar_feed import feed_token
from bot.services.members import TelegramIdentity, complete_profile, record_consent
from bot.services.privacy import erase_everything
from bot.web.server import WebServer
from storage.db import create_session_factory
from storage.models import Member, SignupStatus, Training, TrainingSignup
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons, start_harness


async def _fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_calendar_feed_from_profile_to_calendar_app(migrated_url: str) -> None:
    async for harness in start_harness(migrated_url, public_url="http://127.0.0.1:1"):
        await _story(harness)


async def _story(harness: Harness) -> None:
    server = WebServer(harness.app)
    address = await server.start("127.0.0.1:0")
    harness.app.settings.public_url = f"http://{address}"  # the address calendar apps reach
    sessions = create_session_factory(harness.app.engine)
    organization = harness.app.dispatcher["organization"]
    user = harness.emulator.create_user("Olga", language_code="ru")
    try:
        async with sessions() as session:
            member = await record_consent(
                session, TelegramIdentity(user.id, None, "Olga"), "ru", "Europe/Kyiv", organization.id
            )
            await complete_profile(session, member)
            events = {}
            for title, choice in (("Gala", "going"), ("Picnic", "maybe"), ("Debate", "not_going")):
                event = await service.create_event(
                    session,
                    organization_id=organization.id,
                    title=title,
                    starts_at=utcnow() + timedelta(days=3),
                    now=utcnow(),
                    translations={"ru": {"title": f"{title} (ru)", "description": ""}},
                )
                await service.publish(session, event, organization, utcnow(), announce=False)
                await service.rsvp(session, event.id or 0, member.id or 0, choice, utcnow())
                events[title] = event
            training = Training(organization_id=organization.id, title="Budgeting", trainer="Ana", capacity=5)
            session.add(training)
            await session.flush()
            lesson = await service.create_event(
                session,
                organization_id=organization.id,
                title="Budgeting: session 1",
                starts_at=utcnow() + timedelta(days=5),
                now=utcnow(),
            )
            lesson.training_id = training.id
            await service.publish(session, lesson, organization, utcnow(), announce=False)
            session.add(
                TrainingSignup(
                    training_id=training.id or 0,
                    member_id=member.id or 0,
                    status=SignupStatus.CONFIRMED,
                    seq=1,
                )
            )
            await session.commit()

        card = await harness.send(user, "/profile")
        label = harness.t("📅 Calendar feed", "ru")
        assert label in buttons(card)
        await harness.press(user, card, label)
        shown = await harness.reply(user)
        assert (
            harness.t("📅 <b>Your private calendar feed</b>", "ru")
            .removeprefix("📅 <b>")
            .removesuffix("</b>")
            in shown["text"]
        )
        url = next(part for part in shown["text"].split() if part.startswith("http://"))
        status, content_type, body = await _fetch(url)
        assert status == 200 and content_type.startswith("text/calendar")
        titles = sorted(str(entry["summary"]) for entry in Calendar.from_ical(body).walk("VEVENT"))
        assert titles == ["Budgeting: session 1", "Gala (ru)", "Picnic (ru)"]
        assert str(Calendar.from_ical(body)["x-wr-calname"]) == harness.t("My events", "ru")

        await harness.press(user, shown, harness.t("🔄 New address", "ru"))
        renewed = await harness.edited(user, shown)
        new_url = next(part for part in renewed["text"].split() if part.startswith("http://"))
        assert new_url != url
        assert (await _fetch(url))[0] == 404
        assert (await _fetch(new_url))[0] == 200

        await harness.press(user, renewed, harness.t("🚫 Turn off", "ru"))
        off = await harness.edited(user, renewed)
        assert "/profile" in off["text"]
        assert (await _fetch(new_url))[0] == 404
        assert (await _fetch(f"http://{address}/calendar/{'x' * 43}.ics"))[0] == 404

        await harness.press(user, card, label)  # on again, then /forget erases it
        await harness.reply(user)
        async with sessions() as session:
            member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
            assert await feed_token(session, member.id or 0) is not None
            await erase_everything(session, member, utcnow())
            await session.commit()
            assert await feed_token(session, member.id or 0) is None
    finally:
        await server.stop()

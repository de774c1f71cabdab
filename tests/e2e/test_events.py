"""Members and events through the emulator: the published card, one-tap RSVP with a waitlist,
promotion, /events, the calendar file, deep links, check-in and reminders."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import update
from sqlmodel import select

from bot.services import events as service
from storage.db import create_session_factory
from storage.models import Event, Member, Reminder, RsvpStatus
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import progress


async def publish_event(harness: Harness, **fields: object) -> Event:
    from tests.e2e.test_event_admin import no_quiet_hours

    await no_quiet_hours(harness)  # the "published" notice goes out whatever the hour the test runs at
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(
            type(harness.app.dispatcher["organization"]), harness.app.dispatcher["organization"].id
        )
        values: dict[str, object] = {
            "organization_id": organization.id,
            "title": "Assemblée générale",
            "language": "fr",
            "starts_at": utcnow() + timedelta(hours=3),
            "now": utcnow(),
            "timezone": "Europe/Paris",
            "description": "Ordre du jour : budget 2027 & <élections>.",
            "place": "Maison des associations, Lyon",
            "translations": {
                "en": {"title": "General assembly", "description": "Agenda: budget & elections."}
            },
        }
        values.update(fields)
        event = await service.create_event(session, **values)  # type: ignore[arg-type]
        await service.publish(session, event, organization, utcnow())
        await session.commit()
        harness.app.delivery.wake()
        return event


async def answer_of(harness: Harness, event_id: int, telegram_id: int) -> RsvpStatus | None:
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == telegram_id))).one()
        answer = await service.my_answer(session, event_id, member.id)
        return answer.status if answer else None


async def test_rsvp_waitlist_promotion_calendar_and_list(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "fr")
    kofi = await registered("Kofi", "en")
    event = await publish_event(harness, capacity=1)

    card_a = await harness.reply(amina)
    assert "Assemblée générale" in card_a["text"] and "<élections>" in card_a["text"]
    card_k = await harness.reply(kofi)
    assert "General assembly" in card_k["text"]  # Kofi gets the English version
    assert buttons(card_k)[:3] == ["✅ Going", "🤔 Maybe", "❌ Can't go"]

    query = await harness.press(amina, card_a, harness.t("✅ Going", "fr"))
    assert harness.emulator.callback_answers[query]["text"] == harness.t(
        "✅ You're going. See you there!", "fr"
    )
    query = await harness.press(kofi, card_k, "✅ Going")
    assert (
        harness.emulator.callback_answers[query]["text"]
        == "⏳ The event is full: you are number 1 on the waitlist."
    )
    assert "You are on the waitlist, number 1." in harness.message(kofi, card_k["message_id"])["text"]

    await harness.press(amina, harness.message(amina, card_a["message_id"]), harness.t("❌ Can't go", "fr"))
    promoted = await harness.reply(kofi, timeout=15)
    assert promoted["text"].startswith("🎉 A seat freed up: you are now going to General assembly!")
    assert await answer_of(harness, event.id, kofi.id) == RsvpStatus.GOING

    listing = await harness.send(kofi, "/events")
    assert "1 upcoming event" in listing["text"] and "General assembly ✅" in listing["text"]
    card = await harness.choose(kofi, listing, "1. General assembly")
    document = await harness.choose(kofi, card, "📅 Add to calendar")
    calendar = Calendar.from_ical(harness.emulator.file_bytes(document["document"]["file_id"]))
    [vevent] = [item for item in calendar.walk() if item.name == "VEVENT"]
    assert str(vevent["SUMMARY"]) == "General assembly"
    assert vevent.decoded("DTSTART") == event.starts_at.replace(microsecond=0)
    assert harness.emulator.errors == []


async def test_deep_link_check_in_and_reminder(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    ana = await registered("Ana", "pt")
    event = await publish_event(harness, starts_at=utcnow() + timedelta(minutes=30), reminder_offsets=[20])
    await harness.reply(ana)  # the published notice

    card = await harness.send(ana, f"/start event_{event.id}")
    assert "General assembly" in card["text"]  # no Portuguese version: the organization's default (en)
    await harness.press(ana, card, harness.t("✅ Going", "pt"))

    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(update(Reminder).values(due_at=utcnow() - timedelta(seconds=1)))  # type: ignore[call-overload]
        stored = await session.get(Event, event.id)
        stored.checkin_code = "K7P2QX"
        session.add(stored)
        await session.commit()
    reminder = await harness.reply(ana, timeout=20)
    assert reminder["text"].startswith("⏰")

    checked = await harness.send(ana, "k7p2qx")
    assert checked["text"] == harness.t(
        "✅ You're checked in at <b>{title}</b>. Enjoy!", "pt", title="General assembly"
    ).replace("<b>", "").replace("</b>", "")
    wrong = await harness.send(ana, "ZZ99ZZ")
    assert wrong["text"] == harness.t("That check-in code doesn't match an event happening now.", "pt")
    assert (await harness.send(ana, "hello"))["text"] == harness.t(
        "I'm not sure what you mean. Send /help to see what I can do.", "pt"
    )
    async with create_session_factory(harness.app.engine)() as session:
        attendees = await service.attendees(session, event.id)
    assert [(a.name, a.attended) for a in attendees] == [("Ana", True)]


async def test_stale_and_forged_event_buttons(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    from bot.views.events import EventAction

    eve = await registered("Eve", "en")
    stranger = harness.emulator.create_user("Stranger", language_code="en")
    event = await publish_event(harness)
    card = await harness.reply(eve)
    strangers_chat = await harness.send(stranger, "/events")
    for user, message, data, expected in (
        (eve, card, EventAction(action="going", id=999).pack(), "This event no longer exists."),
        (eve, card, EventAction(action="hack", id=event.id).pack(), "This button is no longer active."),
        (
            stranger,
            strangers_chat,
            EventAction(action="going", id=event.id).pack(),
            "Please register first: open a private chat with me and send /start.",
        ),
    ):
        assert await harness.forge(user, message, data) == expected
    async with create_session_factory(harness.app.engine)() as session:
        stored = await session.get(Event, event.id)
        await service.cancel_event(session, stored, harness.app.dispatcher["organization"], utcnow())
        await session.commit()
    query = await harness.press(eve, card, "✅ Going")
    assert harness.emulator.callback_answers[query]["text"] == "This event was cancelled."
    assert await answer_of(harness, event.id, eve.id) is None


async def test_two_hundred_taps_for_twenty_seats_through_the_bot(harness: Harness) -> None:
    """200 members tap Going at once on a 20-seat event: exactly 20 going, 180 waitlisted, the
    waitlist numbered 1..180 in the order the taps were handled, and every tap answered."""
    import asyncio

    from bot.services.members import TelegramIdentity, record_consent
    from bot.views.events import EventAction

    # Telegram takes a tap's answer for 15 s; a busy machine may take longer for the last of 200
    # taps, and the answer refused would never show: this test counts answers, not seconds.
    harness.emulator.limits.callback_answer_timeout = None
    users = [harness.emulator.create_user(f"M{i}", language_code="en") for i in range(200)]
    async with create_session_factory(harness.app.engine)() as session:
        organization_id = harness.app.dispatcher["organization"].id
        for user in users:
            await record_consent(
                session, TelegramIdentity(user.id, None, user.first_name), "en", "UTC", organization_id
            )
        await session.commit()
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(type(harness.app.dispatcher["organization"]), organization_id)
        event = await service.create_event(
            session,
            organization_id=organization_id,
            title="Gala",
            language="en",
            starts_at=utcnow() + timedelta(days=2),
            now=utcnow(),
            timezone="UTC",
            capacity=20,
        )
        await service.publish(session, event, organization, utcnow(), announce=False)
        await session.commit()

    lists = []
    for user in users:  # each member opens /events, then everyone taps Going at once
        await harness.emulator.send_text(user, "/events")
    for user in users:
        lists.append(await harness.reply(user, timeout=30))
    data = EventAction(action="going", id=event.id).pack()
    queries = await asyncio.gather(
        *(
            harness.emulator.press_button(user, listing, callback_data=data, forge=True)
            for user, listing in zip(users, lists, strict=True)
        )
    )
    emulator = harness.emulator  # no bound on how fast (bench.updates measures that), only on a stall
    await progress(emulator, lambda: sum(emulator.callback_answers.get(q) is not None for q in queries), 200)
    answers = [harness.emulator.callback_answers[query]["text"] for query in queries]
    assert sum(text == "✅ You're going. See you there!" for text in answers) == 20
    async with create_session_factory(harness.app.engine)() as session:
        counts = await service.counts(session, event.id)
        waiting = await service.attendees(session, event.id, [RsvpStatus.WAITLISTED])
    assert (counts[RsvpStatus.GOING], counts[RsvpStatus.WAITLISTED]) == (20, 180)
    assert sorted(a.seq for a in waiting) == [a.seq for a in sorted(waiting, key=lambda a: a.seq)]
    positions = sorted(int(text.split("number ")[1].split(" ")[0]) for text in answers if "number" in text)
    assert positions == list(range(1, 181))


async def test_a_newcomer_follows_an_event_link_registers_and_lands_on_the_card(harness: Harness) -> None:
    event = await publish_event(harness)
    newcomer = harness.emulator.create_user("Joy", language_code="sw")
    greeting = await harness.send(newcomer, f"/start event_{event.id}")
    await harness.press(newcomer, greeting, "Kiswahili")
    notice = await harness.edited(newcomer, greeting)
    await harness.choose(newcomer, notice, harness.t("✅ I agree", "sw"))  # "let's set up your profile"
    question = await harness.reply(newcomer)
    skip = harness.t("Skip", "sw")
    await harness.press(newcomer, question, skip)  # name
    for _ in range(4):  # origin, residence, city, time zone
        question = await harness.reply(newcomer)
        await harness.press(newcomer, question, skip)
    interests = await harness.reply(newcomer)
    ready = await harness.choose(newcomer, interests, harness.t("Done", "sw"))
    assert ready["text"].startswith(harness.t("🎉 Your profile is ready!", "sw"))
    card = await harness.reply(newcomer)
    assert "General assembly" in card["text"]  # no Swahili version: the organization's default (en)
    assert harness.t("✅ Going", "sw") in buttons(card)
    await harness.press(newcomer, card, harness.t("✅ Going", "sw"))
    assert await answer_of(harness, event.id, newcomer.id) == RsvpStatus.GOING


async def test_a_card_posted_in_a_group_shows_the_new_counts_after_taps(
    harness: Harness,
    registered,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from handlers.events import group as member_events
    from tests.e2e.test_announce import make_organizer

    monkeypatch.setattr(member_events, "GROUP_REFRESH_DELAY", 0.5)
    organizer = await make_organizer(harness, registered, "en")
    amina = await registered("Amina", "fr")
    kofi = await registered("Kofi", "en")
    event = await publish_event(harness, capacity=5)
    group = harness.emulator.create_group("Diaspora Lyon", members=[organizer, amina, kofi])
    await harness.emulator.send_text(organizer, f"/postevent {event.id}", chat=group)
    card = await harness.emulator.next_bot_message(group.id, timeout=10)
    assert "✅ Going: 0 · 🤔 Maybe: 0" in card["text"]

    for user, label in ((amina, "✅ Going"), (kofi, "🤔 Maybe")):
        query = await harness.emulator.press_button(user, card, text=label, chat=group)
        await harness.emulator.wait_for(
            lambda emu, q=query: emu.callback_answers.get(q) is not None, timeout=10
        )

    def refreshed(emulator) -> bool:  # type: ignore[no-untyped-def]
        current = next(m for m in emulator.transcript(group.id) if m["message_id"] == card["message_id"])
        return "✅ Going: 1 · 🤔 Maybe: 1" in current["text"]

    await harness.emulator.wait_for(refreshed, timeout=10)
    edits = [call for call in harness.emulator.calls if call.method.lower() == "editmessagetext"]
    assert len(edits) == 1  # both taps share one edit of the group's card
    assert await answer_of(harness, event.id, amina.id) == RsvpStatus.GOING
    assert harness.emulator.errors == []

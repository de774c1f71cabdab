"""The organizer side of events, through the emulator: the /newevent dialog (bad input at every
step it can go wrong), the preview, translations, publishing to members, /myevents (attendees,
attendance, CSV, edits, cancellation, check-in code), /postevent in a group, and refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.i18n import format_when
from bot.services import events as service
from bot.services.roles import Actor, revoke_role
from bot.views.events import event_card
from handlers.events.callbacks import EventAdmin
from storage.db import create_session_factory
from storage.models import (
    DialogState,
    Event,
    EventSeries,
    EventStatus,
    Member,
    Organization,
    OutboxMessage,
    Reminder,
    Rsvp,
    RsvpStatus,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import our_organization, plain, refuses_unreadable_and_past_times
from tests.e2e.test_announce import make_organizer


async def no_quiet_hours(harness: Harness) -> None:
    """Notices go out at once whatever the hour the test runs at."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        organization.quiet_start = organization.quiet_end = 0
        session.add(organization)
        await session.commit()


async def count_events(harness: Harness) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        return int((await session.exec(select(func.count()).select_from(Event))).one())


async def member_id(harness: Harness, user: Any) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        return member.id or 0


async def notices(harness: Harness, notice: str) -> list[OutboxMessage]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == service.NOTICE_KIND))
        ).all()
        return [row for row in rows if row.payload.get("notice") == notice]


def expected_card(harness: Harness, event: Event, version: str, locale: str, zone: str = "UTC") -> str:
    counts = {status: 0 for status in RsvpStatus}
    with harness.i18n.context(), harness.i18n.use_locale(locale):
        return plain(event_card(event, version, locale, zone, counts))


async def test_newevent_dialog_in_french_bad_input_preview_translation_and_publish(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    organizer = await make_organizer(harness, registered, "fr")
    kofi = await registered("Kofi", "en")
    amina = await registered("Amina", "ar")
    await no_quiet_hours(harness)
    t = harness.t

    def said(message: dict[str, Any], msgid: str, **values: Any) -> None:
        assert message["text"] == plain(t(msgid, "fr", **values)), message["text"]

    async def invisible_is_refused() -> None:
        """Zero-width characters only: empty, in every typed step (the kit's check)."""
        said(
            await harness.send(organizer, "\u200b\u2060\u200b"), "That looks empty. Please type your answer."
        )

    prompt = await harness.send(organizer, "/newevent")
    title_question = (
        "🗓 <b>New event</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
        "Send /cancel to stop."
    )
    said(prompt, title_question, limit=200)
    await invisible_is_refused()
    said(
        await harness.send(organizer, "T" * 201),
        "That title is too long: at most {limit} characters. Please send a shorter one.",
        limit=200,
    )
    question = await harness.send(organizer, "Fête de quartier")
    said(
        question,
        "Describe the event for members (at most {limit} characters), or press Skip.",
        limit=3000,
    )
    await invisible_is_refused()
    said(
        await harness.send(organizer, "D" * 3001),
        "That description is too long: at most {limit} characters. Please send a shorter one.",
        limit=3000,
    )
    harness.emulator.advance_clock(60)  # the organizer shortens it: not the rest of a text Telegram cut
    question = await harness.send(organizer, "Musique & <danse> pour tous")
    assert "({zone})".format(zone="UTC") in question["text"]
    await invisible_is_refused()
    await refuses_unreadable_and_past_times(harness, organizer, "fr", "mardi prochain vers midi")
    start = datetime(2099, 3, 14, 18, 30, tzinfo=UTC)
    confirm = await harness.send(organizer, "14.03.2099 18:30")
    said(confirm, "It starts on {when}. Is that right?", when=format_when(start, "fr", "UTC", "words"))
    assert "samedi 14 mars 2099" in confirm["text"]  # in words, in French
    await harness.choose(organizer, confirm, t("✏️ Change", "fr"))  # the start question again
    confirm = await harness.send(organizer, "2099-03-14 18:30")
    question = await harness.choose(organizer, confirm, t("✅ Correct", "fr"))
    said(question, "When does it end? Send a time (for example 20:30) or a date and time, or press Skip.")
    await invisible_is_refused()
    end_error = (
        "The end must be after the start. Please send a later time (with the date if the event ends on "
        "another day)."
    )
    said(await harness.send(organizer, "17:00"), end_error)
    said(await harness.send(organizer, "13.03.2099 21:00"), end_error)
    await harness.send(organizer, "21:00")  # -> the place question
    await invisible_is_refused()
    bad_link = "That link doesn't work. Please send a full web link starting with https:// or http://."
    said(await harness.send(organizer, "ftp://example.org/salle"), bad_link)
    said(await harness.send(organizer, "www.example.org/salle"), bad_link)
    question = await harness.send(organizer, "https://meet.example.org/fete")
    said(question, "How many seats are there? Send a number, or press “No limit”.")
    await invisible_is_refused()
    capacity_error = "Please send a whole number of seats from 1 to {limit}, or press “No limit”."
    for wrong in ("0", "-5", "1000000", "beaucoup"):
        said(await harness.send(organizer, wrong), capacity_error, limit=100_000)
    assert await count_events(harness) == 0  # nothing half-created while the dialog runs
    question = await harness.send(organizer, "40")
    await invisible_is_refused()
    said(
        await harness.send(organizer, "15.03.2099 10:00"),
        "Answers must close before the event starts. Please send an earlier time.",
    )
    question = await harness.choose(organizer, question, t("Skip", "fr"))
    said(question, "When should members who answered Going or Maybe get a reminder?")
    said(
        await harness.send(organizer, "un jour avant"),
        "Please choose with the buttons above, or send /cancel to stop.",
    )
    question = await harness.choose(organizer, question, t("1 day and 1 hour before", "fr"))
    said(question, "Who should be told about this event?")
    assert buttons(question) == [t("Everyone", "fr"), t("Choose…", "fr")]
    # A capacity was given: the claim window.
    question = await harness.choose(organizer, question, t("Everyone", "fr"))
    said(question, "When a seat frees up, how long does the next person on the waitlist have to take it?")
    assert buttons(question) == [
        t("Automatically (no waiting)", "fr"),
        *(t("{count} hour", "fr", "{count} hours", n, count=n) for n in (12, 24, 48)),
    ]
    question = await harness.choose(
        organizer, question, t("{count} hour", "fr", "{count} hours", 24, count=24)
    )
    assert t("Every month on the second {weekday}", "fr", weekday="samedi") in buttons(question)
    header = await harness.choose(organizer, question, t("Only once", "fr"))
    assert header["text"] == plain(
        t("👁 Preview: this is how members will see it. Nothing is sent until you press Publish.", "fr")
        + "\n"
        + t(
            "This event reaches <b>{count}</b> member.",
            "fr",
            "This event reaches <b>{count}</b> members.",
            3,
            count=3,
        )
    )
    preview = await harness.reply(organizer)

    async with create_session_factory(harness.app.engine)() as session:
        event = (await session.exec(select(Event))).one()
    assert (event.status, event.title, event.description) == (
        EventStatus.DRAFT,
        "Fête de quartier",
        "Musique & <danse> pour tous",
    )
    assert (event.starts_at, event.ends_at) == (start, datetime(2099, 3, 14, 21, 0, tzinfo=UTC))
    assert (event.online_url, event.place, event.capacity) == ("https://meet.example.org/fete", None, 40)
    assert (event.rsvp_deadline, event.reminder_offsets, event.language) == (None, [1440, 60], "fr")
    assert (event.audience, event.claim_window_hours) == ({}, 24)
    assert preview["text"] == expected_card(harness, event, "fr", "fr")
    assert "Musique & <danse> pour tous" in preview["text"]  # shown as typed, not as HTML
    assert buttons(preview) == [
        t("📤 Publish", "fr"),
        t("✏️ Edit", "fr"),
        t("🌐 Add a translation", "fr"),
        t("🗑 Discard", "fr"),
    ]

    languages = await harness.choose(organizer, preview, t("🌐 Add a translation", "fr"))
    assert "Français" not in buttons(languages)
    await harness.choose(organizer, languages, "English")  # "send the title in English"
    await invisible_is_refused()
    said(
        await harness.send(organizer, "x" * 201),
        "That title is too long: at most {limit} characters. Please send a shorter one.",
        limit=200,
    )
    await harness.send(organizer, "Neighbourhood party")  # -> the description in English, or Skip
    await invisible_is_refused()  # which `validate_description` took as a description before the kit
    saved = await harness.send(organizer, "Music & dance for everyone")
    said(saved, "✅ Translation saved: {language}. Members who use it will see:", language="English")
    english = await harness.reply(organizer)
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event.id)
    assert event is not None and event.translations == {
        "en": {"title": "Neighbourhood party", "description": "Music & dance for everyone"}
    }
    assert english["text"] == expected_card(harness, event, "en", "en")

    published = await harness.choose(organizer, english, t("📤 Publish", "fr"))
    assert published["text"].startswith(
        t(
            "📤 Published: {count} member will be told.",
            "fr",
            "📤 Published: {count} members will be told.",
            3,
            count=3,
        )
    )
    assert buttons(harness.message(organizer, english["message_id"])) == []

    # The audience gets the card through the delivery engine, each in their version.
    async def card_arrives(user: Any, title: str) -> dict[str, Any]:
        def found(_: object) -> dict[str, Any] | None:
            return next(
                (
                    m
                    for m in harness.emulator.transcript(user.id)
                    if m["outgoing"] and title in (m.get("text") or "")
                ),
                None,
            )

        return await harness.emulator.wait_for(found, timeout=15)

    for user in (kofi, amina):  # no Arabic version: the organization's default (English)
        card = await card_arrives(user, "Neighbourhood party")
        assert "Music & dance for everyone" in card["text"]
        assert len(buttons(card)) == 4  # going, maybe, can't go, calendar
    assert "Musique & <danse> pour tous" in (await card_arrives(organizer, "Fête de quartier"))["text"]
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event.id)
        reminders = (await session.exec(select(Reminder))).all()
    assert event is not None and event.status == EventStatus.PUBLISHED and event.checkin_code
    assert sorted(reminder.offset_minutes for reminder in reminders) == [60, 1440]
    assert len(await notices(harness, "published")) == 3
    assert harness.emulator.errors == []


async def test_english_dialog_repeating_event_and_paginated_list(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    await registered("Kofi", "en")
    await no_quiet_hours(harness)

    await harness.send(organizer, "/newevent")
    question = await harness.send(organizer, "Language café")
    await harness.choose(organizer, question, "Skip")  # the start question
    older = await harness.send(organizer, "13.03.2099 18:30")
    confirm = await harness.send(organizer, "14/03/2099 6:30pm")  # typed again instead of pressing
    assert confirm["text"] == "It starts on Saturday, March 14, 2099, 6:30\u202fPM (UTC). Is that right?"
    query = await harness.press(organizer, older, "✅ Correct")  # confirms what it shows, or nothing
    assert harness.emulator.callback_answers[query]["text"] == "This button is no longer active."
    await harness.choose(organizer, confirm, "✅ Correct")  # the end question
    await harness.send(organizer, "20:00")  # ends the same day
    question = await harness.send(organizer, "Café Lumière, 3 rue des Lilas")
    await harness.choose(organizer, question, "No limit")  # the deadline question
    question = await harness.send(organizer, "2099-03-14 12:00")  # 6 h 30 before the start
    question = await harness.choose(organizer, question, "1 hour before")
    assert buttons(question) == ["Everyone", "Choose…"]
    question = await harness.choose(organizer, question, "Everyone")  # no capacity: no claim window question
    assert buttons(question) == [
        "Only once",
        "Every week",
        "Every two weeks",
        "Every month on the second Saturday",
    ]
    header = await harness.choose(organizer, question, "Every month on the second Saturday")
    assert header["text"].endswith(
        "This event reaches 2 members.\n🔁 Every month on the second Saturday: 8 dates, the last on October 10, 2099."
    )
    preview = await harness.reply(organizer)
    assert "📍 Café Lumière, 3 rue des Lilas" in preview["text"]

    async with create_session_factory(harness.app.engine)() as session:
        events = (await session.exec(select(Event).order_by(col(Event.starts_at)))).all()
    assert len(events) == 8 and len({event.series_id for event in events}) == 1
    for event in events:
        local = event.starts_at
        assert local.weekday() == 5 and 8 <= local.day <= 14 and (local.hour, local.minute) == (18, 30)
        assert event.ends_at == event.starts_at + timedelta(minutes=90)
        assert event.rsvp_deadline == event.starts_at - timedelta(hours=6, minutes=30)
        assert (event.place, event.capacity, event.reminder_offsets) == (
            "Café Lumière, 3 rue des Lilas",
            None,
            [60],
        )
        assert (event.audience, event.claim_window_hours) == ({}, None)

    published = await harness.choose(organizer, preview, "📤 Publish")
    assert published["text"].startswith("📤 Published: 2 members will be told.")  # announced once
    async with create_session_factory(harness.app.engine)() as session:
        statuses = (await session.exec(select(Event.status))).all()
    assert set(statuses) == {EventStatus.PUBLISHED}
    assert (await harness.reply(organizer))["text"].startswith("📣 New event\n\n📅 Language café")

    listing = await harness.send(organizer, "/myevents")
    assert listing["text"].startswith("🗓 Upcoming events (1–5 of 8)")
    assert buttons(listing)[-2:] == ["▶️", "🕘 Past events"] and len(buttons(listing)) == 7
    await harness.press(organizer, listing, "▶️")
    listing = await harness.edited(organizer, listing)
    assert listing["text"].startswith("🗓 Upcoming events (6–8 of 8)")
    assert buttons(listing) == [
        "6. Language café",
        "7. Language café",
        "8. Language café",
        "◀️",
        "🕘 Past events",
    ]

    # Editing a date of a series asks which dates.
    manage = await harness.choose(organizer, listing, "6. Language café")
    assert manage["text"].startswith("🗓 Event #6 · 🔁 repeating")
    fields = await harness.choose(organizer, manage, "✏️ Edit")
    scope = await harness.choose(organizer, fields, "Place or link")
    await harness.choose(organizer, scope, "All future dates")  # "send the new address..."
    saved = await harness.send(organizer, "Café Soleil")
    assert saved["text"] == "✅ Saved for 3 dates.\n0 members who answered are told about the change."
    async with create_session_factory(harness.app.engine)() as session:
        places = (await session.exec(select(Event.place).order_by(col(Event.starts_at)))).all()
    assert places == ["Café Lumière, 3 rue des Lilas"] * 5 + ["Café Soleil"] * 3
    assert harness.emulator.errors == []


async def published_event(harness: Harness, **fields: Any) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        now = utcnow()
        values: dict[str, Any] = {
            "title": "Assemblée générale",
            "starts_at": now + timedelta(days=10),
            "capacity": 2,
            "language": "en",
        } | fields
        event = await service.create_event(session, organization_id=organization.id or 0, now=now, **values)
        await service.publish(session, event, organization, now, announce=False)
        await session.commit()
        return event.id or 0


async def answer(harness: Harness, event_id: int, user: Any, choice: RsvpStatus) -> None:
    identifier = await member_id(harness, user)
    async with create_session_factory(harness.app.engine)() as session:
        await service.rsvp(session, event_id, identifier, choice, utcnow())
        await session.commit()


async def test_attendees_attendance_csv_edit_code_group_and_cancel(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    zoe = await registered("<Zoé & Co>", "es", username="zoe_co")
    ivan = await registered("Ivan", "ru")
    lucia = await registered("Lucía", "es")
    omar = await registered("Omar", "ar")
    event_id = await published_event(harness)
    for user, choice in (
        (zoe, RsvpStatus.GOING),
        (ivan, RsvpStatus.GOING),
        (lucia, RsvpStatus.GOING),  # full: waitlisted
        (omar, RsvpStatus.NOT_GOING),
    ):
        await answer(harness, event_id, user, choice)

    listing = await harness.send(organizer, "/myevents")
    assert listing["text"].startswith("🗓 Upcoming events (1–1 of 1)")
    assert "✅ Going: 2 · 🤔 Maybe: 0" in listing["text"]
    manage = await harness.choose(organizer, listing, "1. Assemblée générale")
    assert buttons(manage) == [
        "👥 Attendees",
        "📄 CSV",
        "✏️ Edit",
        "🔑 Check-in code",
        "📢 Post in a group",
        "✖ Cancel event",
    ]

    people = await harness.choose(organizer, manage, "👥 Attendees")
    text = people["text"]
    assert "✅ Going: 2 · 🤔 Maybe: 0 · ❌ Can't go: 1" in text
    assert "⏳ Waitlist: 1 · 🎟 Offered a seat: 0" in text
    assert "Going\n1. <Zoé & Co> (@zoe_co)\n2. Ivan" in text  # escaped HTML, shown as typed
    assert "Waitlist\n1. Lucía" in text and "Can't go\n1. Omar" in text
    assert buttons(people) == ["▫️ <Zoé & Co>", "▫️ Ivan"]  # toggles for going members only
    query = await harness.press(organizer, people, "▫️ Ivan")
    assert harness.emulator.callback_answers[query]["text"] == "Marked as attended."
    people = await harness.edited(organizer, people)
    assert "2. Ivan ✔️" in people["text"] and buttons(people) == ["▫️ <Zoé & Co>", "✅ Ivan"]
    query = await harness.press(organizer, people, "✅ Ivan")
    assert harness.emulator.callback_answers[query]["text"] == "No longer marked as attended."
    await harness.press(organizer, harness.message(organizer, people["message_id"]), "▫️ Ivan")

    document = await harness.choose(organizer, manage, "📄 CSV")
    assert document["document"]["file_name"] == f"event-{event_id}.csv"
    rows = harness.emulator.file_bytes(document["document"]["file_id"]).decode("utf-8-sig").splitlines()
    assert rows == [
        "name,language,status,seq,attended",
        "<Zoé & Co>,es,going,1,",
        "Ivan,ru,going,2,yes",
        "Lucía,es,waitlisted,3,",
        "Omar,ar,not_going,4,",
    ]

    # A new time: everyone who answered (but "can't go") is told, in the outbox.
    fields = await harness.choose(organizer, manage, "✏️ Edit")
    assert buttons(fields) == ["Title", "Description", "Start time", "Place or link", "Capacity"]
    await harness.choose(organizer, fields, "Start time")
    assert (await harness.send(organizer, "yesterday"))["text"].startswith("I couldn't read that date.")
    assert (await harness.send(organizer, "\u200b\u2060\u200b"))["text"] == (
        "That looks empty. Please type your answer."
    )
    confirm = await harness.send(organizer, "2099-06-01 19:00")
    assert confirm["text"] == "It starts on Monday, June 1, 2099, 7:00\u202fPM (UTC). Is that right?"
    saved = await harness.choose(organizer, confirm, "✅ Correct")
    assert saved["text"] == "✅ Saved.\n3 members who answered are told about the change."
    updated = await harness.reply(organizer)  # the event again, as it is now
    assert "Monday, June 1, 2099" in updated["text"]
    changed = await notices(harness, "changed")
    ids = {await member_id(harness, user) for user in (zoe, ivan, lucia)}
    assert {row.member_id for row in changed} == ids
    assert {row.payload["rsvp"] for row in changed} == {"going", "waitlisted"}

    code_message = await harness.choose(organizer, manage, "🔑 Check-in code")
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
    assert event is not None and event.checkin_code
    old_code = event.checkin_code
    assert f"“Assemblée générale”: {old_code}" in code_message["text"]
    assert "Members send this code to the bot during the event" in code_message["text"]
    await harness.press(organizer, code_message, "🔄 New code")
    code_message = await harness.edited(organizer, code_message)
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
    assert event is not None and event.checkin_code != old_code and event.checkin_code in code_message["text"]

    how = await harness.choose(organizer, manage, "📢 Post in a group")
    assert f"/postevent {event_id}" in how["text"]
    group = harness.emulator.create_group("Diaspora Lyon", members=[organizer, ivan])
    await harness.emulator.send_text(ivan, f"/postevent {event_id}", chat=group)
    refused = await harness.emulator.next_bot_message(group.id, timeout=10)
    assert refused["text"] == harness.t("Only organizers can post events here.", "ru")
    await harness.emulator.send_text(organizer, f"/postevent {event_id}", chat=group)
    posted = await harness.emulator.next_bot_message(group.id, timeout=10)
    assert posted["text"].startswith("📅 Assemblée générale")
    assert "🎟 Full. On the waitlist: 1" in posted["text"]
    assert buttons(posted) == ["✅ Going", "🤔 Maybe", "❌ Can't go", "📅 Add to calendar"]
    await harness.emulator.send_text(organizer, "/postevent 999", chat=group)
    assert (await harness.emulator.next_bot_message(group.id, timeout=10))["text"].startswith(
        "Send /postevent followed by the number"
    )

    confirm = await harness.choose(organizer, manage, "✖ Cancel event")
    assert confirm["text"].startswith("Cancel “Assemblée générale” on Monday, June 1, 2099")
    await harness.press(organizer, confirm, "✖ Yes, cancel it")
    done = await harness.edited(organizer, confirm)
    assert done["text"] == "✖ “Assemblée générale” is cancelled. 3 members who answered are told."
    assert {row.member_id for row in await notices(harness, "cancelled")} == ids
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
        assert event is not None and event.status == EventStatus.CANCELLED
    query = await harness.press(organizer, manage, "👥 Attendees")
    assert harness.emulator.callback_answers[query]["text"] == "This button is no longer active."
    assert (await harness.send(organizer, "/myevents"))["text"] == (
        "There are no upcoming events. /newevent creates one."
    )
    assert harness.emulator.errors == []


def organizer_buttons(event_id: int, draft_id: int, member: int) -> list[EventAdmin]:
    """Every action of the organizer's event buttons: the /newevent questions, the /myevents list,
    the management card of an open event, its edits, attendees, check-in code and cancellation, and
    the draft preview (publish, translations, discard)."""
    return [
        *(EventAdmin(action="skip", value=value) for value in ("description", "end", "tr_description")),
        EventAdmin(action="tr_skip", value="description"),  # the translation's Skip (the kit's)
        EventAdmin(action="start_ok"),
        EventAdmin(action="start_change"),
        EventAdmin(action="nolimit"),
        EventAdmin(action="rem", value="dh"),
        EventAdmin(action="aud", value="all"),
        EventAdmin(action="aud_i", value="culture"),
        EventAdmin(action="aud_l", value="fr"),
        EventAdmin(action="claim", value="12"),
        EventAdmin(action="rep", value="once"),
        EventAdmin(action="page", id=5),
        *managing_buttons(event_id, member),
        *draft_buttons(draft_id),
    ]


# The management card's actions that carry nothing but the event's id.
ONE_EVENT_ACTIONS = (
    "open",
    "att",
    "csv",
    "edit",
    "edit_start_ok",
    "edit_start_change",
    "code",
    "newcode",
    "group",
    "cancel",
    "keep",
    "cancel_yes",
)


def managing_buttons(event_id: int, member: int) -> list[EventAdmin]:
    """The buttons that name an open event (published or draft)."""
    return [
        EventAdmin(action="att", id=event_id, value="nav", page=20),
        EventAdmin(action="mark", id=event_id, member=member),
        EventAdmin(action="ef", id=event_id, value="start"),
        EventAdmin(action="scope_one", id=event_id, value="title"),
        EventAdmin(action="scope_all", id=event_id, value="place"),
        EventAdmin(action="tr_skip", id=event_id, value="capacity"),  # “No limit” of the new capacity
        *(EventAdmin(action=action, id=event_id) for action in ONE_EVENT_ACTIONS),
    ]


def draft_buttons(draft_id: int) -> list[EventAdmin]:
    """The buttons of a draft's preview (and its /myevents card)."""
    return [
        EventAdmin(action="publish", id=draft_id),
        EventAdmin(action="publish", id=draft_id, value="manage"),
        EventAdmin(action="translate", id=draft_id),
        EventAdmin(action="tr_lang", id=draft_id, value="fr"),
        EventAdmin(action="discard", id=draft_id),
    ]


async def draft_event(harness: Harness, organization_id: int | None = None, **fields: Any) -> int:
    """A draft of the organization (by default the bot's own), not published."""
    async with create_session_factory(harness.app.engine)() as session:
        values: dict[str, Any] = {
            "title": "Draft picnic",
            "starts_at": utcnow() + timedelta(days=12),
            "capacity": 10,
        } | fields
        event = await service.create_event(
            session,
            organization_id=organization_id or harness.app.dispatcher["organization"].id,
            now=utcnow(),
            **values,
        )
        await session.commit()
        return event.id or 0


async def event_rows(harness: Harness) -> dict[int, tuple[Any, ...]]:
    """What the forged buttons must not change: every event as stored, its answers and dialogs."""
    async with create_session_factory(harness.app.engine)() as session:
        return {
            event.id or 0: (
                event.status,
                event.title,
                event.translations,
                event.starts_at,
                event.capacity,
                event.checkin_code,
                event.updated_at,
            )
            for event in (await session.exec(select(Event))).all()
        }


async def test_members_and_forged_buttons_cannot_manage_events(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    intruder = await registered("Eve", "uk")
    going = await registered("Bob", "en")
    event_id = await published_event(harness)
    await answer(harness, event_id, going, RsvpStatus.GOING)
    async with create_session_factory(harness.app.engine)() as session:
        before = await session.get(Event, event_id)
        assert before is not None
        code, starts_at = before.checkin_code, before.starts_at

    refusal = harness.t("Sorry, only organizers can manage events.", "uk")
    assert (await harness.send(intruder, "/newevent"))["text"] == refusal
    assert (await harness.send(intruder, "/myevents"))["text"] == refusal
    # A typed answer from someone with no dialog is not taken as an event title.
    assert await count_events(harness) == 1
    last = await harness.send(intruder, "/postevent 1")
    assert last["text"] == refusal
    group = harness.emulator.create_group("Diaspora Kyiv", members=[intruder, organizer])
    await harness.emulator.send_text(intruder, f"/postevent {event_id}", chat=group)
    assert (await harness.emulator.next_bot_message(group.id, timeout=10))["text"] == harness.t(
        "Only organizers can post events here.", "uk"
    )
    bob = await member_id(harness, going)
    draft_id = await draft_event(harness)
    stored = await event_rows(harness)
    # Every organizer button, forged by a registered plain member for real events of the
    # organization (the published one for the card's buttons, a draft for the preview's): refused
    # by the policy before any handler runs.
    forged = [
        *organizer_buttons(event_id, draft_id, bob),
        *draft_buttons(event_id),  # a draft's buttons on the published event
        *managing_buttons(draft_id, bob),  # the card's buttons on the draft
    ]
    for data in forged:
        assert await harness.forge(intruder, last, data) == refusal, data
    await asyncio.sleep(0.3)
    assert await event_rows(harness) == stored
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        assert (event.status, event.checkin_code, event.starts_at) == (EventStatus.PUBLISHED, code, starts_at)
        rsvp = (await session.exec(select(Rsvp))).one()
        assert (rsvp.status, rsvp.attended) == (RsvpStatus.GOING, False)
        assert (await session.exec(select(OutboxMessage))).all() == []
        dialogs = (await session.exec(select(DialogState.state))).all()
        assert not any(state and state.startswith("EventStates") for state in dialogs)  # no step opened
    transcript = [m for m in harness.emulator.transcript(intruder.id) if m["outgoing"]]
    assert not any(m.get("document") for m in transcript)  # no CSV, no attendee list
    assert all(m["text"] == refusal for m in transcript)

    # The organizer's own stale buttons: a cancelled event's buttons answer, change nothing.
    listing = await harness.send(organizer, "/myevents")
    manage = await harness.choose(organizer, listing, "1. Assemblée générale")
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
        organization = await session.get(Organization, event.organization_id)  # type: ignore[union-attr]
        await service.cancel_event(session, event, organization, utcnow())  # type: ignore[arg-type]
        await session.commit()
    query = await harness.press(organizer, manage, "🔑 Check-in code")
    assert harness.emulator.callback_answers[query]["text"] == "This button is no longer active."
    assert harness.emulator.errors == []


async def test_organizer_buttons_for_missing_or_foreign_events_are_stale(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """An organizer's forged ids: an event that does not exist, or one of another organization
    (where they hold no role), is "no longer active", and nothing is sent or changed."""
    organizer = await make_organizer(harness, registered, "en")
    going = await registered("Bob", "en")
    async with create_session_factory(harness.app.engine)() as session:
        other = Organization(slug="diaspora-elsewhere", name="Diaspora elsewhere")
        session.add(other)
        await session.commit()
        other_id = other.id or 0
    foreign_id = await draft_event(harness, other_id, title="Their meeting")
    foreign_draft = await draft_event(harness, other_id, title="Their draft")
    async with create_session_factory(harness.app.engine)() as session:
        foreign = await session.get(Event, foreign_id)
        organization = await session.get(Organization, other_id)
        await service.publish(session, foreign, organization, utcnow(), announce=False)  # type: ignore[arg-type]
        await service.rsvp(session, foreign_id, await member_id(harness, going), RsvpStatus.GOING, utcnow())
        await session.commit()
    stored = await event_rows(harness)
    listing = await harness.send(organizer, "/myevents")
    assert listing["text"] == "There are no upcoming events. /newevent creates one."  # theirs is not listed
    bob = await member_id(harness, going)
    sent = len(harness.emulator.transcript(organizer.id))
    stale = "This button is no longer active."
    for event_id, draft_id in ((999, 998), (foreign_id, foreign_draft)):
        for data in (*managing_buttons(event_id, bob), *draft_buttons(draft_id)):
            assert await harness.forge(organizer, listing, data) == stale, data
    group = harness.emulator.create_group("Diaspora Lyon", members=[organizer])
    for ident in (999, foreign_id):
        await harness.emulator.send_text(organizer, f"/postevent {ident}", chat=group)
        refused = await harness.emulator.next_bot_message(group.id, timeout=10)
        assert refused["text"].startswith("Send /postevent followed by the number")
    await asyncio.sleep(0.3)
    assert len(harness.emulator.transcript(organizer.id)) == sent  # no card, no CSV, no question
    assert await event_rows(harness) == stored
    async with create_session_factory(harness.app.engine)() as session:
        rsvp = (await session.exec(select(Rsvp))).one()
        assert (rsvp.status, rsvp.attended) == (RsvpStatus.GOING, False)
        assert (await session.exec(select(OutboxMessage))).all() == []
    assert harness.emulator.errors == []


async def test_skipping_everything_then_translation_without_description_edits_and_discard(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    organizer = await make_organizer(harness, registered, "en")
    await harness.send(organizer, "/newevent")
    question = await harness.send(organizer, "Weekly choir")
    await harness.choose(organizer, question, "Skip")  # description
    confirm = await harness.send(organizer, "2099-01-03 10:00")
    await harness.press(organizer, confirm, "✅ Correct")
    for _question in ("end", "place"):
        question = await harness.reply(organizer)
        await harness.press(organizer, question, "Skip")
    await harness.press(organizer, await harness.reply(organizer), "No limit")
    reminders = await harness.choose(organizer, await harness.reply(organizer), "Skip")  # deadline
    await harness.press(organizer, reminders, "No reminders")
    assert buttons(harness.message(organizer, reminders["message_id"])) == []  # answered: no buttons left
    await harness.press(organizer, await harness.reply(organizer), "Everyone")
    header = await harness.choose(organizer, await harness.reply(organizer), "Every week")
    assert "🔁 Every week: 8 dates, the last on February 21, 2099." in header["text"]
    preview = await harness.reply(organizer)
    assert preview["text"].startswith(
        "📅 Weekly choir\n🕒 Saturday, January 3, 2099, 10:00\u202fAM (UTC)\n\n"
    )

    await harness.press(organizer, preview, "🌐 Add a translation")
    await harness.choose(organizer, await harness.reply(organizer), "Français")
    question = await harness.send(organizer, "Chorale hebdomadaire")
    assert (await harness.choose(organizer, question, "Skip"))["text"].startswith(
        "✅ Translation saved: Français."
    )
    french = await harness.reply(organizer)
    assert french["text"].startswith("📅 Chorale hebdomadaire")
    async with create_session_factory(harness.app.engine)() as session:
        events = (await session.exec(select(Event))).all()
    assert len(events) == 8
    assert all(event.translations == {"fr": {"title": "Chorale hebdomadaire"}} for event in events)
    assert all((e.description, e.place, e.online_url, e.ends_at) == ("", None, None, None) for e in events)
    assert all((e.capacity, e.reminder_offsets, e.rsvp_deadline) == (None, [], None) for e in events)

    # A mistake seen in the preview is fixed from the preview: ✏️ Edit, a field, its new value.
    await harness.press(organizer, preview, "✏️ Edit")
    await harness.press(organizer, await harness.reply(organizer), "Place")
    question = await harness.choose(organizer, await harness.reply(organizer), "All future dates")
    assert (await harness.send(organizer, "Salle Pleyel, Paris"))["text"] == "✅ Saved for 8 dates."
    card = await harness.reply(organizer)  # the draft again, with its buttons
    assert "Salle Pleyel, Paris" in card["text"] and "📤 Publish" in buttons(card)

    # A draft can be edited from /myevents before it is published.
    listing = await harness.send(organizer, "/myevents")
    assert "📝 draft" in listing["text"]
    manage = await harness.choose(organizer, listing, "1. Weekly choir")
    assert manage["text"].startswith("🗓 Event #1 · 📝 draft, not published yet · 🔁 repeating")
    assert buttons(manage)[-2:] == ["📤 Publish", "🗑 Discard"]
    await harness.press(organizer, manage, "✏️ Edit")
    await harness.press(organizer, await harness.reply(organizer), "Capacity")
    question = await harness.choose(organizer, await harness.reply(organizer), "This date only")
    empty = "That looks empty. Please type your answer."
    assert (await harness.send(organizer, "\u200b\u2060\u200b"))["text"] == empty
    assert (await harness.send(organizer, "0"))["text"].startswith("Please send a whole number of seats")
    assert (await harness.send(organizer, "12"))["text"] == "✅ Saved."
    await harness.reply(organizer)  # the event again
    await harness.press(organizer, manage, "✏️ Edit")
    await harness.press(organizer, await harness.reply(organizer), "Capacity")
    question = await harness.choose(organizer, await harness.reply(organizer), "All future dates")
    assert (await harness.choose(organizer, question, "No limit"))["text"] == "✅ Saved for 8 dates."
    await harness.reply(organizer)
    await harness.press(organizer, manage, "✏️ Edit")
    await harness.press(organizer, await harness.reply(organizer), "Title")
    await harness.choose(organizer, await harness.reply(organizer), "This date only")
    assert (await harness.send(organizer, "\u200b\u2060\u200b"))["text"] == empty
    assert (await harness.send(organizer, "T" * 201))["text"].startswith("That title is too long")
    assert (await harness.send(organizer, "Choir: New Year concert"))["text"] == "✅ Saved."
    async with create_session_factory(harness.app.engine)() as session:
        titles = (await session.exec(select(Event.title).order_by(col(Event.starts_at)))).all()
    assert titles == ["Choir: New Year concert"] + ["Weekly choir"] * 7

    await harness.press(organizer, preview, "🗑 Discard")
    assert (await harness.edited(organizer, preview))["text"] == "🗑 The draft was discarded."
    assert await count_events(harness) == 0
    async with create_session_factory(harness.app.engine)() as session:
        assert (await session.exec(select(func.count()).select_from(EventSeries))).one() == 0
    assert harness.emulator.errors == []


async def test_dialog_with_a_chosen_audience_and_claim_window_and_forged_buttons(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    organizer = await make_organizer(harness, registered, "en")
    culture_fan = await registered("Awa", "en")
    sports_fan = await registered("Bilal", "en")
    nobody = await registered("Chen", "en")
    await no_quiet_hours(harness)
    async with create_session_factory(harness.app.engine)() as session:
        for row in (await session.exec(select(Member))).all():
            row.interests = {culture_fan.id: ["culture", "youth"], sports_fan.id: ["events"]}.get(
                row.telegram_id or 0, []
            )
            session.add(row)
        await session.commit()

    async def forged(message: dict[str, Any], data: EventAdmin) -> None:
        assert await harness.forge(organizer, message, data) == "This button is no longer active."

    await harness.send(organizer, "/newevent")
    question = await harness.send(organizer, "Film night")
    await harness.choose(organizer, question, "Skip")
    await harness.press(organizer, await harness.send(organizer, "2099-05-02 19:00"), "✅ Correct")
    for _question in ("end", "place"):
        await harness.press(organizer, await harness.reply(organizer), "Skip")
    await harness.reply(organizer)  # capacity
    reminders = await harness.choose(organizer, await harness.send(organizer, "30"), "Skip")  # deadline
    await forged(reminders, EventAdmin(action="aud", value="all"))  # not this step's button
    question = await harness.choose(organizer, reminders, "1 hour before")
    await forged(question, EventAdmin(action="claim", value="12"))
    assert (await harness.send(organizer, "culture fans"))["text"] == (
        "Please choose with the buttons above, or send /cancel to stop."
    )
    await harness.press(organizer, question, "Choose…")
    picker = await harness.edited(organizer, question)
    assert picker["text"].startswith("Who should be told about this event?\n\nTick the interests")
    assert "▫️ 🎭 Culture" in buttons(picker) and "▫️ Français" in buttons(picker)
    assert buttons(picker)[-1] == "Done"
    for label in ("▫️ 🎭 Culture", "▫️ Français", "✅ Français"):  # French ticked, then unticked
        await harness.press(organizer, picker, label)
    for data in (
        EventAdmin(action="aud_i", value="cooking"),
        EventAdmin(action="aud_l", value="pl"),  # not a shipped language
        EventAdmin(action="aud", value="everything"),
        EventAdmin(action="claim", value="24"),
    ):
        await forged(picker, data)
    picker = harness.message(organizer, picker["message_id"])
    ticked = [label for label in buttons(picker) if label.startswith("✅")]
    assert ticked == ["✅ 🎭 Culture"]
    await harness.press(organizer, picker, "Done")
    assert buttons(harness.message(organizer, picker["message_id"])) == []
    claim = await harness.reply(organizer)
    assert buttons(claim) == ["Automatically (no waiting)", "12 hours", "24 hours", "48 hours"]
    for value in ("36", "168", "-1", ""):
        await forged(claim, EventAdmin(action="claim", value=value))
    await forged(claim, EventAdmin(action="aud_i", value="events"))  # the audience is done
    assert buttons(harness.message(organizer, claim["message_id"])) == buttons(claim)
    await harness.press(organizer, claim, "48 hours")
    header = await harness.choose(organizer, await harness.reply(organizer), "Only once")
    assert header["text"].endswith("\nThis event reaches 1 member.")
    preview = await harness.reply(organizer)
    async with create_session_factory(harness.app.engine)() as session:
        event = (await session.exec(select(Event))).one()
    assert (event.audience, event.claim_window_hours, event.capacity) == ({"interests": ["culture"]}, 48, 30)

    assert (await harness.choose(organizer, preview, "📤 Publish"))["text"].startswith(
        "📤 Published: 1 member will be told."
    )
    assert {row.member_id for row in await notices(harness, "published")} == {
        await member_id(harness, culture_fan)
    }
    card = await harness.reply(culture_fan, timeout=15)
    assert card["text"].startswith("📣 New event\n\n📅 Film night")
    await asyncio.sleep(0.3)
    for user in (sports_fan, nobody):
        assert not any("Film night" in (m.get("text") or "") for m in harness.emulator.transcript(user.id))
    assert harness.emulator.errors == []


async def test_an_organizer_who_loses_the_role_mid_dialog_is_refused_and_the_dialog_ends(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    organizer = await make_organizer(harness, registered, "en")
    event_id = await published_event(harness)
    await harness.send(organizer, "/newevent")
    await harness.send(organizer, "Book club")  # -> the description question
    listing = await harness.send(organizer, "/myevents")  # a command, not the description
    assert listing["text"].startswith("🗓 Upcoming events (1–1 of 1)")
    manage = await harness.choose(organizer, listing, "1. Assemblée générale")
    fields = await harness.choose(organizer, manage, "✏️ Edit")
    await harness.choose(
        organizer, fields, "Title"
    )  # "send the new title", the dialog now waits in that step
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == organizer.id))).one()
        await revoke_role(session, Actor(1, True), harness.app.dispatcher["organization"].id, member)
        await session.commit()

    refusal = "Sorry, only organizers can manage events."
    assert (await harness.send(organizer, "A new title"))["text"] == refusal
    async with create_session_factory(harness.app.engine)() as session:
        event = await session.get(Event, event_id)
        assert event is not None and event.title == "Assemblée générale"
        states = (await session.exec(select(DialogState.state))).all()
        assert not any(state and state.startswith("EventStates") for state in states)
    assert (await harness.send(organizer, "A new title"))["text"] == (
        "I'm not sure what you mean. Send /help to see what I can do."
    )  # no dialog waits any more
    assert await count_events(harness) == 1
    assert harness.emulator.errors == []


async def test_myevents_keeps_events_while_check_in_takes_codes_then_shows_their_attendance(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """An event stays in /myevents during it and until check-in closes (an hour after its end; an
    event without an end lasts two hours), then moves to 🕘 Past events with its attendance; a
    wrong code of letters only is told so while an event takes codes."""
    organizer = await make_organizer(harness, registered, "en")
    ana = await registered("Ana", "en")
    now = utcnow()

    async def held(title: str, starts: timedelta, ends: timedelta | None, code: str) -> int:
        async with create_session_factory(harness.app.engine)() as session:
            organization = await our_organization(harness, session)
            earlier = now - timedelta(days=1)
            event = await service.create_event(
                session,
                organization_id=organization.id or 0,
                now=earlier,
                title=title,
                language="en",
                starts_at=now + starts,
                ends_at=now + ends if ends is not None else None,
            )
            await service.publish(session, event, organization, earlier, announce=False)
            event.checkin_code = code
            session.add(event)
            await session.commit()
            return event.id or 0

    await held("No end, started", -timedelta(minutes=30), None, "KPQXRT")  # open until start + 3 h
    await held("Just ended", -timedelta(hours=2), -timedelta(minutes=30), "AB2CD3")  # open until end + 1 h
    long_ago = await held("Long ago", -timedelta(hours=5), -timedelta(hours=3), "ZX9WV8")

    listing = await harness.send(organizer, "/myevents")
    assert listing["text"].startswith("🗓 Upcoming events (1–2 of 2)")
    assert "No end, started" in listing["text"] and "Just ended" in listing["text"]
    assert "Long ago" not in listing["text"]
    assert listing["text"].count("🟢 happening now") == 2
    card = await harness.choose(organizer, listing, "2. No end, started")
    assert "🔑 Check-in code" in buttons(card) and "✏️ Edit" in buttons(card)

    await harness.press(organizer, listing, "🕘 Past events")
    past = await harness.edited(organizer, listing)
    assert past["text"].startswith("🕘 Past events (1–1 of 1)") and "Long ago" in past["text"]
    card = await harness.choose(organizer, past, "1. Long ago")
    assert buttons(card) == ["👥 Attendees", "📄 CSV"]  # over: nothing left to edit, cancel or code

    # A member checks in at the event without an end; a wrong code of letters only is told so.
    wrong = await harness.send(ana, "KPQXRS")
    assert wrong["text"] == "That check-in code doesn't match an event happening now."
    checked = await harness.send(ana, "kpqxrt")
    assert checked["text"] == "✅ You're checked in at No end, started. Enjoy!"
    assert (await harness.send(ana, "hello"))["text"].startswith("I'm not sure what you mean")
    attendance = await harness.choose(organizer, card, "👥 Attendees")
    assert "Long ago" in attendance["text"]
    async with create_session_factory(harness.app.engine)() as session:
        assert await service.attendees(session, long_ago) == []
    assert harness.emulator.errors == []


def test_new_check_in_codes_always_mix_a_digit_and_a_letter() -> None:
    from bot.services.events.checkin import looks_like_a_code, new_checkin_code

    codes = {new_checkin_code() for _ in range(2000)}
    assert all(any(c.isdigit() for c in code) and any(c.isalpha() for c in code) for code in codes)
    assert all(looks_like_a_code(code.lower()) for code in codes)
    assert not looks_like_a_code("hello") and not looks_like_a_code("merci!")

"""The coordinator side of trainings, through the emulator: the /newtraining dialog (bad input at every
step it can go wrong) and publishing to members; /managetrainings: the roster, seats (the waitlist
moves up and is told in its language), removals, a message to confirmed participants, attendance per
session with completion and the CSV files, cancellation; and members who are refused everything."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.services import surveys as survey_service
from bot.services import trainings as service
from bot.services.roles import Actor, grant_role
from bot.services.trainings import SessionInput
from handlers.trainings.callbacks import TrainingAdmin, TrainingDraft
from handlers.trainings.managed import ACTIONS
from handlers.trainings.managed import KNOWN as MANAGE_ACTIONS
from storage.db import create_session_factory
from storage.models import (
    Event,
    EventStatus,
    Member,
    Organization,
    OutboxMessage,
    Role,
    SignupStatus,
    Training,
    TrainingSignup,
    TrainingStatus,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import our_organization, plain
from tests.e2e.test_event_admin import member_id, no_quiet_hours
from tests.e2e.test_trainings import drained

STALE = "This button is no longer active."
PAST_2020_EN = (  # "01.01.2020 10:00", named back
    "Wednesday, January 1, 2020, 10:00\u202fAM (UTC) has already passed. Which date did you mean? "
    "Please send a date and time to come."
)


async def make_coordinator(
    harness: Harness, registered, name: str, language: str, role: Role = Role.COORDINATOR
):  # type: ignore[no-untyped-def]
    user = await registered(name, language, username=f"{name.lower()}_coord")
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        await grant_role(session, Actor(1, True), harness.app.dispatcher["organization"].id, member, role)
        await session.commit()
    return user


async def count_trainings(harness: Harness) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        return int((await session.exec(select(func.count()).select_from(Training))).one())


async def arrives(harness: Harness, user: Any, needle: str, timeout: float = 15) -> dict[str, Any]:
    """The first message the bot sent `user` containing `needle` (waiting for the delivery engine)."""

    def found(_: object) -> dict[str, Any] | None:
        return next(
            (
                m
                for m in harness.emulator.transcript(user.id)
                if m["outgoing"] and needle in (m.get("text") or m.get("caption") or "")
            ),
            None,
        )

    return await harness.emulator.wait_for(found, timeout=timeout)


def got(harness: Harness, user: Any, needle: str) -> bool:
    return any(needle in (m.get("text") or "") for m in harness.emulator.transcript(user.id) if m["outgoing"])


async def test_newtraining_dialog_bad_input_at_each_step_then_publish(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "Grace", "en")
    awa = await registered("Awa", "fr")
    lucia = await registered("Lucía", "es")
    await no_quiet_hours(harness)

    async def says(text: str, expected: str) -> dict[str, Any]:
        reply = await harness.send(coordinator, text)
        assert reply["text"] == expected, reply["text"]
        return reply

    invisible, empty = "\u200b\u2060\u200b", "That looks empty. Please type your answer."

    prompt = await harness.send(coordinator, "/newtraining")
    assert prompt["text"] == (
        "🎓 New training\n\nWhat is it called? Send the title (at most 200 characters). Send /cancel to stop."
    )
    await says("T" * 201, "That title is too long: at most 200 characters. Please send a shorter one.")
    await says("\u200b \u200b", "The title can't be empty. Please send a title.")
    await says(invisible, "The title can't be empty. Please send a title.")
    await says(
        "Grant writing for associations",
        "Describe the training for members (at most 3000 characters), or press Skip.",
    )
    await says(
        "D" * 3001, "That description is too long: at most 3000 characters. Please send a shorter one."
    )
    harness.emulator.advance_clock(60)  # a text right after a long one would be its continuation
    await says(invisible, empty)  # invisible text is refused at every typed step
    languages = await says(
        "Write <winning> grant applications & budgets",
        "Which language or languages is it taught in? Tick them, then press Done.",
    )
    assert buttons(languages)[-1] == "Done" and "▫️ Français" in buttons(languages)
    query = await harness.press(coordinator, languages, "Done")  # nothing ticked yet
    assert harness.emulator.callback_answers[query]["text"] == "Please tick at least one language."
    await says("English", "Please choose with the buttons above, or send /cancel to stop.")
    for label in ("▫️ English", "▫️ Français", "▫️ Español", "✅ Español"):
        await harness.press(coordinator, languages, label)
    languages = harness.message(coordinator, languages["message_id"])
    assert [label for label in buttons(languages) if label.startswith("✅")] == ["✅ English", "✅ Français"]
    assert (await harness.choose(coordinator, languages, "Done"))["text"] == (
        "Who is the trainer? Send their name (at most 200 characters)."
    )
    await says("N" * 201, "That name is too long: at most 200 characters. Please send a shorter one.")
    await says(invisible, "Please send the trainer's name.")
    start_question = (
        "Session {number}: when does it start? Send the date and time in your time zone (UTC), for example "
        "2027-03-14 18:30 or 14.03.2027 18:30."
    )
    await says("Aïcha Diallo", start_question.format(number=1))
    date_error = "I couldn't read that date. Please write it like 2027-03-14 18:30 or 14.03.2027 18:30."
    await says("next tuesday around noon", date_error)
    await says(invisible, empty)
    await says("31.02.2099 10:00", date_error)
    await says("01.01.2020 10:00", PAST_2020_EN)
    confirm = await says(
        "14.03.2099 18:30",
        "The session starts on Saturday, March 14, 2099, 6:30\u202fPM (UTC). Is that right?",
    )
    assert (await harness.choose(coordinator, confirm, "✏️ Change"))["text"] == start_question.format(number=1)
    confirm = await harness.send(coordinator, "2099-03-14 18:30")
    duration = await harness.choose(coordinator, confirm, "✅ Correct")
    assert buttons(duration) == ["1 hour", "1 h 30 min", "2 hours", "3 hours"]
    length_error = "Please send a length from 15 to 720 minutes, for example 90 or 1:30."
    await says("5", length_error)
    await says("a while", length_error)
    await says(invisible, empty)
    place = await says(
        "2h",
        "Where does the session take place? Send an address, or a link (https://…) for an online session.",
    )
    assert buttons(place) == []  # nothing to repeat for the first session
    bad_link = "That link doesn't work. Please send a full web link starting with https:// or http://."
    await says("ftp://example.org/room", bad_link)
    await says(invisible, empty)
    more = await harness.send(coordinator, "Maison des associations, Lyon")
    assert more["text"] == (
        "🗓 Sessions\n1. Mar 14, 2099, 6:30\u202fPM · 2 hours · 📍 Maison des associations, Lyon\n\n"
        "Add another session, or press Done."
    )
    question = await harness.choose(coordinator, more, "➕ Add another session")
    assert question["text"] == start_question.format(number=2)
    confirm = await harness.send(coordinator, "2099-03-14 19:00")  # during the first session
    duration = await harness.choose(coordinator, confirm, "✅ Correct")
    assert (await harness.choose(coordinator, duration, "1 h 30 min"))["text"] == (
        "This session overlaps session 1. Please send another start time."
    )
    assert (await harness.reply(coordinator))["text"] == start_question.format(number=2)
    confirm = await harness.send(coordinator, "2099-03-21 18:30")
    await harness.choose(coordinator, confirm, "✅ Correct")  # how long
    place = await says(
        "1:30",
        "Where does the session take place? Send an address, or a link (https://…) for an online session.",
    )
    more = await harness.choose(coordinator, place, "Same place as the previous session")
    assert "2. Mar 21, 2099, 6:30\u202fPM · 1 h 30 min · 📍 Maison des associations, Lyon" in more["text"]
    question = await harness.choose(coordinator, more, "Done")
    assert question["text"] == "How many seats are there? Send a number (at least 1)."
    for wrong in ("0", "-3", "many", "1000000"):
        await says(wrong, "Please send a whole number of seats from 1 to 100000.")
    await says(invisible, empty)
    deadline = await says(
        "12",
        "Until when can members sign up? Send a date and time before the first session (Saturday, March 14, "
        "2099, 6:30\u202fPM (UTC)), or press Skip to take sign-ups until it starts.",
    )
    assert buttons(deadline) == ["Skip"]
    await says(
        "2099-03-20 10:00",
        "Sign-ups must close before the first session starts. Please send an earlier time.",
    )
    await says("01.01.2020 10:00", PAST_2020_EN)
    await says("sometime", date_error)
    await says(invisible, empty)
    assert await count_trainings(harness) == 0  # nothing half-created while the dialog runs
    await says("2099-03-10 12:00", "✅ Sign-ups close on Tuesday, March 10, 2099, 12:00\u202fPM (UTC).")
    questions = await harness.reply(coordinator)
    assert questions["text"] == (
        "Do you want to ask members something when they sign up, for example “Which organization are you "
        "with?” (at most 5 questions)?"
    )
    assert buttons(questions) == ["➕ Add a question", "No questions"]
    question = await harness.choose(coordinator, questions, "➕ Add a question")
    assert question["text"] == "Send the question (at most 200 characters)."
    await says("Q" * 201, "That question is too long: at most 200 characters. Please send a shorter one.")
    await says(invisible, "The question can't be empty. Please send it.")
    options = await says(
        "Which organization are you with?",
        "Send the choices, one per line (2 to 10, each at most 100 characters), or press “Free text answer”.",
    )
    await says("Only one", "Please send between 2 and 10 choices, one per line.")
    await says(invisible, "Please send between 2 and 10 choices, one per line.")
    await says("A\na", "Two choices are the same. Please send different ones.")
    await says("A\n" + "B" * 101, "Each choice can have at most 100 characters. Please send shorter ones.")
    questions = await harness.send(coordinator, "Association <A>\nCollectif B\nOther")
    assert questions["text"] == (
        "Questions asked at sign-up:\n1. Which organization are you with? (Association <A> / Collectif B / "
        "Other)\n\nAdd another question, or press Done."
    )
    await harness.choose(coordinator, questions, "➕ Add a question")
    options = await harness.send(coordinator, "What do you expect from it?")
    questions = await harness.choose(coordinator, options, "Free text answer")
    assert "2. What do you expect from it? (free text answer)" in questions["text"]
    translations = await harness.choose(coordinator, questions, "Done")
    assert "English" not in buttons(translations) and buttons(translations)[-1] == "No translations"
    # The original's language is not a translation.
    assert await harness.forge(coordinator, translations, TrainingDraft(action="tr", value="en")) == STALE
    question = await harness.choose(coordinator, translations, "Français")
    assert question["text"] == "Send the title in Français (at most 200 characters)."
    await says("x" * 201, "That title is too long: at most 200 characters. Please send a shorter one.")
    await says(invisible, "The title can't be empty. Please send a title.")
    await says(
        "Rédiger des demandes de subvention",
        "Now the description in Français, or press Skip to show the original one.",
    )
    await says(invisible, empty)
    translations = await harness.send(coordinator, "Des dossiers de subvention qui convainquent")
    assert translations["text"].endswith("Translated: Français")
    assert "✅ Français" in buttons(translations) and buttons(translations)[-1] == "Done"
    audience = await harness.choose(coordinator, translations, "Done")
    assert audience["text"] == "Who should be told about this training?"
    await says("everyone", "Please choose with the buttons above, or send /cancel to stop.")
    preview = await harness.choose(coordinator, audience, "Everyone")
    assert preview["text"].startswith(
        "👁 Preview. Nothing is sent until you press Publish.\nThis training reaches 3 members.\n\n"
        "🎓 Grant writing for associations\n\nWrite <winning> grant applications & budgets\n\n"
        "🗣 Taught in: English, Français\n👤 Trainer: Aïcha Diallo\n🎟 Seats: 12\n"
        "⏳ Sign up until Mar 10, 2099, 12:00\u202fPM\n"
    )
    assert "🌐 Translated: Français" in preview["text"]
    assert buttons(preview) == ["📤 Publish", "✏️ Edit", "🗑 Discard"]
    assert await count_trainings(harness) == 0

    published = await harness.choose(coordinator, preview, "📤 Publish")
    assert published["text"] == (
        "📤 Published: 3 members will be told.\n/managetrainings shows the sign-ups, attendance and more."
    )
    assert buttons(harness.message(coordinator, preview["message_id"])) == []
    assert await harness.forge(coordinator, preview, TrainingDraft(action="publish")) == STALE

    async with create_session_factory(harness.app.engine)() as session:
        training = (await session.exec(select(Training))).one()
        sessions = (await session.exec(select(Event).order_by(col(Event.starts_at)))).all()
    assert (training.status, training.title, training.trainer, training.capacity) == (
        TrainingStatus.OPEN,
        "Grant writing for associations",
        "Aïcha Diallo",
        12,
    )
    assert (training.description, training.language, training.teaching_languages) == (
        "Write <winning> grant applications & budgets",
        "en",
        ["en", "fr"],
    )
    assert training.signup_deadline == datetime(2099, 3, 10, 12, 0, tzinfo=UTC)
    assert training.questions == [
        {"text": "Which organization are you with?", "options": ["Association <A>", "Collectif B", "Other"]},
        {"text": "What do you expect from it?", "options": []},
    ]
    assert training.translations == {
        "fr": {
            "title": "Rédiger des demandes de subvention",
            "description": "Des dossiers de subvention qui convainquent",
        }
    }
    assert (training.audience, training.timezone) == ({}, "UTC")
    assert [(event.starts_at, event.ends_at) for event in sessions] == [
        (datetime(2099, 3, 14, 18, 30, tzinfo=UTC), datetime(2099, 3, 14, 20, 30, tzinfo=UTC)),
        (datetime(2099, 3, 21, 18, 30, tzinfo=UTC), datetime(2099, 3, 21, 20, 0, tzinfo=UTC)),
    ]
    assert {(event.place, event.training_id, event.status) for event in sessions} == {
        ("Maison des associations, Lyon", training.id, EventStatus.PUBLISHED)
    }

    # Members get the announcement through the delivery engine, each in their version, with Sign up.
    french = await arrives(harness, awa, "Rédiger des demandes de subvention")
    spanish = await arrives(harness, lucia, "Grant writing for associations")  # no Spanish version
    for card, language in ((french, "fr"), (spanish, "es")):
        assert any(label == harness.t("✍️ Sign up", language) for label in buttons(card)), buttons(card)
    assert harness.emulator.errors == []


async def trainer_to_questions(harness: Harness, coordinator: Any) -> None:
    """/newtraining from the trainer's name to "No questions": Kwame, one hour on 1 May 2099 in
    Room 4, five seats, no deadline (the translations step is asked next)."""
    await harness.send(coordinator, "Kwame")
    confirm = await harness.send(coordinator, "2099-05-01 10:00")
    await harness.press(coordinator, confirm, "✅ Correct")
    await harness.choose(coordinator, await harness.reply(coordinator), "1 hour")  # where
    await harness.choose(coordinator, await harness.send(coordinator, "Room 4"), "Done")  # how many seats
    await harness.press(coordinator, await harness.send(coordinator, "5"), "Skip")
    await harness.press(coordinator, await harness.reply(coordinator), "No questions")


async def test_newtraining_a_cut_description_a_skipped_translation_and_discard(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """The kit's guard: a description Telegram cut in two is not kept half (the step is asked
    again); a translation's description may be skipped; Discard turns the preview into the notice
    and leaves nothing to publish."""
    coordinator = await make_coordinator(harness, registered, "Grace", "en")
    await harness.send(coordinator, "/newtraining")
    await harness.send(coordinator, "Budget basics")
    text = ("Plan the year, then the month. " * 200)[:5000]
    languages = await harness.send(coordinator, text[:2600])  # Telegram Desktop cut at a word
    assert buttons(languages)[-1] == "Done"
    told = await harness.send(coordinator, text[2600:])
    assert told["text"] == (
        "✂️ Telegram cut your text into several messages: it is longer than one message can be (4096 "
        "characters). Nothing of it was kept. Please send a shorter text, in one message."
    )
    query = await harness.press(coordinator, languages, "▫️ English")  # the description is asked again
    assert harness.emulator.callback_answers[query]["text"] == "This button is no longer active."
    harness.emulator.advance_clock(60)
    languages = await harness.send(coordinator, "Money for associations, step by step.")
    await harness.press(coordinator, languages, "▫️ English")
    await harness.choose(coordinator, languages, "Done")  # who is the trainer
    await trainer_to_questions(harness, coordinator)
    await harness.choose(coordinator, await harness.reply(coordinator), "Français")  # the title in French
    description = await harness.send(coordinator, "Les bases du budget")
    assert description["text"] == "Now the description in Français, or press Skip to show the original one."
    await harness.press(coordinator, description, "Skip")
    assert buttons(harness.message(coordinator, description["message_id"])) == []
    translations = await harness.reply(coordinator)
    assert translations["text"].endswith("Translated: Français")
    await harness.press(coordinator, translations, "Done")
    preview = await harness.choose(coordinator, await harness.reply(coordinator), "Everyone")
    assert preview["text"].startswith("👁 Preview.") and "🌐 Translated: Français" in preview["text"]
    assert "step by step." in preview["text"] and "Plan the year" not in preview["text"]
    await harness.press(coordinator, preview, "🗑 Discard")
    discarded = await harness.edited(coordinator, preview)
    assert (discarded["text"], buttons(discarded)) == ("🗑 The draft was discarded.", [])
    assert await harness.forge(coordinator, preview, TrainingDraft(action="publish")) == STALE
    assert await count_trainings(harness) == 0
    assert harness.emulator.errors == []


async def published_training(harness: Harness, capacity: int = 2, **fields: Any) -> int:
    """An open training with two sessions and one eligibility question, created through the service."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        now = utcnow()
        values: dict[str, Any] = {
            "title": "Digital visibility",
            "language": "en",
            "trainer": "Kwame",
            "capacity": capacity,
            "questions": [{"text": "Your <association>?", "options": []}],
            "audience": {"languages": ["fr"]},  # not the coordinators: their chats stay predictable
            "sessions": [
                SessionInput(now + timedelta(days=10), 120, "Salle 1", None),
                SessionInput(now + timedelta(days=17), 120, None, "https://meet.example.org/dv"),
            ],
        } | fields
        training = await service.create_training(session, organization, None, now=now, **values)
        await service.publish_training(session, training, organization, now)
        await session.commit()
        return training.id or 0


async def sign_up(harness: Harness, training_id: int, user: Any, answer: str) -> None:
    identifier = await member_id(harness, user)
    async with create_session_factory(harness.app.engine)() as session:
        await service.sign_up(session, training_id, identifier, [answer], utcnow())
        await session.commit()


async def sessions_held(harness: Harness, training_id: int, attendees: list[int]) -> None:
    """The training's sessions moved into the past (from ten days ago, a day apart, two hours each),
    with `attendees` (member ids) marked present at every one."""
    async with create_session_factory(harness.app.engine)() as session:
        training = await service.get_training(session, training_id)
        for number, event in enumerate(await service.sessions_of(session, training_id)):
            event.starts_at = utcnow() - timedelta(days=10 - number)
            event.ends_at = event.starts_at + timedelta(hours=2)
            session.add(event)
            for attendee in attendees:
                await service.mark_attendance(session, training, event.id or 0, attendee, True)
        await session.commit()


async def statuses(harness: Harness, training_id: int) -> dict[int, SignupStatus]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = (
            await session.exec(select(TrainingSignup).where(TrainingSignup.training_id == training_id))
        ).all()
        return {row.member_id: SignupStatus(row.status) for row in rows}


async def test_roster_seats_removal_message_attendance_csv_and_cancel(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "Grace", "en")
    zoe = await registered("<Zoé & Co>", "fr", username="zoe_co")
    ivan = await registered("Ivan", "es")
    lucia = await registered("Lucía", "es")
    omar = await registered("Omar", "fr")
    await no_quiet_hours(harness)
    training_id = await published_training(harness)
    for user, answer in ((zoe, "Asso <Lyon>"), (ivan, "Red Madrid"), (lucia, "Casa"), (omar, "Amal")):
        await sign_up(harness, training_id, user, answer)
    ids = {user.id: await member_id(harness, user) for user in (zoe, ivan, lucia, omar)}

    listing = await harness.send(coordinator, "/managetrainings")
    assert listing["text"] == (
        "🎓 Trainings (1–1 of 1)\n\n1. Digital visibility · 🟢 sign-ups open\n"
        "🎟 2 of 2 seats taken · ⏳ waitlist: 2"
    )
    manage = await harness.choose(coordinator, listing, "1. Digital visibility")
    assert manage["text"].startswith(f"🎓 Training #{training_id} · 🟢 sign-ups open\n\nDigital visibility\n")
    assert "🎟 Seats: 2 · ✅ confirmed: 2 · ⏳ waitlist: 2 · ✖ cancelled: 0" in manage["text"]
    assert buttons(manage) == [
        "👥 Roster",
        "✅ Attendance",
        "📄 Roster CSV",
        "📄 Attendance CSV",
        "🎟 Seats",
        "✉️ Message participants",
        "🔒 Close sign-ups",
        "✖ Cancel training",
    ]

    roster = await harness.choose(coordinator, manage, "👥 Roster")
    assert roster["text"] == (
        "👥 Digital visibility\n✅ Confirmed: 2 of 2 · ⏳ Waitlist: 2 · ✖ Cancelled: 0\n\n"
        "Confirmed\n1. <Zoé & Co> (@zoe_co)\n    ↳ Your <association>?: Asso <Lyon>\n"
        "2. Ivan\n    ↳ Your <association>?: Red Madrid\n\n"
        "Waitlist\n1. Lucía\n    ↳ Your <association>?: Casa\n2. Omar\n    ↳ Your <association>?: Amal\n\n"
        "Showing 1–4 of 4.\nPress ✖ next to a name to remove that person."
    )
    assert buttons(roster) == ["✖ <Zoé & Co>", "✖ Ivan", "✖ Lucía", "✖ Omar"]

    # More seats: the first on the waitlist moves up at once and is told, in Spanish.
    assert (await harness.choose(coordinator, manage, "🎟 Seats"))["text"] == (
        "“Digital visibility” has 2 seats: 2 confirmed, 2 on the waitlist. Send the new number of seats. "
        "When there are more, the waitlist moves up at once, in order."
    )
    assert (await harness.send(coordinator, "0"))[
        "text"
    ] == "Please send a whole number of seats from 1 to 100000."
    assert (await harness.send(coordinator, "3"))["text"] == (
        "✅ There are now 3 seats.\n1 person moved up from the waitlist and is told."
    )
    assert (await statuses(harness, training_id))[ids[lucia.id]] == SignupStatus.CONFIRMED
    assert (await statuses(harness, training_id))[ids[omar.id]] == SignupStatus.WAITLISTED
    promoted = "🎉 A seat freed up: you are now signed up for <b>{title}</b>!"
    await arrives(harness, lucia, plain(harness.t(promoted, "es", title="Digital visibility")))

    # Removing a confirmed participant: they are told, and Omar gets the seat.
    confirm = await harness.choose(coordinator, roster, "✖ Ivan")
    assert confirm["text"] == (
        "Remove Ivan from “Digital visibility”? They will be told, and the next person on the waitlist gets "
        "the seat."
    )
    await harness.press(coordinator, confirm, "✖ Yes, remove")
    done = await harness.edited(coordinator, confirm)
    assert done["text"] == (
        "✖ Ivan is removed from “Digital visibility” and told.\n"
        "1 person moved up from the waitlist and is told."
    )
    assert (await statuses(harness, training_id)) == {
        ids[zoe.id]: SignupStatus.CONFIRMED,
        ids[ivan.id]: SignupStatus.CANCELLED,
        ids[lucia.id]: SignupStatus.CONFIRMED,
        ids[omar.id]: SignupStatus.CONFIRMED,
    }
    removed = "The coordinators took you off the list of <b>{title}</b>."
    await arrives(harness, ivan, plain(harness.t(removed, "es", title="Digital visibility")))
    await arrives(harness, omar, plain(harness.t(promoted, "fr", title="Digital visibility")))
    assert buttons(harness.message(coordinator, confirm["message_id"])) == []  # answered
    removed_again = TrainingAdmin(action="rm_yes", id=training_id, member=ids[ivan.id])
    assert await harness.forge(coordinator, confirm, removed_again) == STALE

    # A message reaches the confirmed participants only.
    await harness.choose(coordinator, manage, "✉️ Message participants")
    preview = await harness.send(coordinator, "Bring a <laptop> & charger")
    assert preview["text"] == "👁 The 3 confirmed participants will get:\n\nBring a <laptop> & charger"
    sent = await harness.choose(coordinator, preview, "📤 Send")
    assert sent["text"] == "✉️ Sent to 3 confirmed participants."
    for user, language in ((zoe, "fr"), (lucia, "es"), (omar, "fr")):
        heading = plain(harness.t("✉️ <b>Message about {title}</b>", language, title="Digital visibility"))
        assert (await arrives(harness, user, "Bring a <laptop> & charger"))["text"] == (
            f"{heading}\n\nBring a <laptop> & charger"
        )
    await asyncio.sleep(0.3)
    assert not got(harness, ivan, "Bring a <laptop>")

    # Attendance per session, then completion and the attendance CSV.
    which = await harness.choose(coordinator, manage, "✅ Attendance")
    assert which["text"] == "✅ Attendance for “Digital visibility”: which session?"
    assert len(buttons(which)) == 2
    marks = await harness.choose(coordinator, which, buttons(which)[0])
    assert marks["text"].startswith("✅ Digital visibility: session 1 of 2\n🕒 ")
    assert "0 of 3 participants attended." in marks["text"]
    assert buttons(marks) == ["❌ <Zoé & Co>", "❌ Lucía", "❌ Omar"]
    query = await harness.press(coordinator, marks, "❌ Lucía")
    assert harness.emulator.callback_answers[query]["text"] == "Marked as attended."
    marks = await harness.edited(coordinator, marks)
    assert buttons(marks) == ["❌ <Zoé & Co>", "✅ Lucía", "❌ Omar"] and "1 of 3" in marks["text"]
    await harness.press(coordinator, marks, "❌ Omar")
    marks = await harness.edited(coordinator, marks)
    query = await harness.press(coordinator, marks, "✅ Omar")
    assert harness.emulator.callback_answers[query]["text"] == "Marked as absent."
    second = await harness.choose(coordinator, which, buttons(which)[1])
    await harness.press(coordinator, second, "❌ Lucía")
    await harness.edited(coordinator, second)
    async with create_session_factory(harness.app.engine)() as session:
        assert await service.completion(session, training_id, ids[lucia.id]) == (2, 2)
        assert await service.completion(session, training_id, ids[omar.id]) == (0, 2)
        expected_csv = await service.export_attendance_csv(
            session, await service.get_training(session, training_id)
        )
    document = await harness.choose(coordinator, manage, "📄 Attendance CSV")
    assert document["document"]["file_name"] == f"training-{training_id}-attendance.csv"
    data = harness.emulator.file_bytes(document["document"]["file_id"])
    assert data == expected_csv
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "name" and rows[0][-1] == "completed" and len(rows[0]) == 5  # two sessions
    assert [row[:1] + row[2:] for row in rows[1:]] == [
        ["<Zoé & Co>", "", "", "0 of 2"],
        ["Lucía", "yes", "yes", "2 of 2"],
        ["Omar", "", "", "0 of 2"],
    ]
    document = await harness.choose(coordinator, manage, "📄 Roster CSV")
    assert document["document"]["file_name"] == f"training-{training_id}-roster.csv"
    data = harness.emulator.file_bytes(document["document"]["file_id"])
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][-1] == "Your <association>?"
    assert [(row[0], row[-1]) for row in rows[1:]] == [
        ("<Zoé & Co>", "Asso <Lyon>"),
        ("Lucía", "Casa"),
        ("Omar", "Amal"),
        ("Ivan", "Red Madrid"),
    ]

    # Cancelling: confirmation first, then everyone affected is told; old buttons change nothing.
    confirm = await harness.choose(coordinator, manage, "✖ Cancel training")
    assert confirm["text"] == "Cancel “Digital visibility”? Everyone signed up or waiting will be told."
    await harness.press(coordinator, confirm, "← No, keep it")
    assert (await harness.edited(coordinator, confirm))["text"] == "Nothing was changed."
    confirm = await harness.choose(coordinator, manage, "✖ Cancel training")
    await harness.press(coordinator, confirm, "✖ Yes, cancel it")
    cancelled = await harness.edited(coordinator, confirm)
    assert cancelled["text"] == "✖ “Digital visibility” is cancelled. 3 members are told."
    async with create_session_factory(harness.app.engine)() as session:
        training = await session.get(Training, training_id)
        events = (await session.exec(select(Event))).all()
    assert training is not None and training.status == TrainingStatus.CANCELLED
    assert {event.status for event in events} == {EventStatus.CANCELLED}
    for user in (zoe, lucia, omar):
        language = "fr" if user.id in (zoe.id, omar.id) else "es"
        cancelled_notice = harness.t(
            "✖ <b>Cancelled:</b> the training {title} will not take place. Sorry for the change of plans.",
            language,
            title="Digital visibility",
        )
        await arrives(harness, user, plain(cancelled_notice))
    for label in ("🎟 Seats", "✉️ Message participants", "✖ Cancel training"):
        query = await harness.press(coordinator, manage, label)
        assert harness.emulator.callback_answers[query]["text"] == "This button is no longer active."
    assert (await harness.send(coordinator, "/managetrainings"))["text"] == (
        "There are no trainings yet. /newtraining creates one."
    )
    assert harness.emulator.errors == []


async def test_members_are_refused_and_forged_buttons_change_nothing(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "Grace", "en")
    intruder = await registered("Olena", "fr")
    waiting = await registered("Bob", "es")
    organizer = await make_coordinator(harness, registered, "Sam", "es", Role.ORGANIZER)
    await no_quiet_hours(harness)
    training_id = await published_training(harness, capacity=1)
    await sign_up(harness, training_id, intruder, "x")
    await sign_up(harness, training_id, waiting, "y")
    await drained(harness)  # the "new training" notice is out: what follows is the bot's answers
    assert "Digital visibility" in (await harness.reply(intruder))["text"]
    intruder_id = await member_id(harness, intruder)
    async with create_session_factory(harness.app.engine)() as session:
        event_id = (await service.sessions_of(session, training_id))[0].id or 0
        outbox_before = len((await session.exec(select(OutboxMessage))).all())

    refusal = harness.t("Sorry, only coordinators can manage trainings.", "fr")
    assert refusal != "Sorry, only coordinators can manage trainings."  # in French
    assert (await harness.send(intruder, "/newtraining"))["text"] == refusal
    last = await harness.send(intruder, "/managetrainings")
    assert last["text"] == refusal
    forged = [
        TrainingAdmin(action="open", id=training_id),
        TrainingAdmin(action="roster", id=training_id),
        TrainingAdmin(action="rm_yes", id=training_id, member=intruder_id),
        TrainingAdmin(action="seats", id=training_id),
        TrainingAdmin(action="msg_send", id=training_id),
        TrainingAdmin(action="mark", id=training_id, event=event_id, member=intruder_id),
        TrainingAdmin(action="csv_r", id=training_id),
        TrainingAdmin(action="csv_a", id=training_id),
        TrainingAdmin(action="close_yes", id=training_id),
        TrainingAdmin(action="cancel_yes", id=training_id),
        TrainingDraft(action="publish"),
        TrainingDraft(action="lang", value="fr"),
        TrainingDraft(action="aud", value="all"),
        # Every other coordinator button, on the same real training: refused by the policy before
        # any handler looks at the training (an unknown action and an unknown training too).
        TrainingAdmin(action="rm", id=training_id, member=await member_id(harness, waiting)),
        TrainingAdmin(action="msg", id=training_id),
        TrainingAdmin(action="msg_drop", id=training_id),
        TrainingAdmin(action="att", id=training_id),
        TrainingAdmin(action="att_s", id=training_id, event=event_id),
        TrainingAdmin(action="close", id=training_id),
        TrainingAdmin(action="cancel", id=training_id),
        TrainingAdmin(action="keep", id=training_id),
        TrainingAdmin(action="fb", id=training_id),
        TrainingAdmin(action="page", id=5),
        TrainingAdmin(action="bogus", id=training_id),
        TrainingAdmin(action="open", id=99999),
        *(
            TrainingDraft(action=action, value=value)
            for action, value in (
                ("skip", "description"),
                ("skip", "deadline"),
                ("skip", "tr_description"),
                ("lang_done", ""),
                ("start_ok", "123"),
                ("start_change", ""),
                ("dur", "90"),
                ("same", ""),
                ("more", ""),
                ("sessions_done", ""),
                ("q_add", ""),
                ("q_done", ""),
                ("free", ""),
                ("tr", "fr"),
                ("tr_done", ""),
                ("aud", "choose"),
                ("aud_i", "culture"),
                ("aud_l", "fr"),
                ("discard", ""),
            )
        ),
    ]
    assert {data.action for data in forged if isinstance(data, TrainingAdmin)} >= MANAGE_ACTIONS
    said_before = len([m for m in harness.emulator.transcript(intruder.id) if m["outgoing"]])
    for data in forged:
        assert await harness.forge(intruder, last, data) == refusal, data  # each within 64 bytes
    # Only the refusal toasts: no message, card, question or file was sent for any of them.
    assert len([m for m in harness.emulator.transcript(intruder.id) if m["outgoing"]]) == said_before
    # A typed text from someone with no dialog is not taken as an answer.
    await harness.send(intruder, "100")
    await asyncio.sleep(0.3)
    async with create_session_factory(harness.app.engine)() as session:
        training = await session.get(Training, training_id)
        assert training is not None
        assert (training.status, training.capacity) == (TrainingStatus.OPEN, 1)
        assert len((await session.exec(select(OutboxMessage))).all()) == outbox_before
        assert not any((await service.attendance(session, training_id)).values())
    assert await statuses(harness, training_id) == {
        intruder_id: SignupStatus.CONFIRMED,
        await member_id(harness, waiting): SignupStatus.WAITLISTED,
    }
    transcript = [m for m in harness.emulator.transcript(intruder.id) if m["outgoing"]]
    assert not any(m.get("document") for m in transcript)

    # A coordinator's forged or out-of-place buttons: a toast, nothing changed.
    other = Organization(slug="other", name="Other", default_language="en", timezone="UTC")
    async with create_session_factory(harness.app.engine)() as session:
        session.add(other)
        await session.commit()
        await session.refresh(other)
        now = utcnow()
        foreign = await service.create_training(
            session,
            other,
            None,
            title="Elsewhere",
            capacity=5,
            sessions=[SessionInput(now + timedelta(days=3), 60)],
            now=now,
        )
        await service.publish_training(session, foreign, other, now)
        await session.commit()
        foreign_id = foreign.id or 0
        outbox_before = len((await session.exec(select(OutboxMessage))).all())
    listing = await harness.send(coordinator, "/managetrainings")
    assert "Elsewhere" not in listing["text"]
    for data in (
        TrainingAdmin(action="cancel_yes", id=foreign_id),
        TrainingAdmin(action="open", id=foreign_id),
        TrainingAdmin(action="bogus", id=training_id),
        TrainingAdmin(action="mark", id=training_id, event=event_id + 999, member=intruder_id),
        TrainingAdmin(
            action="mark", id=training_id, event=event_id, member=await member_id(harness, waiting)
        ),
        TrainingAdmin(action="msg_send", id=training_id),
        TrainingDraft(action="publish"),
        TrainingDraft(action="start_ok", value="123"),
        # A training that does not exist, whatever the action: a stale button.
        *(TrainingAdmin(action=action, id=99999, member=intruder_id, event=event_id) for action in ACTIONS),
    ):
        assert await harness.forge(coordinator, listing, data) == STALE, data
    assert harness.emulator.transcript(coordinator.id)[-1]["message_id"] == listing["message_id"]
    async with create_session_factory(harness.app.engine)() as session:
        assert (await session.get(Training, foreign_id)).status == TrainingStatus.OPEN  # type: ignore[union-attr]
        assert not any((await service.attendance(session, training_id)).values())
        training = await session.get(Training, training_id)
        assert training is not None
        assert (training.status, training.capacity) == (TrainingStatus.OPEN, 1)
        assert len((await session.exec(select(OutboxMessage))).all()) == outbox_before

    # Organizers coordinate too (in Spanish); /cancel leaves the dialog and nothing is written.
    question = await harness.send(organizer, "/newtraining")
    assert question["text"] == plain(
        harness.t(
            "🎓 <b>New training</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
            "Send /cancel to stop.",
            "es",
            limit=200,
        )
    )
    await harness.send(organizer, "Liderazgo")
    assert (await harness.send(organizer, "/cancel"))["text"] == harness.t(
        "Cancelled. Nothing else was changed.", "es"
    )
    reply = await harness.send(organizer, "Una descripción")
    assert reply["text"] == harness.t("I'm not sure what you mean. Send /help to see what I can do.", "es")
    assert await count_trainings(harness) == 2
    assert harness.emulator.errors == []


async def test_close_sign_ups_long_roster_pages_and_feedback_averages(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "Grace", "en")
    await no_quiet_hours(harness)
    people = [await registered(f"Member {number:02}", "fr") for number in range(1, 18)]
    training_id = await published_training(harness, capacity=5)
    for user in people:
        await sign_up(harness, training_id, user, "x")

    listing = await harness.send(coordinator, "/managetrainings")
    manage = await harness.choose(coordinator, listing, "1. Digital visibility")
    roster = await harness.choose(coordinator, manage, "👥 Roster")
    assert "Waitlist\n1. Member 06\n" in roster["text"]  # in the order they signed up
    assert roster["text"].endswith("Showing 1–15 of 17.\nPress ✖ next to a name to remove that person.")
    assert buttons(roster)[-1] == "▶️" and len(buttons(roster)) == 16
    await harness.press(coordinator, roster, "▶️")
    roster = await harness.edited(coordinator, roster)
    assert "Waitlist\n11. Member 16\n" in roster["text"] and "12. Member 17" in roster["text"]
    assert "Showing 16–17 of 17." in roster["text"]
    assert buttons(roster) == ["✖ Member 16", "✖ Member 17", "◀️"]

    # Closing sign-ups: the waitlist is told (in French), confirmed participants keep their seats.
    confirm = await harness.choose(coordinator, manage, "🔒 Close sign-ups")
    assert confirm["text"] == (
        "Close sign-ups for “Digital visibility”? Confirmed participants keep their seats; the waitlist is told."
    )
    await harness.press(coordinator, confirm, "🔒 Yes, close sign-ups")
    closed = await harness.edited(coordinator, confirm)
    assert closed["text"] == "🔒 Sign-ups for “Digital visibility” are closed. 12 members are told."
    closed_notice = harness.t(
        "Sign-ups for <b>{title}</b> are closed, and no seat became free for you. Sorry! You will hear about "
        "the next trainings.",
        "fr",
        title="Digital visibility",
    )
    await arrives(harness, people[-1], plain(closed_notice))
    counts = list((await statuses(harness, training_id)).values())
    assert (counts.count(SignupStatus.CONFIRMED), counts.count(SignupStatus.CANCELLED)) == (5, 12)
    query = await harness.press(coordinator, manage, "🔒 Close sign-ups")  # already closed
    assert harness.emulator.callback_answers[query]["text"] == "This button is no longer active."

    # After the last session: completed, the attendees' feedback survey, and the averages.
    attendees = [await member_id(harness, user) for user in people[:2]]
    await sessions_held(harness, training_id, attendees)
    async with create_session_factory(harness.app.engine)() as session:
        assert await service.send_due_feedback(session, utcnow()) == 1
        await session.commit()
    listing = await harness.send(coordinator, "/managetrainings")
    assert "1. Digital visibility · 🏁 completed" in listing["text"]
    manage = await harness.choose(coordinator, listing, "1. Digital visibility")
    assert buttons(manage) == [
        "👥 Roster",
        "✅ Attendance",
        "📄 Roster CSV",
        "📄 Attendance CSV",
        "⭐ Feedback",
    ]
    feedback = await harness.choose(coordinator, manage, "⭐ Feedback")
    assert feedback["text"] == "No feedback about “Digital visibility” yet."
    async with create_session_factory(harness.app.engine)() as session:
        training = await service.get_training(session, training_id)
        survey = await survey_service.get_survey(session, training.feedback_survey_id or 0)
        for attendee, rating in zip(attendees, (4, 5), strict=True):
            member = await session.get(Member, attendee)
            assert member is not None
            response, question = await survey_service.start_or_resume(session, survey, member, utcnow())
            assert question is not None
            comment = await survey_service.answer(session, response, question, rating, utcnow())
            assert comment is not None  # optional: skipped
            await survey_service.answer(session, response, comment, None, utcnow())
            await survey_service.submit(session, response, utcnow())
        await session.commit()
    assert (await harness.choose(coordinator, manage, "⭐ Feedback"))["text"] == (
        "⭐ Feedback about “Digital visibility”: 4.5 out of 5 (2 answers)."
    )
    assert harness.emulator.errors == []


async def test_feedback_survey_reaches_attendees_through_the_bot_and_averages_show(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    from tests.e2e.test_surveys_member import tap

    coordinator = await make_coordinator(harness, registered, "Grace", "en")
    amina = await registered("Amina", "fr")
    kofi = await registered("Kofi", "en")
    omar = await registered("Omar", "fr")  # confirmed, but never came
    await no_quiet_hours(harness)
    training_id = await published_training(
        harness, capacity=5, audience={}, translations={"fr": {"title": "Visibilité numérique"}}
    )
    assert (await harness.reply(coordinator, timeout=15))["text"].startswith(
        "🎓 New training"
    )  # audience: all
    for user in (amina, kofi, omar):
        await sign_up(harness, training_id, user, "Asso")
    await sessions_held(harness, training_id, [await member_id(harness, user) for user in (amina, kofi)])

    job = harness.app.scheduler.get_job("training_feedback")
    assert job is not None
    await job.func()  # the scheduler's job: completes the training and opens the survey
    heading = plain(harness.t("📋 <b>New survey:</b> {title}", "fr", title="Visibilité numérique"))
    invitation = await arrives(harness, amina, heading)
    assert buttons(invitation) == [harness.t("▶️ Start", "fr")]
    await harness.press(amina, invitation, harness.t("▶️ Start", "fr"))
    rating = await arrives(harness, amina, harness.t("How would you rate this training?", "fr"))
    assert buttons(rating) == ["1", "2", "3", "4", "5"]
    comment = await tap(harness, amina, rating, "4")
    assert (
        harness.t("Anything you would like to tell the trainer or the organizers?", "fr") in comment["text"]
    )
    await harness.emulator.send_text(amina, "Très <utile>")
    review = await arrives(harness, amina, "→ Très <utile>")
    await tap(harness, amina, review, harness.t("✅ Submit", "fr"))

    invitation = await arrives(harness, kofi, "📋 New survey: Digital visibility")
    await harness.press(kofi, invitation, "▶️ Start")
    rating = await arrives(harness, kofi, "How would you rate this training?")
    comment = await tap(harness, kofi, rating, "5")
    review = await tap(harness, kofi, comment, "Skip ⏭")
    await tap(harness, kofi, review, "✅ Submit")
    assert not got(harness, omar, plain(harness.t("📋 <b>New survey:</b> {title}", "fr", title="")).strip())

    listing = await harness.send(coordinator, "/managetrainings")
    manage = await harness.choose(coordinator, listing, "1. Digital visibility")
    assert (await harness.choose(coordinator, manage, "⭐ Feedback"))["text"] == (
        "⭐ Feedback about “Digital visibility”: 4.5 out of 5 (2 answers)."
    )
    assert harness.emulator.errors == []


async def test_sessions_cannot_be_changed_or_posted_as_plain_events(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    from handlers.events.callbacks import EventAdmin

    organizer = await make_coordinator(harness, registered, "Olu", "en", Role.ORGANIZER)
    training_id = await published_training(harness)
    async with create_session_factory(harness.app.engine)() as session:
        first = (await service.sessions_of(session, training_id))[0]
    session_id = first.id or 0
    listing = await harness.send(organizer, "/myevents")
    assert "Digital visibility" not in listing["text"]
    for action in ("open", "cancel", "cancel_yes", "newcode", "edit", "csv", "att", "group"):
        assert await harness.forge(organizer, listing, EventAdmin(action=action, id=session_id)) == STALE, (
            action
        )
    group = harness.emulator.create_group("Diaspora Lyon", members=[organizer])
    await harness.emulator.send_text(organizer, f"/postevent {session_id}", chat=group)
    refused = await harness.emulator.next_bot_message(group.id, timeout=10)
    assert refused["text"].startswith("Send /postevent followed by the number")
    await asyncio.sleep(0.3)
    async with create_session_factory(harness.app.engine)() as session:
        stored = await session.get(Event, session_id, populate_existing=True)
        assert stored is not None
        assert (stored.status, stored.starts_at, stored.checkin_code) == (
            EventStatus.PUBLISHED,
            first.starts_at,
            first.checkin_code,
        )
        assert (
            await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "event_notice"))
        ).all() == []
    assert harness.emulator.errors == []


async def test_roster_pages_with_emoji_answers_stay_within_telegram_limits(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "Grace", "en")
    people = [await registered(f"Member {number:02}", "fr") for number in range(1, 13)]
    training_id = await published_training(
        harness, capacity=20, questions=[{"text": "Q" * 200, "options": []}]
    )
    for user in people:
        await sign_up(harness, training_id, user, "🎉" * 150)  # 300 UTF-16 units: the longest answer
    listing = await harness.send(coordinator, "/managetrainings")
    manage = await harness.choose(coordinator, listing, "1. Digital visibility")
    roster = await harness.choose(coordinator, manage, "👥 Roster")
    assert len(roster["text"].encode("utf-16-le")) // 2 <= 4096
    assert buttons(roster)[-1] == "▶️" and "1. Member 01" in roster["text"]
    await harness.press(coordinator, roster, "▶️")
    rest = await harness.edited(coordinator, roster)
    assert len(rest["text"].encode("utf-16-le")) // 2 <= 4096
    assert "Member 12" in rest["text"] and "Member 01" not in rest["text"]
    assert harness.emulator.errors == []

"""Members and trainings through the real bot and the emulator, in English and Spanish (French for
a third member): the published card, /trainings, signing up with eligibility questions, confirmed then
waitlisted, cancelling and the promotion of the next in line, refusals, forged buttons,
/mytrainings with calendar files and completion, reminders to confirmed participants only, the
"less than 24 hours" promotion, and a restart between a promotion and its message."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import update
from sqlmodel import col, select

from bot.sandbox import SimUser
from bot.services import trainings as service
from bot.services.trainings import SessionInput
from bot.views.events import EventAction
from bot.views.trainings import TrainingAction
from storage.db import create_session_factory
from storage.models import (
    DeliveryStatus,
    Member,
    OutboxMessage,
    Reminder,
    SignupStatus,
    Training,
    TrainingNotice,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons, restart_bot
from tests.e2e.helpers import our_organization
from tests.helpers import grant_writing

QUESTIONS = [
    {"text": "Which organization are you with?", "options": []},
    {"text": "Your level?", "options": ["Beginner", "Advanced"]},
]


async def publish_training(harness: Harness, **fields: Any) -> Training:
    """A training created and published through the service (the coordinators' side)."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        organization.quiet_start = organization.quiet_end = 0  # no quiet hours: the notice goes now
        first = utcnow() + timedelta(days=3)
        values: dict[str, Any] = grant_writing(first) | {
            "title": "Grant writing for associations",
            "description": "Two evenings <with> practice.",
            "capacity": 1,
            "signup_deadline": None,
            "questions": QUESTIONS,
            "translations": {"es": {"title": "Redacción de subvenciones", "description": "Dos tardes."}},
            "now": utcnow(),
        }
        training = await service.create_training(session, organization, None, **(values | fields))
        await service.publish_training(session, training, organization, utcnow())
        await session.commit()
    harness.app.delivery.wake()
    return training


async def member_id(harness: Harness, telegram_id: int) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == telegram_id))).one()
        return member.id or 0


async def signed_up(harness: Harness, training_id: int, *users: SimUser) -> None:
    """Once the training's card has reached each of them, `users` sign up in turn (no questions)."""
    for user in users:
        await harness.reply(user)
    async with create_session_factory(harness.app.engine)() as session:
        for user in users:
            await service.sign_up(session, training_id, await member_id(harness, user.id), [], utcnow())
        await session.commit()


async def deadline_passes(harness: Harness, training: Training) -> None:
    """The training's sign-up deadline moves to a minute ago (as if the time had come)."""
    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(  # type: ignore[call-overload]
            update(Training)
            .where(col(Training.id) == training.id)
            .values(signup_deadline=utcnow() - timedelta(minutes=1))
        )
        await session.commit()


async def status_of(harness: Harness, training_id: int, telegram_id: int) -> SignupStatus | None:
    async with create_session_factory(harness.app.engine)() as session:
        signup = await service.my_signup(session, training_id, await member_id(harness, telegram_id))
        return SignupStatus(signup.status) if signup else None


async def toast_of(harness: Harness, query: str) -> str:
    return harness.emulator.callback_answers[query]["text"]


async def test_sign_up_waitlist_cancel_promotion_and_my_trainings(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    kofi = await registered("Kofi", "en")
    lucia = await registered("Lucía", "es")
    training = await publish_training(harness)

    card_k = await harness.reply(kofi)
    assert card_k["text"].startswith("🎓 New training")
    assert (
        "Grant writing for associations" in card_k["text"]
        and "Two evenings <with> practice." in card_k["text"]
    )
    assert "Trainer: Awa Diop" in card_k["text"] and "Taught in: Français, English" in card_k["text"]
    assert "Seats left: 1 of 1" in card_k["text"]
    card_l = await harness.reply(lucia)
    assert "Redacción de subvenciones" in card_l["text"] and "Dos tardes." in card_l["text"]
    assert buttons(card_l) == [harness.t("✍️ Sign up", "es")]

    # /trainings lists it with the same card; Kofi signs up, answering both questions.
    heading = await harness.send(kofi, "/trainings")
    assert heading["text"] == "🎓 1 training open for sign-up"
    listed = await harness.reply(kofi)
    assert "Grant writing for associations" in listed["text"]
    intro = await harness.choose(kofi, listed, "✍️ Sign up")
    assert intro["text"] == "Before you sign up, 2 questions from the organizers."
    first = await harness.reply(kofi)
    assert first["text"].startswith("Question 1 of 2:\nWhich organization are you with?")
    too_long = await harness.send(kofi, "x" * 301)
    assert too_long["text"] == "That answer is too long (at most 300 characters). Please shorten it."
    second = await harness.send(kofi, "Lyon Sénégal")
    assert second["text"].startswith("Question 2 of 2:\nYour level?") and buttons(second) == [
        "Beginner",
        "Advanced",
    ]
    assert (await harness.send(kofi, "Expert"))["text"] == "Please choose one of the buttons."
    done = await harness.choose(kofi, second, "Beginner")
    assert done["text"].startswith("✅ You're signed up for Grant writing for associations!")
    assert "You have a seat." in done["text"]
    # A second tap on Sign up changes nothing.
    query = await harness.press(kofi, listed, "✍️ Sign up")
    assert await toast_of(harness, query) == "You are already signed up for this training."

    # Lucía, in Spanish: the training is full, she is first on the waitlist (typing the option's number).
    await harness.choose(lucia, card_l, harness.t("✍️ Sign up", "es"))
    await harness.reply(lucia)
    await harness.send(lucia, "Asociación Andina")
    waitlisted = await harness.send(lucia, "2")
    assert waitlisted["text"].startswith(
        harness.t(
            "⏳ <b>{title}</b> is full: you are number {position} on the waitlist. "
            "I'll tell you as soon as a seat frees up.",
            "es",
            title="Redacción de subvenciones",
            position=1,
        )
        .replace("<b>", "")
        .replace("</b>", "")
    )
    async with create_session_factory(harness.app.engine)() as session:
        roster = await service.roster(session, training.id or 0)
    assert [(e.member.display_name, e.answers) for e in roster.confirmed] == [
        ("Kofi", ["Lyon Sénégal", "Beginner"])
    ]
    assert [(e.member.display_name, e.answers, e.position) for e in roster.waitlisted] == [
        ("Lucía", ["Asociación Andina", "Advanced"], 1)
    ]

    # /mytrainings: the seat, the sessions with a calendar file each, completion.
    await harness.send(kofi, "/mytrainings")
    mine = await harness.reply(kofi)
    assert "Completed: 0 of 2 sessions" in mine["text"]
    calendar_buttons = [label for label in buttons(mine) if label.startswith("📅")]
    assert len(calendar_buttons) == 2
    document = await harness.choose(kofi, mine, calendar_buttons[0])
    calendar = Calendar.from_ical(harness.emulator.file_bytes(document["document"]["file_id"]))
    [vevent] = [item for item in calendar.walk() if item.name == "VEVENT"]
    assert str(vevent["SUMMARY"]) == "Grant writing for associations"

    # Kofi cancels: Lucía is promoted and told, in Spanish.
    query = await harness.press(kofi, mine, "Cancel my sign-up")
    assert await toast_of(harness, query) == "Your sign-up is cancelled. Thank you for freeing the seat."
    promoted = await harness.reply(lucia, timeout=15)
    assert promoted["text"].startswith(
        harness.t(
            "🎉 A seat freed up: you are now signed up for <b>{title}</b>!",
            "es",
            title="Redacción de subvenciones",
        )
        .replace("<b>", "")
        .replace("</b>", "")
    )
    assert "24" not in promoted["text"].split("\n\n")[0]  # three days ahead: no urgency line
    assert await status_of(harness, training.id or 0, lucia.id) == SignupStatus.CONFIRMED
    # His old button is stale now; the card shows Sign up again.
    query = await harness.press(kofi, listed, "✍️ Sign up")
    assert (await harness.reply(kofi))["text"] == "Before you sign up, 2 questions from the organizers."
    await harness.send(kofi, "/cancel")

    # Forged buttons change nothing.
    sessions = await _sessions(harness, training.id or 0)
    for data, expected in (
        (TrainingAction(action="signup", id=99999).pack(), "This training no longer exists."),
        (TrainingAction(action="cancel", id=99999).pack(), "This training no longer exists."),
        (
            TrainingAction(action="answer", id=training.id or 0, value=1).pack(),
            "This button is no longer active.",
        ),
        (TrainingAction(action="hack", id=training.id or 0).pack(), "This button is no longer active."),
        (
            TrainingAction(action="cancel", id=training.id or 0).pack(),
            "You are not signed up for this training.",
        ),
        (EventAction(action="going", id=sessions[0]).pack(), "This event no longer exists."),
        (EventAction(action="open", id=sessions[0]).pack(), "This event no longer exists."),
    ):
        assert await harness.forge(kofi, listed, data) == expected
    assert await status_of(harness, training.id or 0, kofi.id) == SignupStatus.CANCELLED
    assert await status_of(harness, training.id or 0, lucia.id) == SignupStatus.CONFIRMED
    assert harness.emulator.errors == []


async def _sessions(harness: Harness, training_id: int) -> list[int]:
    async with create_session_factory(harness.app.engine)() as session:
        return [event.id or 0 for event in await service.sessions_of(session, training_id)]


async def test_refusals_after_the_deadline_twice_and_when_cancelled(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "fr")
    kofi = await registered("Kofi", "en")
    training = await publish_training(harness, capacity=5, questions=[])
    card_a = await harness.reply(amina)
    card_k = await harness.reply(kofi)

    # No questions: one tap signs up.
    assert (await harness.choose(kofi, card_k, "✍️ Sign up"))["text"].startswith("✅ You're signed up for")

    # The deadline passes: the button is refused in French and nothing is written.
    await deadline_passes(harness, training)
    query = await harness.press(amina, card_a, harness.t("✍️ Sign up", "fr"))
    assert await toast_of(harness, query) == harness.t(
        "The sign-up deadline for this training has passed.", "fr"
    )
    assert await status_of(harness, training.id or 0, amina.id) is None
    assert (await harness.send(amina, "/trainings"))["text"] == harness.t(
        "No trainings are open for sign-up right now. I'll tell you when there is one!", "fr"
    )

    # Cancelled by the coordinators: the participant is told; the button is refused.
    async with create_session_factory(harness.app.engine)() as session:
        stored = await service.get_training(session, training.id or 0)
        assert await service.cancel_training(session, stored, utcnow()) == 1
        await session.commit()
    harness.app.delivery.wake()
    told = await harness.reply(kofi, timeout=15)
    assert told["text"] == (
        "✖ Cancelled: the training Grant writing for associations will not take place. Sorry for the change of plans."
    )
    query = await harness.press(amina, card_a, harness.t("✍️ Sign up", "fr"))
    assert await toast_of(harness, query) == harness.t("This training was cancelled.", "fr")
    assert await status_of(harness, training.id or 0, amina.id) is None


async def test_deadline_passing_during_the_questions_is_checked_at_the_end(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    lucia = await registered("Lucía", "es")
    training = await publish_training(harness, questions=QUESTIONS[:1])
    card = await harness.reply(lucia)
    await harness.choose(lucia, card, harness.t("✍️ Sign up", "es"))
    await harness.reply(lucia)
    await deadline_passes(harness, training)
    refused = await harness.send(lucia, "Asociación Andina")
    assert refused["text"] == harness.t("The sign-up deadline for this training has passed.", "es")
    assert await status_of(harness, training.id or 0, lucia.id) is None


async def test_reminders_to_confirmed_only_urgent_promotion_and_completion(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    kofi = await registered("Kofi", "en")
    lucia = await registered("Lucía", "es")
    first = utcnow() + timedelta(hours=20)
    training = await publish_training(
        harness,
        questions=[],
        sessions=[
            SessionInput(first, 60, "Salle 2", None),
            SessionInput(first + timedelta(days=1), 60, "Salle 2", None),
        ],
    )
    tid = training.id or 0
    await signed_up(harness, tid, kofi, lucia)
    async with create_session_factory(harness.app.engine)() as session:
        first_session = (await service.sessions_of(session, tid))[0]
        # The reminder job finds the first session's day-before reminder due.
        await session.exec(  # type: ignore[call-overload]
            update(Reminder)
            .where(col(Reminder.event_id) == first_session.id, Reminder.offset_minutes == 60)
            .values(due_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    reminder = await harness.reply(kofi, timeout=20)
    assert (
        reminder["text"].startswith("⏰ Reminder:") and "Grant writing for associations" in reminder["text"]
    )
    assert buttons(reminder) == ["📅 Add to calendar"]  # no event RSVP buttons on a session
    lines = reminder["text"].splitlines()
    assert lines[2] == "🎓 Grant writing for associations: session 1 of 2"
    assert lines[3].startswith("🕒 ") and lines[4] == "📍 Salle 2"
    assert "Going:" not in reminder["text"]  # a session's card has no event counts
    async with create_session_factory(harness.app.engine)() as session:
        reminded = (
            await session.exec(select(OutboxMessage.chat_id).where(OutboxMessage.kind == "reminder"))
        ).all()
    assert reminded == [kofi.id]  # the waitlisted member gets none

    # Kofi leaves 20 hours before the first session: Lucía is promoted and told it is soon.
    await harness.send(kofi, "/mytrainings")
    mine = await harness.reply(kofi)
    await harness.press(kofi, mine, "Cancel my sign-up")
    promoted = await harness.reply(lucia, timeout=15)
    urgent = harness.t("⏰ The next session starts in less than 24 hours: {when}.", "es", when="").split("{")[
        0
    ]
    assert urgent.rstrip(": .") in promoted["text"]

    # Attendance marked by the coordinators: Lucía's /mytrainings shows her completion, in Spanish.
    async with create_session_factory(harness.app.engine)() as session:
        stored = await service.get_training(session, tid)
        await service.mark_attendance(
            session, stored, first_session.id or 0, await member_id(harness, lucia.id), True
        )
        await session.commit()
    await harness.send(lucia, "/mytrainings")
    mine = await harness.reply(lucia)
    assert (
        harness.t("📊 Completed: {attended} of {total} sessions", "es", attended=1, total=2) in mine["text"]
    )


async def drained(harness: Harness) -> None:
    """Wait until every outbox row has its outcome recorded."""
    for _ in range(100):
        async with create_session_factory(harness.app.engine)() as session:
            waiting = (
                await session.exec(
                    select(OutboxMessage.id).where(
                        col(OutboxMessage.status).in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING))
                    )
                )
            ).all()
        if not waiting:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the outbox did not drain")


async def test_a_restart_between_a_promotion_and_its_message_loses_nothing(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    kofi = await registered("Kofi", "en")
    lucia = await registered("Lucía", "es")
    training = await publish_training(harness, questions=[])
    tid = training.id or 0
    await signed_up(harness, tid, kofi, lucia)

    # The process stops sending (as if it died) once the earlier messages are recorded as sent;
    # Kofi's cancellation commits the promotion and its message, which the dying sender had claimed
    # but never sent.
    await drained(harness)
    await harness.app.stop_background()
    await harness.send(kofi, "/mytrainings")
    mine = await harness.reply(kofi)
    await harness.press(kofi, mine, "Cancel my sign-up")
    async with create_session_factory(harness.app.engine)() as session:
        notice = (await session.exec(select(TrainingNotice).where(TrainingNotice.kind == "promoted"))).one()
        await session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(col(OutboxMessage.ref_id) == notice.id, OutboxMessage.kind == service.NOTICE_KIND)
            .values(
                status=DeliveryStatus.SENDING, claimed_by="dead:1", claimed_at=utcnow() - timedelta(hours=1)
            )
        )
        await session.commit()
    assert await status_of(harness, tid, lucia.id) == SignupStatus.CONFIRMED

    await restart_bot(harness)  # a new App on the same database
    promoted = await harness.reply(lucia, timeout=20)
    assert "Redacción de subvenciones" in promoted["text"] and promoted["text"].startswith("🎉")
    for _ in range(50):  # outcomes are recorded in small batches
        async with create_session_factory(harness.app.engine)() as session:
            rows = (
                await session.exec(
                    select(OutboxMessage.status).where(
                        col(OutboxMessage.ref_id) == notice.id, OutboxMessage.kind == service.NOTICE_KIND
                    )
                )
            ).all()
        if rows != [DeliveryStatus.SENDING]:
            break
        await asyncio.sleep(0.1)
    assert rows == [DeliveryStatus.SENT]
    sent = [m for m in harness.emulator.transcript(lucia.id) if m["outgoing"] and m["text"].startswith("🎉")]
    assert len(sent) == 1  # exactly once


async def test_mydata_lists_sign_ups_and_forget_gives_the_seat_to_the_next(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    import json

    kofi = await registered("Kofi", "en")
    lucia = await registered("Lucía", "es")
    training = await publish_training(harness, questions=QUESTIONS[:1])
    tid = training.id or 0
    await harness.reply(kofi)
    await harness.reply(lucia)
    async with create_session_factory(harness.app.engine)() as session:
        await service.sign_up(session, tid, await member_id(harness, kofi.id), ["Lyon Sénégal"], utcnow())
        await service.sign_up(session, tid, await member_id(harness, lucia.id), ["Andina"], utcnow())
        await session.commit()

    document = await harness.send(kofi, "/mydata")
    data = json.loads(harness.emulator.file_bytes(document["document"]["file_id"]))
    assert [(row["training"], row["status"], row["answers"]) for row in data["training_signups"]] == [
        ("Grant writing for associations", "confirmed", {"Which organization are you with?": "Lyon Sénégal"})
    ]
    question = await harness.send(kofi, "/forget")
    await harness.press(kofi, question, "🗑 Yes, erase my data")
    promoted = await harness.reply(lucia, timeout=15)
    assert promoted["text"].startswith("🎉") and "Redacción de subvenciones" in promoted["text"]
    async with create_session_factory(harness.app.engine)() as session:
        roster = await service.roster(session, tid)
    assert [entry.member.display_name for entry in roster.confirmed] == ["Lucía"]
    assert [(entry.status, entry.answers) for entry in roster.cancelled] == [(SignupStatus.CANCELLED, [])]


async def test_cards_of_a_long_training_stay_within_telegram_limits(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    kofi = await registered("Kofi", "en")
    first = utcnow() + timedelta(days=3)
    training = await publish_training(
        harness,
        title="T" * 200,
        trainer="Awa " + "D" * 196,
        description="Long & <detailed> programme. " * 103,  # 2987 characters
        questions=[],
        capacity=5,
        translations={},
        sessions=[
            SessionInput(first + timedelta(days=number), 60, f"{number} " + "P" * 297, None)
            for number in range(12)
        ],
    )
    published = await harness.reply(kofi)
    await harness.send(kofi, "/trainings")
    listed = await harness.reply(kofi)
    confirmed = await harness.choose(kofi, listed, "✍️ Sign up")
    await harness.send(kofi, "/mytrainings")
    mine = await harness.reply(kofi)
    for message in (published, listed, confirmed, mine):
        assert len(message["text"].encode("utf-16-le")) // 2 <= 4096
        assert "Long & <detailed> programme." in message["text"]
        assert "… and 2 more" in message["text"]
    assert confirmed["text"].startswith("✅ You're signed up for " + "T" * 200)
    assert "Completed: 0 of 12 sessions" in mine["text"]
    assert await status_of(harness, training.id or 0, kofi.id) == SignupStatus.CONFIRMED
    assert harness.emulator.errors == []

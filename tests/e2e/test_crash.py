"""A crash test for every capability: the real bot process (long polling) against the emulator,
killed with SIGKILL at a seeded random moment of the capability's main path and restarted at once,
then killed again and restarted after the claim lease. Then: nothing lost, nothing doubled beyond
the messages in flight at a kill, seats exact, every answer kept, every reminder once, every
callback query answered once, no apology and no traceback.

`CRASH_SEED` replays a failure (every assertion message prints it); `CRASH_ROUNDS` runs each
scenario that many times with other kill points (1 by default: the short mode of `make test`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from bot.sandbox import BotAPIEmulator, SimUser
from bot.services import events as event_service
from bot.services import surveys as survey_service
from bot.services import trainings as training_service
from bot.services.events.seats import answer_of
from bot.views.events import EventAction
from bot.views.trainings import TrainingAction
from storage.models import (
    Member,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpStatus,
    SignupStatus,
    SurveyAnswer,
    SurveyResponse,
    TrainingSignup,
)
from storage.types import utcnow
from tests.e2e.crash_kit import (
    ROUNDS,
    CrashBot,
    ids_of,
    in_two_days,
    labels,
    last_notice,
    last_with_buttons,
    member_ids,
    members,
    outbox_done,
    person,
    sent_to,
    settle,
)
from tests.e2e.helpers import (
    bot_organization,
    copies_sent,
    meeting_reminded_in,
    urgent_announcement,
)
from tests.helpers import grant_writing

# `make test` runs these beside the parallel run, with the other `serial` tests: they wait on conditions.
pytestmark = [pytest.mark.crash, pytest.mark.serial, pytest.mark.parametrize("round_", range(ROUNDS))]


def running(emulator: BotAPIEmulator, tmp_path: Path, database_url: str, name: str, round_: int) -> CrashBot:
    return CrashBot(emulator, tmp_path, database_url, name, round_)


# -- the outbox: a broadcast, reminders due, seat offers expiring --------------------------------
# One bot process (killed twice) for the three: their messages are told apart by their text.


async def test_broadcast_reminders_and_seat_offers(
    emulator: BotAPIEmulator, tmp_path: Path, database_url: str, db: Any, round_: int
) -> None:
    """An urgent broadcast to everyone; reminders due at once for those going to a meeting; five
    seats of a dinner held by offers whose claim windows end one after another from the bot's start
    (around the kills), seven waiting. Everyone gets the broadcast and every reminder arrives
    (doubles only in flight), every reminder is marked sent; every freed seat is offered to exactly
    one next person in tap order, nobody skipped, nobody offered twice, each told once; the last two
    still wait."""
    reminded_users = await members(db, emulator, 15, "R")
    offer_users = await members(db, emulator, 12, "O")
    everyone = [*reminded_users, *offer_users, *await members(db, emulator, 8, "N")]
    ids = await ids_of(db, everyone)
    async with db() as session:
        organization = await bot_organization(session)
        await urgent_announcement(session, organization, everyone[-1], "Crash news")
        meeting = await meeting_reminded_in(session, organization, seconds=2)  # due at once
        for user in reminded_users:
            await event_service.rsvp(session, meeting.id or 0, ids[user.id], "going", utcnow())
        dinner = await in_two_days(session, "Dinner", capacity=5, announce=False, claim_window_hours=1)
        for user in offer_users:  # in tap order: five seats, seven waiting
            await event_service.rsvp(session, dinner.id or 0, ids[user.id], "going", utcnow())
        await session.commit()

    def news() -> Counter[int]:
        return copies_sent(emulator, "Crash news")

    def reminded() -> Counter[int]:
        return sent_to(emulator, lambda text: text.startswith("⏰"))

    def told() -> Counter[int]:  # the offer notices: to the dinner's people, neither news nor reminder
        chats = {user.id for user in offer_users}
        sent = sent_to(emulator, lambda text: text != "Crash news" and not text.startswith("⏰"))
        return Counter({chat: count for chat, count in sent.items() if chat in chats})

    first, then, last = offer_users[:5], offer_users[5:10], offer_users[10:]
    bot = running(emulator, tmp_path, database_url, "outbox", round_)
    try:
        await bot.start()
        async with db() as session:  # the five seats become offers ending every half second
            seats = await session.exec(
                select(Rsvp).where(
                    Rsvp.event_id == dinner.id, col(Rsvp.member_id).in_(ids[u.id] for u in first)
                )
            )
            for answer in seats.all():
                order = next(index for index, user in enumerate(first) if ids[user.id] == answer.member_id)
                answer.status = RsvpStatus.OFFERED
                answer.offered_until = utcnow() + timedelta(seconds=0.5 * order)
                session.add(answer)
            await session.commit()
        seen = lambda: sum(news().values()) + sum(reminded().values()) + sum(told().values())  # noqa: E731
        everything = lambda: (len(news()), len(reminded()), len(told())) == (35, 15, 10)  # noqa: E731
        await bot.crash_twice(seen, 2, 40, everything)
        # Every reminder handed to the outbox first (the clock's job may not have run yet in a
        # process that lived a second: then the outbox alone looks done), and all of it sent.
        await settle(emulator, lambda: outbox_done(db, meeting.id or 0), "every message", bot.tag)
        async with db() as session:
            reminders = (
                await session.exec(select(Reminder.status).where(Reminder.event_id == meeting.id))
            ).all()
            rows = (
                await session.exec(select(Rsvp.member_id, Rsvp.status).where(Rsvp.event_id == dinner.id))
            ).all()
    finally:
        await bot.stop()
    bot.check_delivered(news(), everyone)
    bot.check_delivered(reminded(), reminded_users)
    assert set(reminders) == {ReminderStatus.SENT}, bot.say(f"reminders left {reminders}")
    status = dict(rows)
    in_line = [status.get(ids[user.id]) for user in offer_users]
    expected = [RsvpStatus.NOT_GOING] * 5 + [RsvpStatus.OFFERED] * 5 + [RsvpStatus.WAITLISTED] * 2
    assert len(rows) == len(offer_users) and in_line == expected, bot.say(f"answers in tap order: {in_line}")
    counts = told()
    bot.check_delivered(counts, first + then)
    assert not [user.first_name for user in last if counts[user.id]], bot.say("those still waiting were told")
    expired_text, offered_text = ({last_notice(emulator, user) for user in group} for group in (first, then))
    assert expired_text.isdisjoint(offered_text), bot.say("the expired and the offered were told the same")
    bot.check_common(everyone)


# -- bursts of taps: RSVPs, training sign-ups ------------------------------------------------------


async def _burst(
    bot: CrashBot, users: list[SimUser], data: str, settled: Any, capacity: int
) -> tuple[Counter[str], dict[int, list[str]]]:
    """Everyone taps `data` at once on the card the bot sent them; the bot is crashed twice during
    the burst; whoever got no answer taps again (their tap was lost with the process) until
    `settled(user)` says their tap counts. Returns the answers' texts and each person's queries."""
    emulator = bot.emulator
    await emulator.wait_for(lambda emu: all(emu.transcript(user.id) for user in users), timeout=120)
    queries: dict[int, list[str]] = {user.id: [] for user in users}
    starts = bot.starts

    async def tap(user: SimUser) -> None:
        card = emulator.transcript(user.id)[-1]
        queries[user.id].append(await emulator.press_button(user, card, callback_data=data, forge=True))

    for user in users:
        await tap(user)
    answered = lambda: bot.calls("answerCallbackQuery")  # noqa: E731
    await bot.crash_twice(answered, 1, len(users) - 1, lambda: not emulator.pending_updates)
    for _ in range(10):
        missing = [user for user in users if not await settled(user)]
        if not missing:
            break
        last = [queries[user.id][-1] for user in missing]
        # An answer may still be on its way; otherwise the tap was lost and they tap again.
        await bot.answer_or_silence(
            lambda emu, last=last: all(emu.callback_answers.get(q) for q in last), starts
        )
        starts = bot.starts
        for user in missing:
            if not await settled(user):
                await tap(user)
    # (A tap handled just before a kill may never be answered: its redelivery is skipped.)
    texts = Counter(
        (emulator.callback_answers[q] or {}).get("text") or "" for user in users for q in queries[user.id]
    )
    return texts, queries


async def test_rsvp_burst(
    emulator: BotAPIEmulator, tmp_path: Path, database_url: str, db: Any, round_: int
) -> None:
    users = await members(db, emulator, 16)
    ids = await ids_of(db, users)
    async with db() as session:
        gala = await in_two_days(session, "Gala", capacity=6, announce=True)  # the card goes to everyone
        await session.commit()

    async def settled(user: SimUser) -> bool:
        async with db() as session:
            answer = await answer_of(session, gala.id or 0, ids[user.id])
            return answer is not None

    bot = running(emulator, tmp_path, database_url, "rsvp", round_)
    try:
        await bot.start()
        texts, queries = await _burst(
            bot, users, EventAction(action="going", id=gala.id or 0).pack(), settled, 6
        )
        async with db() as session:
            rows = (
                await session.exec(select(Rsvp.member_id, Rsvp.status).where(Rsvp.event_id == gala.id))
            ).all()
    finally:
        await bot.stop()
    bot.check_seats(list(rows), 16, RsvpStatus.GOING, RsvpStatus.WAITLISTED, 6)
    going = {
        user.id
        for user in users
        if any(
            (emulator.callback_answers.get(q) or {}).get("text") == "✅ You're going. See you there!"
            for q in queries[user.id]
        )
    }
    assert len(going) <= 6, bot.say(f"{len(going)} told they are going for 6 seats ({texts})")
    bot.check_common(users)


async def test_training_signup_burst(
    emulator: BotAPIEmulator, tmp_path: Path, database_url: str, db: Any, round_: int
) -> None:
    users = await members(db, emulator, 16)
    ids = await ids_of(db, users)
    async with db() as session:
        organization = await bot_organization(session)
        values = grant_writing(utcnow() + timedelta(days=3)) | {
            "capacity": 6,
            "signup_deadline": None,
            "questions": [],
            "now": utcnow(),
        }
        training = await training_service.create_training(session, organization, None, **values)
        await training_service.publish_training(session, training, organization, utcnow())
        await session.commit()

    async def settled(user: SimUser) -> bool:
        async with db() as session:
            signup = await training_service.my_signup(session, training.id or 0, ids[user.id])
            return signup is not None

    bot = running(emulator, tmp_path, database_url, "training", round_)
    try:
        await bot.start()
        data = TrainingAction(action="signup", id=training.id or 0).pack()
        await _burst(bot, users, data, settled, 6)
        async with db() as session:
            rows = (
                await session.exec(
                    select(TrainingSignup.member_id, TrainingSignup.status).where(
                        TrainingSignup.training_id == training.id
                    )
                )
            ).all()
    finally:
        await bot.stop()
    bot.check_seats(list(rows), 16, SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, 6)
    bot.check_common(users)


# -- dialogs: survey answers, a registration step ------------------------------------------------


async def test_survey_answers(
    emulator: BotAPIEmulator, tmp_path: Path, database_url: str, db: Any, round_: int
) -> None:
    """Six people answer a two-question survey; its invitations may come twice (in flight at a
    kill), and a person whose tap got no answer (the bot was down) taps again, Start included: each
    Start sends the current question, so a question may be on screen twice. They always tap the
    latest message with buttons, as people do (tests/e2e/test_survey_copies.py: an older copy shows
    where they are). Every answer is kept, once."""
    users = await members(db, emulator, 6)
    ids = await member_ids(db, users)
    expected = {user.id: (index % 2 == 0, index % 3 == 0) for index, user in enumerate(users)}
    async with db() as session:
        organization = await bot_organization(session)
        now = utcnow()
        survey = await survey_service.create_survey(
            session, organization.id or 0, "Crash survey", now, closes_at=now + timedelta(days=2)
        )
        for text in ("Coming to the picnic?", "Bringing food?"):
            await survey_service.add_question(session, survey, "yes_no", text)
        await survey_service.open_survey(session, survey, organization, now)
        await session.commit()

    async def submitted() -> dict[int, dict[int, Any]]:
        async with db() as session:
            rows = await session.exec(
                select(SurveyResponse.member_id, SurveyAnswer.question_id, SurveyAnswer.value)
                .join(SurveyAnswer, col(SurveyAnswer.response_id) == col(SurveyResponse.id))
                .where(SurveyResponse.survey_id == survey.id, col(SurveyResponse.submitted_at).is_not(None))
                .order_by(col(SurveyAnswer.question_id))
            )
            kept: dict[int, dict[int, Any]] = {}
            for member_id, question_id, value in rows.all():
                kept.setdefault(ids[member_id or 0].id, {})[question_id] = value
            return kept

    async def answers(user: SimUser) -> None:
        async def act() -> bool:
            if user.id in await submitted():
                return False
            message = last_with_buttons(emulator, user)
            if message is None:
                await emulator.send_text(user, "/surveys")
                return True
            shown = labels(message)
            text = message.get("text") or ""
            if "✅ Submit" in shown:
                choice = "✅ Submit"
            elif "▶️ Start" in shown:
                choice = "▶️ Start"
            elif "Yes" in shown[0] or "No" in shown[1]:
                first, second = expected[user.id]
                wanted = first if "picnic" in text else second
                choice = next(label for label in shown if label.endswith("Yes" if wanted else "No"))
            else:
                choice = shown[0]
            await emulator.press_button(user, message, text=choice)
            return True

        await person(bot, user, act)

    bot = running(emulator, tmp_path, database_url, "survey", round_)
    try:
        await bot.start()
        await emulator.wait_for(lambda emu: all(last_with_buttons(emu, user) for user in users), timeout=120)
        people = asyncio.gather(*(answers(user) for user in users))
        await bot.crash_twice(lambda: bot.calls("answerCallbackQuery"), 2, 20, lambda: people.done())
        await people
        kept = await submitted()
    finally:
        await bot.stop()
    for user in users:
        values = list(kept.get(user.id, {}).values())
        assert values == list(expected[user.id]), bot.say(
            f"{user.first_name} answered {expected[user.id]}, kept {values}"
        )
    bot.check_common(users)


async def test_registration_step(
    emulator: BotAPIEmulator, tmp_path: Path, database_url: str, db: Any, round_: int
) -> None:
    async with db() as session:
        await bot_organization(session)
        await session.commit()
    users = [emulator.create_user(f"Newcomer{i}", language_code="en") for i in range(3)]

    async def registered(user: SimUser) -> bool:
        async with db() as session:
            member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).first()
            return member is not None and member.profile_completed_at is not None

    async def registers(user: SimUser) -> None:
        async def act() -> bool:
            if await registered(user):
                return False
            transcript = emulator.transcript(user.id)
            last = transcript[-1] if transcript and transcript[-1]["outgoing"] else {}
            text = last.get("text") or ""
            shown = labels(last) if (last.get("reply_markup") or {}).get("inline_keyboard") else []
            english = next((label for label in shown if label.removeprefix("📱 ") == "English"), None)
            if english is not None:  # the app's language comes first, marked 📱
                await emulator.press_button(user, last, text=english)
            elif "✅ I agree" in shown:
                await emulator.press_button(user, last, text="✅ I agree")
            elif "What name" in text:
                await emulator.send_text(user, f"{user.first_name} Diallo")
            elif "originally from" in text:
                await emulator.send_text(user, "Kenya")
            elif "live in now" in text:
                await emulator.send_text(user, "Canada")
            elif shown and ("city" in text or "time zone" in text or "interested" in text):
                await emulator.press_button(user, last, text="Skip" if "Skip" in shown else shown[0])
            else:  # nothing asked (the bot was killed, or it greeted): start again
                await emulator.send_text(user, "/start")
            return True

        await person(bot, user, act)

    bot = running(emulator, tmp_path, database_url, "registration", round_)
    try:
        await bot.start()
        people = asyncio.gather(*(registers(user) for user in users))

        def sent() -> int:
            return sum(bot.calls(m, chat_id=u.id) for u in users for m in ("sendMessage", "editMessageText"))

        await bot.crash_twice(sent, 2, 12, lambda: people.done())
        await people
        async with db() as session:
            names = (
                await session.exec(
                    select(Member.display_name).where(col(Member.telegram_id).in_([u.id for u in users]))
                )
            ).all()
    finally:
        await bot.stop()
    assert sorted(names) == sorted(f"{user.first_name} Diallo" for user in users), bot.say(f"names {names}")
    bot.check_common(users)

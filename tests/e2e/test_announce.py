"""Announcements from the organizer's composer to every member's chat, in their language."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.services.roles import Actor, grant_role
from handlers.announcements.callbacks import ACTIONS, AnnounceAction
from storage.db import create_session_factory
from storage.models import Announcement, AnnouncementStatus, Member, OutboxMessage, Role
from tests.e2e.conftest import Harness


async def make_organizer(harness: Harness, registered, language: str = "fr"):  # type: ignore[no-untyped-def]
    user = await registered("Fatou", language, username="fatou_org")
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        await grant_role(
            session, Actor(1, True), harness.app.dispatcher["organization"].id, member, Role.ORGANIZER
        )
        await session.commit()
    return user


async def composer(harness: Harness, organizer, text: str) -> dict:  # type: ignore[no-untyped-def]
    await harness.send(organizer, "/announce")
    await harness.emulator.send_text(organizer, text)
    return await harness.reply(organizer)


def last_text(harness: Harness, user) -> str:  # type: ignore[no-untyped-def]
    outgoing = [m for m in harness.emulator.transcript(user.id) if m["outgoing"]]
    return outgoing[-1].get("text") or outgoing[-1].get("caption") or ""


async def wait_delivered(
    harness: Harness, organizer, status_message: dict, language: str, ident: int = 1
) -> str:  # type: ignore[no-untyped-def]
    done = harness.t("✅ Announcement #{id} is delivered.", language, id=ident)

    def finished(_: object) -> bool:
        return harness.message(organizer, status_message["message_id"]).get("text", "").startswith(done)

    await harness.emulator.wait_for(finished, timeout=30)
    return harness.message(organizer, status_message["message_id"])["text"]


async def test_organizer_composes_translates_targets_and_sends(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered)
    amina = await registered("Amina", "ar")
    ivan = await registered("Ivan", "ru")
    lucia = await registered("Lucía", "es")

    card = await composer(harness, organizer, "Fête & <b>danse</b> samedi!")
    assert (
        harness.t("It reaches <b>{count}</b> member.", "fr", "It reaches <b>{count}</b> members.", 4, count=4)
        .replace("<b>", "")
        .replace("</b>", "")
        in card["text"]
    )

    languages = await harness.choose(organizer, card, harness.t("🌐 Add a translation", "fr"))
    await harness.choose(organizer, languages, "العربية")  # "send the text in Arabic"
    await harness.emulator.send_text(organizer, "حفلة ورقص يوم السبت!")
    await harness.reply(organizer)  # "translation saved"
    card = await harness.reply(organizer)
    assert "العربية" in card["text"]

    await harness.press(organizer, card, harness.t("⚡ Urgent: off", "fr"))  # deterministic: no quiet hours
    card = harness.message(organizer, card["message_id"])
    confirm = await harness.choose(organizer, card, harness.t("📤 Send now", "fr"))
    assert confirm["text"].startswith(
        harness.t("Send it to {count} member now?", "fr", "Send it to {count} members now?", 4, count=4)
    )
    status = await harness.choose(organizer, confirm, harness.t("✅ Yes, send it", "fr"))
    report = await wait_delivered(harness, organizer, status, "fr")
    assert harness.t("Received it: {count}", "fr", count=4) in report

    assert last_text(harness, amina) == "حفلة ورقص يوم السبت!"
    # No Russian or Spanish version and no English (the default) one: the original, exactly as written.
    assert last_text(harness, ivan) == "Fête & <b>danse</b> samedi!"
    assert last_text(harness, lucia) == "Fête & <b>danse</b> samedi!"
    assert last_text(harness, organizer) == "Fête & <b>danse</b> samedi!"  # the organizer is a member too
    assert harness.emulator.errors == []


async def test_audience_and_muting(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    culture_fan = await registered("Ana", "pt")
    other = await registered("Kofi", "en")
    async with create_session_factory(harness.app.engine)() as session:
        for member in (await session.exec(select(Member))).all():
            if member.telegram_id == culture_fan.id:
                member.interests = ["culture"]
            if member.telegram_id == other.id:
                member.interests, member.muted = ["culture", "events"], ["culture"]
            session.add(member)
        await session.commit()

    card = await composer(harness, organizer, "Concert tonight")
    topics = await harness.choose(organizer, card, "🏷 Topic")
    card = await harness.choose(organizer, topics, "🎭 Culture")
    assert "It reaches 2 members." in card["text"]  # Kofi muted culture: organizer and Ana remain
    audience = await harness.choose(organizer, card, "🎯 Audience")
    query = await harness.press(organizer, audience, "🎉 Events")
    assert harness.emulator.callback_answers[query]["text"] == "Reaches 0 members"
    await harness.press(organizer, harness.message(organizer, audience["message_id"]), "🎉 Events")
    await harness.press(organizer, harness.message(organizer, audience["message_id"]), "🎭 Culture")
    card = await harness.choose(organizer, harness.message(organizer, audience["message_id"]), "Done")
    assert "It reaches 1 member." in card["text"]


def _state(announcement: Announcement | None) -> dict:
    assert announcement is not None
    fields = (
        "text",
        "translations",
        "audience",
        "category",
        "urgent",
        "status",
        "local_time",
        "scheduled_at",
    )
    return {name: getattr(announcement, name) for name in fields}


async def test_members_and_forged_buttons_cannot_announce(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    intruder = await registered("Eve", "uk")
    await registered("Bob", "en")
    card = await composer(harness, organizer, "Real news")

    refusal = await harness.send(intruder, "/announce")
    assert refusal["text"] == harness.t("Sorry, only organizers can send announcements.", "uk")
    assert (await harness.send(intruder, "/announcements"))["text"] == refusal["text"]
    async with create_session_factory(harness.app.engine)() as session:
        before = _state(await session.get(Announcement, 1))
    # Every action of the family, the kit's own among them (Skip, ✏️ Edit, a field, a language...),
    # with the values a real button would carry.
    values = {"translate_to": "fr", "tr_skip": "text", "ef": "text", "topic_set": "culture"}
    values |= {"aud_interest": "culture", "aud_language": "fr", "aud_country": "SN"}
    assert {"translate", "translate_to", "tr_skip", "edit", "ef", "send_confirm", "discard"} <= set(ACTIONS)
    for action in ACTIONS:
        data = AnnounceAction(action=action, id=1, value=values.get(action, "")).pack()
        assert await harness.forge(intruder, refusal, data) == refusal["text"], action
    await asyncio.sleep(0.3)
    async with create_session_factory(harness.app.engine)() as session:
        announcement = await session.get(Announcement, 1)
        assert announcement is not None and announcement.status == AnnouncementStatus.DRAFT
        assert _state(announcement) == before  # nothing changed: text, audience, topic, urgency
        assert (await session.exec(select(OutboxMessage))).all() == []
    assert "It reaches 3 members." in card["text"]  # the draft the intruder tried to act on


async def test_schedule_list_and_cancel(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    await registered("Bob", "en")
    card = await composer(harness, organizer, "Assembly next year")
    await harness.choose(organizer, card, "🕒 Schedule")
    assert (await harness.send(organizer, "next tuesday-ish"))["text"].startswith(
        "I couldn't read that date."
    )
    assert (await harness.send(organizer, "2020-01-01 10:00"))["text"].startswith(
        "Wednesday, January 1, 2020, 10:00\u202fAM (UTC) has already passed."
    )
    confirm = await harness.send(organizer, "14.03.2099 18:30")
    assert confirm["text"] == "It will go out on Saturday, March 14, 2099, 6:30\u202fPM (UTC). Confirm?"
    await harness.press(organizer, confirm, "✅ Confirm")
    scheduled = await harness.edited(organizer, confirm)
    assert scheduled["text"].startswith("🕒 Announcement #1 is scheduled for Saturday, March 14, 2099")

    listing = await harness.send(organizer, "/announcements")
    assert listing["text"].startswith("🕒 #1, scheduled for") and "Assembly next year" in listing["text"]
    await harness.choose(organizer, listing, "✏️ Edit text")
    assert (await harness.send(organizer, "Assembly, new room"))[
        "text"
    ] == "✅ The text of announcement #1 is updated."
    await harness.press(organizer, listing, "✖ Cancel it")
    cancelled = await harness.edited(organizer, listing)
    assert cancelled["text"] == "✖ Announcement #1 is cancelled: 0 messages will not be sent."
    assert (await harness.send(organizer, "/announcements"))["text"].startswith("Nothing is scheduled")
    async with create_session_factory(harness.app.engine)() as session:
        announcement = await session.get(Announcement, 1)
        assert (
            announcement.status == AnnouncementStatus.CANCELLED and announcement.text == "Assembly, new room"
        )


async def test_blocked_member_is_marked_and_skipped_next_time(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    gone = await registered("Gone", "en")
    await registered("Here", "en")
    harness.emulator.faults.blocked_chats.add(gone.id)  # blocked without the bot being told

    for round_number in (1, 2):
        card = await composer(harness, organizer, f"News {round_number}")
        expected = 3 if round_number == 1 else 2
        assert f"It reaches {expected} members." in card["text"]
        await harness.press(organizer, card, "⚡ Urgent: off")
        confirm = await harness.choose(
            organizer, harness.message(organizer, card["message_id"]), "📤 Send now"
        )
        status = await harness.choose(organizer, confirm, "✅ Yes, send it")
        done = f"✅ Announcement #{round_number} is delivered."
        await harness.emulator.wait_for(
            lambda _, s=status, d=done: harness.message(organizer, s["message_id"])["text"].startswith(d),
            timeout=30,
        )
        report = harness.message(organizer, status["message_id"])["text"]
        assert ("Blocked the bot: 1" in report) == (round_number == 1)
        assert (await harness.reply(organizer))[
            "text"
        ] == f"News {round_number}"  # organizers are members too


async def test_help_lists_the_commands_of_each_role(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    organizer = await make_organizer(harness, registered, "en")
    member = await registered("Bob", "en")
    organizer_help = (await harness.send(organizer, "/help"))["text"]
    assert "/announce" in organizer_help and "/newevent" in organizer_help and "/admin" not in organizer_help
    member_help = (await harness.send(member, "/help"))["text"]
    assert "/events" in member_help and "/announce" not in member_help


INVISIBLE = "\u200b\u2060\u200b"  # zero-width space, word joiner, zero-width space


async def test_text_of_invisible_characters_is_refused_at_every_step(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    """Issue 11, defect 5b: the kit's one validation of typed texts, in the text, translation and
    edit-text steps (the translation step used to save an invisible version)."""
    organizer = await make_organizer(harness, registered, "en")
    empty = "That looks empty. Please type your answer."
    await harness.send(organizer, "/announce")
    assert (await harness.send(organizer, INVISIBLE))["text"] == empty
    card = await harness.send(organizer, "Real news")
    languages = await harness.choose(organizer, card, "🌐 Add a translation")
    await harness.choose(organizer, languages, "Français")  # "Send the text in French"
    assert (await harness.send(organizer, INVISIBLE))["text"] == empty
    assert (await harness.send(organizer, "Vraies nouvelles"))["text"] == "✅ Translation saved: Français."
    card = await harness.reply(organizer)

    await harness.choose(organizer, card, "🕒 Schedule")
    confirm = await harness.send(organizer, "14.03.2099 18:30")
    await harness.press(organizer, confirm, "✅ Confirm")
    listing = await harness.send(organizer, "/announcements")
    await harness.choose(organizer, listing, "✏️ Edit text")
    assert (await harness.send(organizer, INVISIBLE))["text"] == empty
    async with create_session_factory(harness.app.engine)() as session:
        announcement = await session.get(Announcement, 1)
        assert announcement is not None
        assert announcement.text == "Real news" and announcement.translations == {"fr": "Vraies nouvelles"}


async def test_a_text_telegram_cut_in_two_is_not_kept_half(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    """Issue 11, defect 5c: a 5,000-character text reaches the bot as 4,096 + 904 characters (the
    Telegram app cuts it). The organizer is told, nothing cut is kept, and the shorter text they
    send next is the announcement; a delivered message never exceeds Telegram's limit."""
    organizer = await make_organizer(harness, registered, "en")
    await registered("Bob", "en")
    text = ("Assemblée générale samedi. " * 200)[:5000]
    await harness.send(organizer, "/announce")
    await harness.emulator.send_text(organizer, text[:4096])
    card = await harness.reply(organizer)
    await harness.emulator.send_text(organizer, text[4096:])
    told = await harness.reply(organizer)
    assert told["text"] == harness.t(
        "✂️ Telegram cut your text into several messages: it is longer than one message can be "
        "({limit} characters). Nothing of it was kept. Please send a shorter text, in one message.",
        "en",
        limit=4096,
    )
    query = await harness.press(organizer, card, "📤 Send now")  # the card of the cut draft is gone
    assert harness.emulator.callback_answers[query]["text"] == "This button is no longer active."
    harness.emulator.advance_clock(60)  # the organizer shortens the text: no longer a continuation
    card = await harness.send(organizer, text[:3000])
    assert card["text"].startswith("📣 Announcement #")
    await harness.press(organizer, card, "⚡ Urgent: off")
    confirm = await harness.choose(organizer, harness.message(organizer, card["message_id"]), "📤 Send now")
    status = await harness.choose(organizer, confirm, "✅ Yes, send it")
    async with create_session_factory(harness.app.engine)() as session:
        rows = (await session.exec(select(Announcement))).all()
    await wait_delivered(harness, organizer, status, "en", rows[0].id)  # PostgreSQL: #2, SQLite: #1 again
    assert harness.emulator.errors == []
    async with create_session_factory(harness.app.engine)() as session:
        rows = (await session.exec(select(Announcement))).all()
        assert [row.text for row in rows] == [text[:3000]]


async def test_translation_of_a_photo_is_held_to_the_caption_limit(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    """A translation goes out as the photo's caption: Telegram's 1,024, not a message's 4,096."""
    organizer = await make_organizer(harness, registered, "en")
    await harness.send(organizer, "/announce")
    await harness.emulator.send_photo(organizer, caption="Our new hall")
    card = await harness.reply(organizer)
    languages = await harness.choose(organizer, card, "🌐 Add a translation")
    await harness.choose(organizer, languages, "Français")
    refused = await harness.send(organizer, "é" * 1025)
    assert refused["text"] == "A caption can have at most 1024 characters."
    async with create_session_factory(harness.app.engine)() as session:
        announcement = await session.get(Announcement, 1)
        assert announcement is not None and announcement.translations == {}


async def test_a_second_send_tap_is_refused_and_sends_nothing_twice(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    """The kit's publish claims the draft once: a second tap on "Yes, send it" (however fast) is
    answered "no longer active" and queues nothing more."""
    organizer = await make_organizer(harness, registered, "en")
    await registered("Bob", "en")
    card = await composer(harness, organizer, "Once only")
    await harness.press(organizer, card, "⚡ Urgent: off")
    confirm = await harness.choose(organizer, harness.message(organizer, card["message_id"]), "📤 Send now")
    first = await harness.emulator.press_button(organizer, confirm, text="✅ Yes, send it")
    second = await harness.emulator.press_button(organizer, confirm, text="✅ Yes, send it")
    await harness.emulator.wait_for(
        lambda emu: all(emu.callback_answers.get(q) is not None for q in (first, second)), timeout=10
    )
    answers = [harness.emulator.callback_answers[q].get("text") for q in (first, second)]
    assert "This button is no longer active." in answers
    status = await harness.reply(organizer)
    await wait_delivered(harness, organizer, status, "en")
    async with create_session_factory(harness.app.engine)() as session:
        assert len((await session.exec(select(OutboxMessage))).all()) == 2
    assert harness.emulator.errors == []


async def test_once_sent_the_confirmation_keeps_no_buttons_and_its_old_ones_change_nothing(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    """ "✅ Yes, send it" closes its question (the choice written under it, the buttons gone: the
    composer kit's `after_publish`); the old buttons, pressed again from a stale copy, are answered
    "no longer active" and change nothing: no new message, no edit, nothing queued."""
    organizer = await make_organizer(harness, registered, "en")
    await registered("Bob", "en")
    card = await composer(harness, organizer, "Closed question")
    await harness.press(organizer, card, "⚡ Urgent: off")
    confirm = await harness.choose(organizer, harness.message(organizer, card["message_id"]), "📤 Send now")
    status = await harness.choose(organizer, confirm, "✅ Yes, send it")
    await wait_delivered(harness, organizer, status, "en")
    closed = harness.message(organizer, confirm["message_id"])
    assert closed["text"] == confirm["text"] + "\n\n✅ Yes, send it ✓"
    assert not closed.get("reply_markup")

    chat = harness.emulator.transcript(organizer.id)
    stale = "This button is no longer active."
    for old in confirm["reply_markup"]["inline_keyboard"]:  # "✅ Yes, send it", "← Back"
        assert await harness.forge(organizer, confirm, old[0]["callback_data"]) == stale
    assert harness.emulator.transcript(organizer.id) == chat
    async with create_session_factory(harness.app.engine)() as session:
        assert len((await session.exec(select(OutboxMessage))).all()) == 2  # Bob's copy, the status
    assert harness.emulator.errors == []

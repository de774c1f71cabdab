"""Repeated taps on one-shot buttons, through the real path (Bot API emulator): Telegram answers
"message is not modified" or "there is no text in the message to edit", and the member still gets
an answer, never the apology, and the log no traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.sandbox import SimUser
from tests.e2e.conftest import Harness


def callback_data(message: dict[str, Any], label: str) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise LookupError(label)


async def tap_twice(
    harness: Harness, user: SimUser, message: dict[str, Any], data: str, edited_to: str
) -> None:
    """Replay a button with this data on `message` twice (as a client replaying an old button does):
    the first tap edits the message to `edited_to`, the second would edit it to the same text."""
    await harness.forge(user, message, data)
    await harness.emulator.wait_for(
        lambda _: harness.message(user, message["message_id"])["text"] == edited_to
    )
    await harness.forge(user, message, data)


async def test_double_taps_on_the_first_greeting_after_registering_through_the_second(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = harness.emulator.create_user("Lina", language_code="en")
    first = await harness.send(user, "/start")
    second = await harness.send(user, "/start")
    english = callback_data(first, "📱 English")  # the app's language, first and marked

    await harness.press(user, second, "📱 English")
    notice = await harness.edited(user, second)
    consent = callback_data(notice, harness.t("✅ I agree", "en"))
    await harness.choose(user, notice, harness.t("✅ I agree", "en"))  # "let's set up your profile"
    await harness.reply(user)  # the name question

    # The language twice on the first greeting: the second tap edits to the same text.
    registered = harness.t("You are already registered. Use /language to change the language.", "en")
    await tap_twice(harness, user, first, english, edited_to=registered)
    # The consent twice on the same message.
    profile = harness.t("You are already registered. Send /profile to see your profile.", "en")
    await tap_twice(harness, user, first, consent, edited_to=profile)
    await harness.send(user, "/help")  # every update before it has been handled

    not_modified = [e for e in harness.emulator.errors if "message is not modified" in (e.description or "")]
    assert len(not_modified) == 2, "the replays should have met Telegram's 'not modified'"
    assert not harness.apologized(user)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_replayed_language_or_consent_button_on_the_mydata_document(
    harness: Harness, registered, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    user = await registered("Omar", "en")
    document = await harness.send(user, "/mydata")
    assert "document" in document and "text" not in document

    await harness.forge(user, document, "lang:fr:1")
    answer = await harness.reply(user)
    assert answer["text"] == harness.t(
        "You are already registered. Use /language to change the language.", "en"
    )
    await harness.forge(user, document, "consent:1")
    answer = await harness.reply(user)
    assert answer["text"] == harness.t("You are already registered. Send /profile to see your profile.", "en")

    no_text = [e for e in harness.emulator.errors if "no text in the message" in (e.description or "")]
    assert len(no_text) == 2, "the replays should have met Telegram's 'no text to edit'"
    assert not harness.apologized(user)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert harness.message(user, document["message_id"])["document"] == document["document"]


async def test_a_tap_on_an_older_copy_of_a_card_that_already_shows_its_outcome_is_not_edited(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """Given two copies of an event's card, Going on the first and Maybe on the second: when Going
    is tapped on the first again, the answer changes back and the first copy already shows the
    card that gives (the same counts and answer): the member is answered, and the card is not
    edited (no edit Telegram would refuse as not modified)."""
    from tests.e2e.test_events import answer_of, publish_event

    user = await registered("Lina", "en")
    event = await publish_event(harness)
    await harness.reply(user)  # the "published" notice
    listing = await harness.send(user, "/events")
    first = await harness.choose(user, listing, "1. General assembly")
    second = await harness.choose(user, listing, "1. General assembly")

    await harness.press(user, first, "✅ Going")
    first = await harness.edited(user, first)
    await harness.press(user, second, "🤔 Maybe")
    await harness.edited(user, second)
    query = await harness.press(user, first, "✅ Going")

    assert harness.emulator.callback_answers[query]["text"] == "✅ You're going. See you there!"
    assert await answer_of(harness, event.id or 0, user.id) == "going"
    edits = [
        call
        for call in harness.emulator.calls
        if call.method == "editMessageText" and call.params.get("message_id") == first["message_id"]
    ]
    assert len(edits) == 1, "the first copy shows the outcome already: only the first tap edits it"
    assert harness.message(user, first["message_id"])["text"] == first["text"]
    assert harness.emulator.errors == []

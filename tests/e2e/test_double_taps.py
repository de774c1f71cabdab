"""Repeated taps on one-shot buttons, through the real path (Bot API emulator): Telegram answers
"message is not modified" or "there is no text in the message to edit", and the member still gets
an answer, never the apology, and the log no traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.sandbox import SimUser
from tests.e2e.conftest import Harness

APOLOGY = "😕 Sorry, something went wrong on my side. Please try again in a moment."


def callback_data(message: dict[str, Any], label: str) -> str:
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            if button["text"] == label:
                return str(button["callback_data"])
    raise LookupError(label)


async def tap(harness: Harness, user: SimUser, message: dict[str, Any], data: str) -> dict[str, Any] | None:
    """Press a button with this data on `message` (as a client replaying an old button does)."""
    query = await harness.emulator.press_button(user, message, callback_data=data, forge=True)
    await harness.emulator.wait_for(lambda emu: emu.callback_answers.get(query) is not None, timeout=10)
    return harness.emulator.callback_answers[query]


def no_apology(harness: Harness, user: SimUser) -> None:
    texts = [m.get("text") for m in harness.emulator.transcript(user.id) if m["outgoing"]]
    assert harness.t(APOLOGY, "en") not in texts


async def test_double_taps_on_the_first_greeting_after_registering_through_the_second(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = harness.emulator.create_user("Lina", language_code="en")
    first = await harness.send(user, "/start")
    second = await harness.send(user, "/start")
    english = callback_data(first, "English")

    await harness.press(user, second, "English")
    notice = await harness.edited(user, second)
    consent = callback_data(notice, harness.t("✅ I agree", "en"))
    await harness.press(user, notice, harness.t("✅ I agree", "en"))
    await harness.reply(user)  # "let's set up your profile"
    await harness.reply(user)  # the name question

    # The language twice on the first greeting: the second tap edits to the same text.
    await tap(harness, user, first, english)
    await harness.emulator.wait_for(
        lambda _: (
            harness.message(user, first["message_id"])["text"]
            == harness.t("You are already registered. Use /language to change the language.", "en")
        )
    )
    await tap(harness, user, first, english)
    # The consent twice on the same message.
    await tap(harness, user, first, consent)
    await harness.emulator.wait_for(
        lambda _: (
            harness.message(user, first["message_id"])["text"]
            == harness.t("You are already registered. Send /profile to see your profile.", "en")
        )
    )
    await tap(harness, user, first, consent)
    await harness.send(user, "/help")  # every update before it has been handled

    not_modified = [e for e in harness.emulator.errors if "message is not modified" in (e.description or "")]
    assert len(not_modified) == 2, "the replays should have met Telegram's 'not modified'"
    no_apology(harness, user)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_replayed_language_or_consent_button_on_the_mydata_document(
    harness: Harness, registered, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    user = await registered("Omar", "en")
    document = await harness.send(user, "/mydata")
    assert "document" in document and "text" not in document

    await tap(harness, user, document, "lang:fr:1")
    answer = await harness.reply(user)
    assert answer["text"] == harness.t(
        "You are already registered. Use /language to change the language.", "en"
    )
    await tap(harness, user, document, "consent:1")
    answer = await harness.reply(user)
    assert answer["text"] == harness.t("You are already registered. Send /profile to see your profile.", "en")

    no_text = [e for e in harness.emulator.errors if "no text in the message" in (e.description or "")]
    assert len(no_text) == 2, "the replays should have met Telegram's 'no text to edit'"
    no_apology(harness, user)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert harness.message(user, document["message_id"])["document"] == document["document"]

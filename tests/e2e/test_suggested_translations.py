"""Issue 16: "💡 Suggest translations" with a translation server set (`TRANSLATE_URL`), against the
stand-in LibreTranslate server (`tests/translate_server.py`, which answers "[de] original"): every
missing language filled as a suggestion the organizer reviews, members getting them in their
language, a typed translation never overwritten, a clear message when the server is down (nothing
lost), and no button at all when the feature is off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from bot.i18n import language_name, languages_first
from handlers.announcements.callbacks import AnnounceAction
from storage.db import create_session_factory
from storage.models import Announcement, Survey
from tests.e2e.conftest import Harness, buttons, start_harness
from tests.e2e.test_announce import composer, make_organizer, wait_delivered
from tests.e2e.test_survey_admin import closing_day, make_coordinator
from tests.e2e.test_training_admin import make_coordinator as make_trainer
from tests.e2e.test_training_admin import trainer_to_questions
from tests.translate_server import StandIn

KEY = "sesame"


@pytest.fixture
async def server() -> AsyncIterator[StandIn]:
    stand_in = StandIn(api_key=KEY)
    await stand_in.start()
    yield stand_in
    await stand_in.stop()


@pytest.fixture
async def harness(
    migrated_url: str, server: StandIn, request: pytest.FixtureRequest
) -> AsyncIterator[Harness]:
    """The bot with the stand-in as its translation server (parametrize with False: none)."""
    settings = (
        {"translate_url": server.url, "translate_api_key": KEY} if getattr(request, "param", True) else {}
    )
    async for running in start_harness(migrated_url, **settings):
        yield running


def names(codes: list[str]) -> str:
    return ", ".join(language_name(code) for code in codes)


async def translations_of(harness: Harness, ident: int) -> dict[str, str]:
    async with create_session_factory(harness.app.engine)() as session:
        announcement = await session.get(Announcement, ident)
        assert announcement is not None
        return dict(announcement.translations)


async def test_an_announcement_suggested_reviewed_and_received_in_each_language(
    harness: Harness, server: StandIn, registered: Any
) -> None:
    """A French organizer types the Arabic version, then asks for suggestions: every other language
    the server offers is filled ("[de] …"), Swahili (not offered), Hindi (too long) and Turkish
    (broken formatting) are named with the reason; the German one is then retyped by hand. Each
    member gets their version; the Swahili member the organization's (English, suggested)."""
    organizer = await make_organizer(harness, registered)
    members = {code: await registered(f"Member {code}", code) for code in ("de", "it", "ar", "sw", "zh_Hans")}
    server.answers["hi"] = lambda text: "क" * 5000
    server.answers["tr"] = lambda text: "<b>" + text

    def t(msgid: str, **values: Any) -> str:
        return harness.t(msgid, "fr", **values)

    original = "Fête & danse samedi <3"
    card = await composer(harness, organizer, original)
    languages = await harness.choose(organizer, card, t("🌐 Add a translation"))
    await harness.choose(organizer, languages, language_name("ar"))
    await harness.send(organizer, "حفلة ورقص يوم السبت")  # "translation saved"
    card = await harness.reply(organizer)

    languages = await harness.choose(organizer, card, t("🌐 Add a translation"))
    assert buttons(languages)[-1] == t("💡 Suggest translations")
    summary = await harness.choose(organizer, languages, t("💡 Suggest translations"))
    card = await harness.reply(organizer)

    suggested = [code for code in languages_first("en") if code not in ("fr", "ar", "sw", "hi", "tr")]
    assert summary["text"].startswith(
        t("💡 Machine suggestions saved: {languages}.", languages=names(suggested))
    )
    assert (
        t("The translation server does not offer: {languages}.", languages=language_name("sw"))
        in summary["text"]
    )
    too_long = t(
        "It is too long for Telegram ({length} characters, at most {limit}).", length=5000, limit=4096
    )
    for code, reason in (("hi", too_long), ("tr", t("The server's formatting is not valid for Telegram."))):
        note = t("{language}: not suggested. {reason}", language=language_name(code), reason=reason)
        assert note in summary["text"]
    assert buttons(summary) == [t("✅ I checked them")]
    assert names(["fr", "ar", *sorted(suggested)]) in card["text"]  # the card's languages
    # What was sent: the text as kept (Telegram HTML), from French, with the key; never Arabic.
    assert server.sent("de") == [
        {
            "q": ["Fête &amp; danse samedi &lt;3"],
            "source": "fr",
            "target": "de",
            "format": "html",
            "api_key": KEY,
        }
    ]
    assert server.sent("ar") == [] and server.sent("zh-Hans")

    # The list shows the suggestions apart; German retyped by hand replaces its suggestion.
    languages = await harness.choose(organizer, card, t("🌐 Add a translation"))
    assert "💡 " + language_name("de") in buttons(languages) and "✅ " + language_name("ar") in buttons(
        languages
    )
    assert t("💡 Suggest translations") in buttons(languages)  # Hindi, Turkish and Swahili are missing
    await harness.choose(organizer, languages, "💡 " + language_name("de"))
    still = await harness.send(organizer, "Fest und Tanz am Samstag <3")
    left = [code for code in suggested if code != "de"]
    assert still["text"] == t(
        "💡 Still machine suggestions, not checked: {languages}.", languages=names(left)
    )
    await harness.reply(organizer)  # "translation saved"
    card = await harness.reply(organizer)

    await harness.press(organizer, card, t("⚡ Urgent: off"))
    card = harness.message(organizer, card["message_id"])
    confirm = await harness.choose(organizer, card, t("📤 Send now"))
    status = await harness.choose(organizer, confirm, t("✅ Yes, send it"))
    await wait_delivered(harness, organizer, status, "fr")
    received = {code: (await harness.reply(user))["text"] for code, user in members.items()}
    assert received == {
        "de": "Fest und Tanz am Samstag <3",
        "it": "[it] " + original,
        "ar": "حفلة ورقص يوم السبت",
        "sw": "[en] " + original,  # no Swahili: the organization's language (English)
        "zh_Hans": "[zh-Hans] " + original,
    }
    assert harness.emulator.errors == []


async def test_a_poll_suggested_keeps_the_typed_french_and_reaches_a_german_member(
    harness: Harness, server: StandIn, registered: Any
) -> None:
    """/poll: the question and each option sent as plain text; the French version typed by the
    coordinator is kept (never sent to the server); the Italian suggestion (two equal options) is
    refused like a typed one, the others still saved; the German member votes on the suggestion."""
    coordinator = await make_coordinator(harness, registered, "en")
    german, french = await registered("Hans", "de"), await registered("Aline", "fr")

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        await harness.press(coordinator, message, label)
        return await harness.reply(coordinator)

    server.answers["it"] = lambda text: "Uguale"  # two equal options: refused like typed ones
    await harness.send(coordinator, "/poll")
    await harness.send(coordinator, "When shall we meet?")
    so_far = await harness.send(coordinator, "Saturday\nSunday")
    anonymous = await pick(await pick(so_far, "Done"), "One answer")
    await pick(anonymous, "👤 With names")
    confirm = await harness.send(coordinator, closing_day(3)[0])
    audience = await pick(confirm, "✅ Correct")
    await harness.choose(coordinator, audience, "Everyone")  # the preview notice
    card = await harness.reply(coordinator)

    languages = await pick(card, "🌐 Add a translation")
    await pick(languages, language_name("fr"))
    for text in ("Quand nous retrouvons-nous ?", "Samedi", "Dimanche"):
        await harness.send(coordinator, text)  # the last answer: "translation saved"
    card = await harness.reply(coordinator)
    languages = await pick(card, "🌐 Add a translation")
    summary = await pick(languages, "💡 Suggest translations")
    card = await harness.reply(coordinator)
    assert summary["text"].startswith("💡 Machine suggestions saved: ") and "Deutsch" in summary["text"]
    assert "\nItaliano: not suggested. " in summary["text"]
    assert server.sent("fr") == []
    assert server.sent("de") == [
        {
            "q": ["When shall we meet?", "Saturday", "Sunday"],
            "source": "en",
            "target": "de",
            "format": "text",
            "api_key": KEY,
        }
    ]

    # Checked: the suggestions are the coordinator's translations now (✅, no longer 💡).
    toast = await harness.press(coordinator, summary, "✅ I checked them")
    assert harness.emulator.callback_answers[toast]["text"] == "✅ The suggestions are now your translations."
    assert buttons(harness.message(coordinator, summary["message_id"])) == []
    languages = await pick(card, "🌐 Add a translation")
    marked = [label for label in buttons(languages) if label.startswith("💡 ")]
    assert "✅ Deutsch" in buttons(languages) and marked == ["💡 Suggest translations"]  # Swahili is missing

    await harness.press(coordinator, card, "📤 Publish")
    polls = {code: (await harness.reply(user))["poll"] for code, user in (("de", german), ("fr", french))}
    assert {
        code: [poll["question"], *(o["text"] for o in poll["options"])] for code, poll in polls.items()
    } == {
        "de": ["[de] When shall we meet?", "[de] Saturday", "[de] Sunday"],
        "fr": ["Quand nous retrouvons-nous ?", "Samedi", "Dimanche"],
    }
    async with create_session_factory(harness.app.engine)() as session:
        (poll,) = (await session.exec(select(Survey))).all()
    assert poll.translations["fr"] == "Quand nous retrouvons-nous ?" and "it" not in poll.translations
    assert poll.translations["de"] == "[de] When shall we meet?"


async def test_server_down_says_so_and_changes_nothing_and_only_organizers_may_press(
    harness: Harness, server: StandIn, registered: Any
) -> None:
    organizer = await make_organizer(harness, registered, "en")
    member = await registered("Bob", "de")
    card = await composer(harness, organizer, "Picnic on Saturday")
    languages = await harness.choose(organizer, card, "🌐 Add a translation")

    # A member forging the button is refused: nothing asked, nothing saved.
    own = await harness.send(member, "/help")  # a message of the member's own chat to press on
    refusal = await harness.forge(member, own, AnnounceAction(action="suggest", id=1))
    assert refusal and refusal != "This button is no longer active."
    assert server.requests == [] and await translations_of(harness, 1) == {}

    await server.stop()
    answer = await harness.choose(organizer, languages, "💡 Suggest translations")
    assert answer["text"] == harness.t(
        "⚠️ The translation server did not answer (or answered with an error). Nothing was changed: "
        "try again later, or add the translations yourself.",
        "en",
    )
    assert await translations_of(harness, 1) == {}
    # The draft goes on as before: a translation typed by hand, then the card.
    await harness.choose(organizer, languages, "Deutsch")
    saved = await harness.send(organizer, "Picknick am Samstag")
    assert saved["text"] == "✅ Translation saved: Deutsch."
    assert await translations_of(harness, 1) == {"de": "Picknick am Samstag"}
    assert harness.emulator.errors == []


@pytest.mark.parametrize("harness", [False], indirect=True)
async def test_without_a_server_there_is_no_button_and_a_forged_press_changes_nothing(
    harness: Harness, server: StandIn, registered: Any
) -> None:
    organizer = await make_organizer(harness, registered, "en")
    card = await composer(harness, organizer, "Picnic on Saturday")
    languages = await harness.choose(organizer, card, "🌐 Add a translation")
    assert "💡 Suggest translations" not in buttons(languages)
    toast = await harness.forge(organizer, languages, AnnounceAction(action="suggest", id=1))
    assert toast == "This button is no longer active."
    assert server.requests == [] and await translations_of(harness, 1) == {}


async def test_a_training_gets_suggestions_in_its_translations_step(
    harness: Harness, server: StandIn, registered: Any
) -> None:
    """/newtraining keeps its draft in the dialog: the suggestions land there, and its own list of
    languages comes back with them ticked, then the preview lists them."""
    coordinator = await make_trainer(harness, registered, "Grace", "en")
    await harness.send(coordinator, "/newtraining")
    await harness.send(coordinator, "Budget basics")
    languages = await harness.send(coordinator, "Money for associations, step by step.")
    await harness.press(coordinator, languages, "▫️ English")
    await harness.choose(coordinator, languages, "Done")  # who is the trainer
    await trainer_to_questions(harness, coordinator)
    translations = await harness.reply(coordinator)
    summary = await harness.choose(coordinator, translations, "💡 Suggest translations")
    assert summary["text"].startswith("💡 Machine suggestions saved: ")
    translations = await harness.reply(coordinator)  # the step again, every offered language done
    assert "✅ Deutsch" in buttons(translations) and "Kiswahili" in buttons(translations)
    assert server.sent("de")[0]["q"] == ["Budget basics", "Money for associations, step by step."]
    await harness.press(coordinator, translations, "Done")
    preview = await harness.choose(coordinator, await harness.reply(coordinator), "Everyone")
    assert "Deutsch" in preview["text"].split("🌐 Translated: ", 1)[1]
    assert harness.emulator.errors == []

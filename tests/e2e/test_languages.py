"""The newer languages end to end: /events, an RSVP, /help and the command menus in Persian (right
to left), Hindi and Chinese, with dates in the member's zone named by its city in their language."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.bidi import LRI, PDI
from bot.config import SHIPPED_LANGUAGES, menu_language_code
from bot.i18n import format_when, language_name, zone_city
from storage.db import create_session_factory
from storage.models import Member, Organization
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import plain
from tests.e2e.test_events import publish_event

CASES = {
    # language: (Telegram's language_code, zone, the event's title and description in that language)
    "fa": ("fa", "Asia/Tehran", "جشن نوروز در هامبورگ", "موسیقی، غذا و دیدار با دوستان."),
    "hi": ("hi", "Asia/Kolkata", "दिवाली मिलन समारोह", "संगीत, भोजन और दोस्तों से मुलाकात।"),
    "zh_Hans": ("zh-hans", "Asia/Shanghai", "春节联欢会", "音乐、美食和朋友聚会。"),
}


@pytest.mark.parametrize("language", CASES)
async def test_events_rsvp_and_help(harness: Harness, registered, language: str) -> None:  # type: ignore[no-untyped-def]
    telegram_code, zone, title, description = CASES[language]
    user = await registered("Nasrin", language, telegram_language=telegram_code)
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        member.timezone = zone
        session.add(member)
        await session.commit()
    event = await publish_event(
        harness, translations={language: {"title": title, "description": description}}
    )

    # The published notice: the member's version, the time in their zone named by its city.
    card = await harness.reply(user)
    assert title in card["text"] and description in card["text"]
    when = format_when(event.starts_at, language, zone, "words")
    assert when in card["text"] and f"({zone_city(zone, language)})" in when and zone not in card["text"]

    # One tap: going.
    assert buttons(card)[0] == harness.t("✅ Going", language)
    query = await harness.press(user, card, harness.t("✅ Going", language))
    assert harness.emulator.callback_answers[query]["text"] == harness.t(
        "✅ You're going. See you there!", language
    )

    # /events lists it, in their language, with its plural form.
    listing = await harness.send(user, "/events")
    heading = harness.t(
        "📅 <b>{count} upcoming event</b>", language, "📅 <b>{count} upcoming events</b>", 1, count=1
    )
    assert listing["text"].startswith(plain(heading)) and title in listing["text"]

    # /help: every command with its description in their language; in Persian each command is
    # isolated left to right, so it reads "/events", not "events/".
    help_text = (await harness.send(user, "/help"))["text"]
    assert help_text.startswith(plain(harness.t("ℹ️ <b>What I can do</b>", language)))
    command = f"{LRI}/events{PDI}" if language == "fa" else "/events"
    assert f"{command} — {harness.t('Upcoming events', language)}" in help_text

    # The menu Telegram shows an app in this language (setMyCommands takes "zh" for zh_Hans).
    menu = harness.emulator.commands(scope={"type": "default"}, language_code=menu_language_code(language))
    assert menu is not None
    assert {item["command"]: item["description"] for item in menu}["events"] == harness.t(
        "Upcoming events", language
    )
    assert [item["description"] for item in harness.emulator.visible_commands(user)] == [
        item["description"]
        for item in harness.emulator.commands(scope={"type": "chat", "chat_id": user.id}) or menu
    ]
    assert harness.emulator.errors == []


async def test_translations_offer_every_language_the_organizations_first(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """An organization working in Hindi: its French organizer's announcement offers Hindi first,
    then every other shipped language but the original's."""
    from tests.e2e.test_announce import composer, make_organizer

    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, harness.app.dispatcher["organization"].id)
        organization.default_language = "hi"
        session.add(organization)
        await session.commit()
    organizer = await make_organizer(harness, registered)
    card = await composer(harness, organizer, "Fête samedi !")
    languages = await harness.choose(organizer, card, harness.t("🌐 Add a translation", "fr"))
    expected = ["hi"] + [code for code in SHIPPED_LANGUAGES if code not in ("fr", "hi")]
    assert buttons(languages) == [language_name(code) for code in expected]

"""The whole registration, as members see it, in English, Arabic, Russian, Persian, Hindi and Chinese."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import language_name
from bot.services.geo import country_name, zone_label
from storage.db import create_session_factory
from storage.models import Member, MemberStatus
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import plain

WELCOME = (
    "👋 Welcome to <b>{organization}</b>!\n\n"
    "I help our community stay connected: events, trainings and quick surveys, in your language.\n\n"
    "Which language would you like to use?"
)


TELEGRAM_CODES = {"zh_Hans": "zh-hans"}


async def members(harness: Harness) -> list[Member]:
    async with create_session_factory(harness.app.engine)() as session:
        return list((await session.exec(select(Member))).all())


@pytest.mark.parametrize(
    ("language", "origin", "residence", "city", "zone"),
    [
        ("en", "Senegal", "Canada", "Toronto", "America/Toronto"),
        ("ar", "السودان", "كينيا", "نيروبي", "Africa/Nairobi"),
        ("ru", "Украина", "Португалия", "Лиссабон", "Europe/Lisbon"),
        ("fa", "افغانستان", "آلمان", "هامبورگ", "Europe/Berlin"),
        ("hi", "भारत", "कनाडा", "टोरंटो", "America/Toronto"),
        ("zh_Hans", "越南", "加拿大", "温哥华", "America/Vancouver"),
    ],
)
async def test_full_registration(
    harness: Harness, language: str, origin: str, residence: str, city: str, zone: str
) -> None:
    telegram_code = TELEGRAM_CODES.get(language, language)  # what Telegram's apps send
    user = harness.emulator.create_user(
        "Amina", last_name="Diallo", username="amina_d", language_code=telegram_code
    )
    org = harness.settings.organization_name

    greeting = await harness.send(user, "/start")
    assert greeting["text"] == plain(harness.t(WELCOME, language, organization=org))
    # Every shipped language in its own name, the app's language first and marked, two a row.
    assert buttons(greeting) == ["📱 " + language_name(language)] + [
        language_name(code) for code in SHIPPED_LANGUAGES if code != language
    ]
    assert [len(row) for row in greeting["reply_markup"]["inline_keyboard"]] == [2] * 8

    await harness.press(user, greeting, "📱 " + language_name(language))
    notice = await harness.edited(user, greeting)
    assert harness.t("✅ I agree", language) in buttons(notice)
    assert "/mydata" in notice["text"] and "/forget" in notice["text"]
    assert notice["text"] != greeting["text"]

    assert (await harness.choose(user, notice, harness.t("✅ I agree", language)))["text"] == harness.t(
        "Let's set up your profile. It takes a minute, and you can skip any step.", language
    )
    name_question = await harness.reply(user)
    assert name_question["text"] == harness.t(
        "What name should we use for you? Send it as a message.", language
    )

    origin_question = await harness.choose(user, name_question, "Amina Diallo")
    assert origin_question["text"].startswith(
        harness.t(
            "Which country are you originally from? Type its name in any language, e.g. Senegal.", language
        )[:10]
    )

    origin_code = {"Senegal": "SN", "السودان": "SD", "Украина": "UA", "افغانستان": "AF", "भारत": "IN"}.get(
        origin, "VN"
    )
    echo = await harness.send(user, origin)
    assert echo["text"] == harness.t(
        "Country of origin: {country}", language, country=country_name(origin_code, language)
    )
    residence_question = await harness.reply(user)
    assert residence_question["text"] == harness.t(
        "Which country do you live in now? Type its name, e.g. Canada.", language
    )
    residence_code = {"كينيا": "KE", "Португалия": "PT", "آلمان": "DE"}.get(residence, "CA")
    echo = await harness.send(user, residence)
    assert echo["text"] == harness.t(
        "You live in: {country}", language, country=country_name(residence_code, language)
    )
    await harness.reply(user)  # the city question
    assert (await harness.send(user, city))["text"] == harness.t("City: {city}", language, city=city)

    zone_question = await harness.reply(user)
    label = zone_label(zone, language)
    assert label in buttons(zone_question)
    await harness.press(user, zone_question, label)

    interests = await harness.reply(user)
    assert interests["text"] == harness.t(
        "What are you interested in? Choose as many as you like, then press Done.", language
    )
    await harness.press(user, interests, harness.t("🎓 Trainings", language))
    await harness.press(
        user, harness.message(user, interests["message_id"]), harness.t("🎭 Culture", language)
    )
    await harness.press(user, harness.message(user, interests["message_id"]), harness.t("Done", language))

    card = await harness.reply(user)
    assert card["text"].startswith(harness.t("🎉 Your profile is ready!", language))
    assert "Amina Diallo" in card["text"] and city in card["text"]

    [member] = await members(harness)
    assert member.status == MemberStatus.ACTIVE and member.consent_at is not None
    assert (member.telegram_id, member.language, member.display_name) == (user.id, language, "Amina Diallo")
    assert (member.origin_country, member.residence_country, member.residence_city) == (
        origin_code,
        residence_code,
        city,
    )
    assert member.timezone == zone
    assert member.interests == ["trainings", "culture"]
    assert member.profile_completed_at is not None

    # The member's own command menu is in their language.
    menu = harness.emulator.commands(scope={"type": "chat", "chat_id": user.id}, language_code="")
    assert menu is not None
    assert {item["command"]: item["description"] for item in menu}["profile"] == harness.t(
        "Your profile", language
    )
    # No call the bot made was refused by the Bot API.
    assert harness.emulator.errors == []


async def test_declining_consent_stores_nothing_but_the_answer(harness: Harness) -> None:
    user = harness.emulator.create_user("Oleksandr", language_code="uk")
    greeting = await harness.send(user, "/start")
    await harness.press(user, greeting, "📱 Українська")
    notice = await harness.edited(user, greeting)
    await harness.press(user, notice, harness.t("No, thanks", "uk"))
    declined = await harness.edited(user, notice)
    assert "/start" in declined["text"]
    [member] = await members(harness)
    assert (member.status, member.language, member.display_name, member.username) == (
        MemberStatus.DECLINED,
        "uk",
        None,
        None,
    )
    answer = await harness.send(user, "hello?")
    assert answer["text"] == harness.t(
        "You chose not to register, so I keep nothing about you. Send /start if you change your mind.", "uk"
    )


async def test_mydata_and_forget(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    user = await registered("Moussa", "fr")
    document = await harness.send(user, "/mydata")
    exported = json.loads(harness.emulator.file_bytes(document["document"]["file_id"]))
    assert exported["member"]["display_name"] == "Moussa"
    assert exported["member"]["language"] == "fr"
    assert document["document"]["file_name"] == "my-data.json"

    question = await harness.send(user, "/forget")
    await harness.press(user, question, harness.t("🗑 Yes, erase my data", "fr"))
    done = await harness.edited(user, question)
    assert done["text"] == harness.t(
        "Your personal data has been erased. If you ever want to come back, just send /start.", "fr"
    )
    [member] = await members(harness)
    assert (
        member.status == MemberStatus.DELETED and member.telegram_id is None and member.display_name is None
    )
    again = await harness.send(user, "/profile")
    assert again["text"] == harness.t("Hello! I don't know you yet. Send /start to join the community.", "fr")


async def test_a_super_admin_keeps_the_staff_commands_after_registering(harness: Harness) -> None:
    """Consent sets the member's own menu: for a super-admin (ADMIN_IDS) it must keep /admin,
    /announce, /newevent, /poll ... — the menu after any change reflects the person's real roles."""
    from tests.e2e.conftest import SUPER_ADMIN_ID

    admin = harness.emulator.create_user("Ada", language_code="fr", user_id=SUPER_ADMIN_ID)
    greeting = await harness.send(admin, "/start")
    await harness.press(admin, greeting, "📱 " + language_name("fr"))
    notice = await harness.edited(admin, greeting)
    await harness.choose(admin, notice, harness.t("✅ I agree", "fr"))  # "let's set up your profile"
    await harness.reply(admin)  # the name question

    menu = harness.emulator.commands(scope={"type": "chat", "chat_id": admin.id}, language_code="")
    assert menu is not None
    commands = {item["command"]: item["description"] for item in menu}
    assert {"admin", "announce", "newevent", "poll", "newtraining", "profile"} <= set(commands)
    assert commands["admin"] == harness.t("Manage roles", "fr")

    # A plain member's menu, by contrast, has no staff command.
    member = harness.emulator.create_user("Bintou", language_code="fr")
    greeting = await harness.send(member, "/start")
    await harness.press(member, greeting, "📱 " + language_name("fr"))
    notice = await harness.edited(member, greeting)
    await harness.choose(member, notice, harness.t("✅ I agree", "fr"))
    await harness.reply(member)
    menu = harness.emulator.commands(scope={"type": "chat", "chat_id": member.id}, language_code="")
    assert menu is not None and "admin" not in {item["command"] for item in menu}

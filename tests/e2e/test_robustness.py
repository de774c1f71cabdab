"""Bad input, odd updates and Telegram faults: a clear answer, nothing lost, never a crash."""

from __future__ import annotations

import asyncio

import pytest

from bot.sandbox import Faults, Limits
from handlers.members.callbacks import CountryChoice, InterestToggle, ProfileEdit, ZoneChoice
from storage.migrate import upgrade_to_head
from tests.e2e.conftest import Harness, buttons, start_harness
from tests.e2e.test_registration import members


async def test_every_private_message_gets_a_reply(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    user = await registered("Ana", "pt")
    assert (await harness.send(user, "/frobnicate"))["text"] == harness.t(
        "I don't know the command {command}. Send /help to see what I can do.", "pt", command="/frobnicate"
    )
    assert (await harness.send(user, "bom dia"))["text"] == harness.t(
        "I'm not sure what you mean. Send /help to see what I can do.", "pt"
    )
    for send in (harness.emulator.send_sticker, harness.emulator.send_photo, harness.emulator.send_voice):
        await send(user)
        assert (await harness.reply(user))["text"] == harness.t(
            "I can only read text messages for now. Send /help to see what I can do.", "pt"
        )
    help_text = (await harness.send(user, "/help"))["text"]
    assert "/profile" in help_text and "/admin" not in help_text
    assert (await harness.send(user, "/cancel"))["text"] == harness.t("There is nothing to cancel.", "pt")
    stranger = harness.emulator.create_user("Zed", language_code="sw")
    assert (await harness.send(stranger, "/profile"))["text"] == harness.t(
        "Hello! I don't know you yet. Send /start to join the community.", "sw"
    )
    assert harness.emulator.errors == []


async def test_groups_stay_quiet_except_for_commands(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    user = await registered("Ana", "en")
    group = harness.emulator.create_group("Diaspora Lyon", members=[user])
    await harness.emulator.send_text(user, "hello everyone", chat=group)
    await harness.emulator.send_text(user, "/start", chat=group)
    reply = await harness.emulator.next_bot_message(group.id, timeout=10)
    assert reply["text"] == "Let's talk in a private chat, where your details stay private."
    assert buttons(reply) == ["Open a private chat"]
    assert [m["outgoing"] for m in harness.emulator.transcript(group.id)] == [False, False, True]


async def test_overlong_empty_and_html_names(harness: Harness) -> None:
    user = harness.emulator.create_user("<b>Ali</b> & \u200b", language_code="en")
    greeting = await harness.send(user, "/start")
    await harness.press(user, greeting, "📱 English")
    notice = await harness.edited(user, greeting)
    await harness.choose(user, notice, "✅ I agree")
    question = await harness.reply(user)
    assert buttons(question)[0] == "Use “<b>Ali</b> &”"  # a button label is plain text

    assert (await harness.send(user, "x" * 5000))[
        "text"
    ] == "That is too long: please keep it to 64 characters."
    assert (await harness.send(user, "\u200b \u200c"))["text"] == "That looks empty. Please type your answer."
    reply = await harness.send(user, "<script>alert(1)</script> & Co")
    assert reply["text"] == "Nice to meet you, <script>alert(1)</script> & Co!"  # shown exactly as typed
    [member] = await members(harness)
    assert member.display_name == "<script>alert(1)</script> & Co"
    await harness.reply(user)  # origin question
    await harness.send(user, "/profile")
    card = harness.emulator.transcript(user.id)[-1]
    assert "<script>alert(1)</script> & Co" in card["text"]
    assert harness.emulator.errors == []


async def test_stale_and_forged_buttons_change_nothing(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    user = await registered("Kofi", "en")
    card = await harness.send(user, "/profile")
    before = [(m.timezone, m.origin_country, m.interests) for m in await members(harness)]
    for data in (
        ZoneChoice(zone="Mars/Olympus"),
        ZoneChoice(zone="Europe/Paris"),  # valid data, but no time zone question is open
        CountryChoice(code="ZZ"),
        InterestToggle(key="hacking"),
        ProfileEdit(field="telegram_id"),
    ):
        assert await harness.forge(user, card, data) == "This button is no longer active."
    await harness.forge(user, card, "garbage:::")
    assert [(m.timezone, m.origin_country, m.interests) for m in await members(harness)] == before


async def test_language_switch_applies_to_the_next_message_and_the_menu(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    user = await registered("Amina", "en")
    choice = await harness.send(user, "/language")
    await harness.press(user, choice, "العربية")
    done = await harness.edited(user, choice)
    assert done["text"] == harness.t(
        "✅ Done! I will speak {language} with you from now on.", "ar", language="العربية"
    )
    assert (await harness.send(user, "/cancel"))["text"] == harness.t("There is nothing to cancel.", "ar")
    menu = harness.emulator.commands(scope={"type": "chat", "chat_id": user.id}, language_code="")
    assert menu[0]["description"] == harness.t("Start or restart", "ar")


async def test_default_menus_for_every_language(harness: Harness) -> None:
    for language in ("en", "fr", "es", "pt", "ar", "ru", "uk", "sw"):
        menu = harness.emulator.commands(scope={"type": "default"}, language_code=language)
        assert menu is not None and menu[-1]["description"] == harness.t("Stop the current dialog", language)
    assert harness.emulator.commands(scope={"type": "default"}, language_code="")[0]["command"] == "start"


async def test_blocking_marks_the_member_and_a_new_message_reactivates(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    user = await registered("Ana", "en")
    await harness.emulator.block_bot(user)
    for _ in range(100):
        if (await members(harness))[0].status == "blocked":
            break
        await asyncio.sleep(0.05)
    assert (await members(harness))[0].status == "blocked"
    await harness.emulator.unblock_bot(user)
    await harness.send(user, "/help")
    assert (await members(harness))[0].status == "active"


async def test_replies_survive_server_errors_and_flood_control(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite+aiosqlite:///{tmp_path / 'faults.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    faults = Faults(error_rate=0.3, seed=7, methods=frozenset({"sendMessage"}))
    async for harness in start_harness(url, limits=Limits(), faults=faults):
        user = harness.emulator.create_user("Ana", language_code="es")
        for _ in range(4):  # four quick commands: flood control and 5xx both get in the way
            await harness.emulator.send_text(user, "/start")
        replies = [await harness.reply(user, timeout=60) for _ in range(4)]
        assert all(reply["text"].startswith("👋") for reply in replies)
        failed = [call for call in harness.emulator.errors if call.method.lower() == "sendmessage"]
        assert failed, "the faults were expected to hit at least one sendMessage"
        assert {call.error_code for call in failed} <= {429, 500, 502}


async def test_a_failing_handler_apologises_and_the_bot_goes_on(
    harness: Harness,
    registered,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    import handlers.help

    user = await registered("Ana", "ru")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(handlers.help, "command_list", broken)
    apology = await harness.send(user, "/help")
    assert apology["text"] == harness.t(
        "😕 Sorry, something went wrong on my side. Please try again in a moment.", "ru"
    )
    assert "boom" not in apology["text"] and "Traceback" not in apology["text"]
    monkeypatch.undo()
    assert "/profile" in (await harness.send(user, "/help"))["text"]


async def test_a_burst_of_updates_is_handled_a_few_at_a_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """MAX_CONCURRENT_UPDATES bounds the updates in flight, so a burst waits its turn in memory
    instead of on the database pool (where waiting longer than 30 s is an error)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'burst.sqlite3'}"
    await asyncio.to_thread(upgrade_to_head, url)
    async for harness in start_harness(url, max_concurrent_updates=3):
        in_flight, peak = 0, 0

        async def count(handler, event, data):  # type: ignore[no-untyped-def]
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await asyncio.sleep(0.05)
                return await handler(event, data)
            finally:
                in_flight -= 1

        harness.app.dispatcher.update.outer_middleware(count)
        users = [harness.emulator.create_user(f"User {i}", language_code="fr") for i in range(20)]
        await asyncio.gather(*(harness.emulator.send_text(user, "/start") for user in users))
        replies = [await harness.reply(user, timeout=30) for user in users]
        assert all(reply["text"].startswith("👋") for reply in replies)
        assert peak == 3


async def test_forged_ids_beyond_the_database_integers_are_stale_buttons(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """Callback data can carry any number; ids no row can have are refused before any lookup
    (PostgreSQL would fail the query on an out-of-range integer, SQLite on one beyond 64 bits)."""
    from tests.e2e.test_announce import make_organizer

    organizer = await make_organizer(harness, registered, "en")
    last = await harness.send(organizer, "/help")
    huge = str(2**63)
    for data in (
        f"ev:open:{huge}",
        f"ev:going:{huge}",
        f"tr:open:{huge}:0:0",
        f"tr:answer:1:{huge}:0",
        f"tra:roster:{huge}:0:0:0",
        f"ea:attendees:{huge}::0:0",
        f"ea:att:1::{huge}:0",
        f"an:preview:{huge}:",
        f"adm:revoke:organizer:{huge}",
    ):
        assert await harness.forge(organizer, last, data) == "This button is no longer active.", data
    assert [m for m in harness.emulator.transcript(organizer.id) if m["outgoing"]][-1] == last

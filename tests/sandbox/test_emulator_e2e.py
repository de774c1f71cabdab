"""End to end: an aiogram Dispatcher polls the emulator while the test speaks as users."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    PollAnswer,
)

from bot.sandbox import BotAPIEmulator

seen: list[Any] = []


def build_dispatcher(bot: Bot) -> Dispatcher:
    dp = Dispatcher()

    @dp.message(Command("start"))
    async def start(message: Message, command: CommandObject) -> None:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Going", callback_data="ev:1")]]
        )
        await message.answer(f"Event <b>{command.args}</b>", parse_mode="HTML", reply_markup=markup)

    @dp.message(Command("poll"))
    async def poll(message: Message) -> None:
        await message.answer_poll("Which day?", ["Sat", "Sun"], is_anonymous=False)

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        origin = message.forward_origin.type if message.forward_origin else "-"
        await message.answer(f"echo: {message.text} ({origin})")

    @dp.message(F.document)
    async def document(message: Message) -> None:
        assert message.document is not None
        data = await bot.download(message.document.file_id)
        assert data is not None
        await message.answer_document(BufferedInputFile(data.read().upper(), "upper.txt"))

    @dp.message(F.photo | F.sticker | F.voice)
    async def media(message: Message) -> None:
        await message.answer(message.content_type.value)

    @dp.callback_query(F.data == "ev:1")
    async def going(query: CallbackQuery) -> None:
        await query.answer("See you there")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"{query.message.html_text} ✅", parse_mode="HTML")

    @dp.poll_answer()
    async def voted(answer: PollAnswer) -> None:
        seen.append(("poll_answer", answer.option_ids))

    @dp.my_chat_member()
    async def membership(update: ChatMemberUpdated) -> None:
        seen.append(("my_chat_member", update.old_chat_member.status, update.new_chat_member.status))

    return dp


@pytest.fixture
async def running(emu: BotAPIEmulator, bot: Bot) -> AsyncIterator[BotAPIEmulator]:
    seen.clear()
    dp = build_dispatcher(bot)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    await emu.wait_for(lambda e: any(c.method == "getUpdates" for c in e.calls))
    yield emu
    await dp.stop_polling()
    await polling


async def test_echo_callback_and_edit(running: BotAPIEmulator) -> None:
    emu = running
    user = emu.create_user("Amina", username="amina", language_code="ar")
    said = await emu.send_text(user, "/start event_12")
    assert said["from"]["id"] == user.id and said["chat"]["type"] == "private"
    card = await emu.next_bot_message(user)
    assert card["text"] == "Event event_12" and card["entities"] == [
        {"type": "bold", "offset": 6, "length": 8}
    ]
    assert card["from"] == emu.bot_user and card["outgoing"] is True
    query_id = await emu.press_button(user, card, text="Going")
    await emu.wait_for(lambda e: e.callback_answers[query_id] is not None)
    assert emu.callback_answers[query_id]["text"] == "See you there"
    await emu.wait_for(lambda e: e.transcript(user)[-1]["text"].endswith("✅"))
    assert emu.transcript(user)[-1]["text"] == "Event event_12 ✅"
    await emu.send_text(user, "salam 👋")
    assert (await emu.next_bot_message(user))["text"] == "echo: salam 👋 (-)"
    assert [m["outgoing"] for m in emu.transcript(user)] == [False, True, False, True]
    assert emu.errors == []


async def test_next_bot_message_cursor_is_per_chat_and_times_out_helpfully(running: BotAPIEmulator) -> None:
    emu = running
    amina, omar = emu.create_user("Amina"), emu.create_user("Omar")
    await emu.send_text(amina, "one")
    await emu.send_text(omar, "two")
    await emu.send_text(amina, "three")
    assert (await emu.next_bot_message(amina))["text"] == "echo: one (-)"
    assert (await emu.next_bot_message(amina))["text"] == "echo: three (-)"
    assert (await emu.next_bot_message(omar))["text"] == "echo: two (-)"
    with pytest.raises(TimeoutError, match=r"(?s)no new message to chat .*echo: three"):
        await emu.next_bot_message(amina, timeout=0.3)


async def test_forwards_media_and_files(running: BotAPIEmulator) -> None:
    emu = running
    amina, omar = emu.create_user("Amina"), emu.create_user("Omar")
    await emu.forward_to_bot(amina, original_sender=omar, text="hi")
    assert (await emu.next_bot_message(amina))["text"] == "echo: hi (user)"
    await emu.forward_to_bot(amina, sender_name="Someone", text="psst")
    assert (await emu.next_bot_message(amina))["text"] == "echo: psst (hidden_user)"
    for send, kind in ((emu.send_photo, "photo"), (emu.send_sticker, "sticker"), (emu.send_voice, "voice")):
        await send(amina)
        assert (await emu.next_bot_message(amina))["text"] == kind
    await emu.send_document(amina, b"abc", "f.txt", caption="my file")
    reply = await emu.next_bot_message(amina)
    assert reply["document"]["file_name"] == "upper.txt"
    assert emu.file_bytes(reply["document"]["file_id"]) == b"ABC"
    assert emu.errors == []


async def test_polls_and_blocking_reach_the_handlers(running: BotAPIEmulator) -> None:
    emu = running
    user = emu.create_user("Amina")
    await emu.send_text(user, "/poll")
    poll = await emu.next_bot_message(user)
    await emu.answer_poll(user, poll, [1])
    await emu.block_bot(user)
    await emu.unblock_bot(user)
    expected = [
        ("poll_answer", [1]),
        ("my_chat_member", "member", "kicked"),
        ("my_chat_member", "kicked", "member"),
    ]
    await emu.wait_for(lambda e: len(seen) == 3)
    assert seen == expected
    assert emu.transcript(user)[-1]["poll"]["options"][1]["voter_count"] == 1


async def test_group_privacy_mode(running: BotAPIEmulator) -> None:
    emu = running
    user = emu.create_user("Amina")
    group = emu.create_group("Diaspora Lyon", members=[user])
    await emu.wait_for(lambda e: ("my_chat_member", "left", "member") in seen)
    await emu.send_text(user, "hello everyone", chat=group)
    await emu.send_text(user, "/start@other_bot x", chat=group)
    await emu.send_text(user, "/start@diaspora_bridge_bot lyon", chat=group)
    reply = await emu.next_bot_message(group)
    assert reply["text"] == "Event lyon" and reply["chat"]["id"] == group.id
    await emu.send_text(user, "thanks @diaspora_bridge_bot", chat=group)
    assert (await emu.next_bot_message(group))["text"] == "echo: thanks @diaspora_bridge_bot (-)"
    assert [m["outgoing"] for m in emu.transcript(group)] == [False, False, False, True, False, True]

"""A second, independent client against the emulator: python-telegram-bot (a test dependency only;
the bot itself uses aiogram) runs the basic conversation, so the emulator is not shaped around one
library's way of sending requests (PTB posts form fields, JSON-encodes nested values, uploads with
its own multipart writer, and downloads files from the file endpoint)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.sandbox import BotAPIEmulator, Limits, tiny_png

telegram = pytest.importorskip("telegram")
from telegram import (  # noqa: E402
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Conflict  # noqa: E402

TOKEN = "246810:PTB-test"


@pytest.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(
        token=TOKEN, limits=Limits(flood_control=False), bot_username="ptb_test_bot"
    ) as emulator:
        yield emulator


@pytest.fixture
async def ptb(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, base_url=f"{emu.base_url}/bot", base_file_url=f"{emu.base_url}/file/bot")
    async with bot:  # initialize(): getMe
        yield bot


async def updates(bot: Bot, offset: int | None = None, timeout: int = 0) -> list[Update]:
    return list(await bot.get_updates(offset=offset, timeout=timeout, read_timeout=timeout + 5))


async def test_get_me_messages_keyboards_callbacks_and_edits(emu: BotAPIEmulator, ptb: Bot) -> None:
    assert ptb.username == "ptb_test_bot" and ptb.id == 246810
    user = emu.create_user("Amina", language_code="fr")
    await emu.send_text(user, "/start")
    [update] = await updates(ptb)
    assert update.message is not None and update.message.text == "/start"
    assert update.message.entities[0].type == "bot_command"
    assert update.effective_user is not None and update.effective_user.language_code == "fr"

    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Going", callback_data="rsvp:going")],
            [InlineKeyboardButton("Site", url="https://example.org")],
        ]
    )
    sent = await ptb.send_message(
        user.id, "<b>Picnic</b> on Saturday", parse_mode="HTML", reply_markup=keyboard
    )
    assert sent.text == "Picnic on Saturday" and sent.entities[0].type == "bold"
    assert (
        sent.reply_markup is not None
        and sent.reply_markup.inline_keyboard[0][0].callback_data == "rsvp:going"
    )

    query_id = await emu.press_button(user, sent.to_dict(), text="Going")
    [press] = await updates(ptb, offset=update.update_id + 1)
    assert press.callback_query is not None and press.callback_query.data == "rsvp:going"
    assert (
        press.callback_query.message is not None
        and press.callback_query.message.message_id == sent.message_id
    )
    assert await press.callback_query.answer("Noted", show_alert=False)
    assert emu.callback_answers[query_id] == {
        "text": "Noted",
        "show_alert": False,
        "url": None,
        "cache_time": 0,
    }

    edited = await ptb.edit_message_text("Picnic on Saturday ✅", chat_id=user.id, message_id=sent.message_id)
    assert (
        not isinstance(edited, bool)
        and edited.text == "Picnic on Saturday ✅"
        and edited.edit_date is not None
    )
    assert emu.transcript(user)[-1]["text"] == "Picnic on Saturday ✅"
    assert "reply_markup" not in emu.transcript(user)[-1]
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await ptb.edit_message_text("Picnic on Saturday ✅", chat_id=user.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await ptb.send_message(user.id, "😀" * 4097)
    assert await updates(ptb, offset=press.update_id + 1) == []


async def test_long_polling_with_offsets(emu: BotAPIEmulator, ptb: Bot) -> None:
    user = emu.create_user("Omar")
    waiting = asyncio.create_task(updates(ptb, timeout=10))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # the long poll is parked until something arrives
    await emu.send_text(user, "first")
    [first] = await asyncio.wait_for(waiting, 5)
    assert first.message is not None and first.message.text == "first"
    await emu.send_text(user, "second")
    await emu.send_text(user, "third")
    again = await updates(ptb)  # no offset: nothing was confirmed yet
    assert [u.message.text for u in again if u.message] == ["first", "second", "third"]
    rest = await updates(ptb, offset=first.update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["second", "third"]
    assert await updates(ptb, offset=rest[-1].update_id + 1) == []
    assert emu.pending_updates == []
    last = await updates(ptb, offset=-1)  # a negative offset keeps the last ones
    assert last == []


async def test_documents_sent_downloaded_and_received(emu: BotAPIEmulator, ptb: Bot) -> None:
    user = emu.create_user("Lina")
    data = json.dumps({"member": "Lina", "city": "Lyon"}, ensure_ascii=False).encode()
    sent = await ptb.send_document(user.id, InputFile(data, filename="my-data.json"), caption="📄 Your data")
    assert sent.document is not None and sent.document.file_name == "my-data.json"
    assert sent.document.mime_type == "application/json" and sent.caption == "📄 Your data"
    assert emu.file_bytes(sent.document.file_id) == data
    stored = await ptb.get_file(sent.document.file_id)
    assert stored.file_size == len(data) and stored.file_path
    assert bytes(await stored.download_as_bytearray()) == data

    await emu.send_document(user, b"name,city\nLina,Lyon\n", "people.csv", caption="the list")
    [update] = await updates(ptb)
    assert update.message is not None and update.message.document is not None
    received = await update.message.document.get_file()
    assert bytes(await received.download_as_bytearray()) == b"name,city\nLina,Lyon\n"
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await ptb.send_document(user.id, sent.document.file_id, caption="c" * 1025)


async def test_polls_votes_and_stop(emu: BotAPIEmulator, ptb: Bot) -> None:
    user = emu.create_user("Kofi")
    sent = await ptb.send_poll(user.id, "Which day?", ["Saturday", "Sunday"], is_anonymous=False)
    assert sent.poll is not None and [o.text for o in sent.poll.options] == ["Saturday", "Sunday"]
    await emu.answer_poll(user, sent.to_dict(), [1])
    kinds = await updates(ptb)
    answer = next(u.poll_answer for u in kinds if u.poll_answer is not None)
    assert answer.poll_id == sent.poll.id and list(answer.option_ids) == [1]
    stopped = await ptb.stop_poll(user.id, sent.message_id)
    assert stopped.is_closed and [o.voter_count for o in stopped.options] == [0, 1]
    single = await ptb.send_poll(user.id, "Coming?", ["Yes"])  # Bot API 10.1: one option is enough
    assert single.poll is not None and len(single.poll.options) == 1


async def test_command_menus(emu: BotAPIEmulator, ptb: Bot) -> None:
    user = emu.create_user("Oksana", language_code="uk")
    default = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    assert await ptb.set_my_commands(default)
    assert await ptb.set_my_commands([BotCommand("start", "Почати")], language_code="uk")
    staff = [BotCommand("start", "Start"), BotCommand("announce", "Send an announcement")]
    assert await ptb.set_my_commands(staff, scope=BotCommandScopeChat(user.id))
    assert [c.command for c in await ptb.get_my_commands()] == ["start", "help"]
    assert [c.description for c in await ptb.get_my_commands(language_code="uk")] == ["Почати"]
    assert [c.command for c in await ptb.get_my_commands(scope=BotCommandScopeChat(user.id))] == [
        "start",
        "announce",
    ]
    assert [c["command"] for c in emu.visible_commands(user)] == ["start", "announce"]
    assert await ptb.delete_my_commands(scope=BotCommandScopeChat(user.id))
    assert [c["description"] for c in emu.visible_commands(user)] == ["Почати"]
    with pytest.raises(BadRequest):
        await ptb.set_my_commands([BotCommand("Bad Command", "x")])


async def test_webhook_with_its_secret_header(emu: BotAPIEmulator, ptb: Bot) -> None:
    received: asyncio.Queue[tuple[str | None, Update]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        update = Update.de_json(await request.json(), ptb)
        await received.put((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), update))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        user = emu.create_user("Wanjiru")
        url = f"http://{host}:{port}/hook"
        assert await ptb.set_webhook(url, secret_token="s3cr3t-Token_1", allowed_updates=["message"])
        info = await ptb.get_webhook_info()
        assert info.url == url and info.allowed_updates == ("message",)
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await ptb.get_updates()
        await emu.send_text(user, "hello over a webhook")
        secret, update = await asyncio.wait_for(received.get(), 5)
        assert secret == "s3cr3t-Token_1"
        assert update.message is not None and update.message.text == "hello over a webhook"
        await emu.wait_for(lambda e: not e.pending_updates, timeout=5)  # answered 200: confirmed
        assert (await ptb.get_webhook_info()).pending_update_count == 0
        with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
            await ptb.set_webhook(url, secret_token="not allowed!")
        assert await ptb.delete_webhook()
        assert (await ptb.get_webhook_info()).url == ""
        await emu.send_text(user, "back to polling")
        [polled] = await updates(ptb)
        assert polled.message is not None and polled.message.text == "back to polling"
    finally:
        await runner.cleanup()


async def test_replies_photos_caption_and_markup_edits_copies_and_deletes(
    emu: BotAPIEmulator, ptb: Bot
) -> None:
    user = emu.create_user("Ana", language_code="pt")
    question = await emu.send_text(user, "Where is it?")
    answer = await ptb.send_message(
        user.id,
        "At https://example.org/map",
        reply_parameters=ReplyParameters(question["message_id"]),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
    assert answer.reply_to_message is not None and answer.reply_to_message.text == "Where is it?"
    assert answer.link_preview_options is not None and answer.link_preview_options.is_disabled
    assert answer.entities[0].type == "url"
    assert await ptb.send_chat_action(user.id, "upload_photo")

    photo = await ptb.send_photo(user.id, InputFile(tiny_png(), filename="map.png"), caption="The map")
    assert photo.photo and photo.caption == "The map"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Open", callback_data="map:open")]])
    recaptioned = await ptb.edit_message_caption(
        chat_id=user.id,
        message_id=photo.message_id,
        caption="<i>The map</i>",
        parse_mode="HTML",
        reply_markup=keyboard,
    )
    assert not isinstance(recaptioned, bool) and recaptioned.caption_entities[0].type == "italic"
    cleared = await ptb.edit_message_reply_markup(chat_id=user.id, message_id=photo.message_id)
    assert not isinstance(cleared, bool) and cleared.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await ptb.edit_message_text("text", chat_id=user.id, message_id=photo.message_id)

    copy = await ptb.copy_message(user.id, user.id, answer.message_id)
    assert emu.transcript(user)[-1]["message_id"] == copy.message_id
    assert emu.transcript(user)[-1]["text"] == "At https://example.org/map"
    assert await ptb.delete_message(user.id, copy.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await ptb.delete_message(user.id, copy.message_id)
    chat = await ptb.get_chat(user.id)
    assert chat.type == "private" and chat.first_name == "Ana"

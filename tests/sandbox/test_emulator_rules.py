"""Every enforced rule answers with Telegram's own error, over raw HTTP and through aiogram."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.sandbox import BotAPIEmulator, Limits, tiny_png

if TYPE_CHECKING:
    from conftest import RawApi

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
TEXT_BUTTONS = (
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def keyboard(*rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"inline_keyboard": list(rows)}


# --- transport --------------------------------------------------------------------------------------------


async def test_wrong_token_is_unauthorized(api: RawApi, emu: BotAPIEmulator) -> None:
    assert await api.error("getMe", token="123456:WRONG") == (401, "Unauthorized")
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    async with Bot("123456:WRONG", session=session) as wrong:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    assert [(c.method, c.error_code) for c in emu.errors] == [("getMe", 401), ("getMe", 401)]


async def test_unknown_method_is_not_found_and_recorded(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    status, body = await api("sendHologram", chat_id=1)
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert emu.unknown_methods == ["sendHologram"]
    with pytest.raises(TelegramNotFound):
        await bot.log_out()
    assert emu.unknown_methods == ["sendHologram", "logOut"]


async def test_methods_are_case_insensitive_and_accept_every_encoding(
    api: RawApi, emu: BotAPIEmulator
) -> None:
    user = emu.create_user("Amina")
    assert (await api.ok("SENDMESSAGE", chat_id=user.id, text="json"))["text"] == "json"
    async with aiohttp.ClientSession() as session:
        url = f"{emu.base_url}/bot{emu.token}/sendmessage"
        async with session.get(url, params={"chat_id": user.id, "text": "query"}) as response:
            assert (await response.json())["result"]["text"] == "query"
        async with session.post(url, data={"chat_id": str(user.id), "text": "form"}) as response:
            assert (await response.json())["result"]["text"] == "form"
    sent = await api.ok(
        "sendMessage",
        files={},
        chat_id=str(user.id),
        text="multipart",
        reply_markup=keyboard([{"text": "Go", "callback_data": "go"}]),
    )
    assert sent["reply_markup"] == keyboard([{"text": "Go", "callback_data": "go"}])
    assert [call.method for call in emu.calls] == ["sendMessage"] * 4
    assert emu.calls[-1].params["reply_markup"] == keyboard([{"text": "Go", "callback_data": "go"}])
    assert emu.calls[-1].params["chat_id"] == user.id


# --- messages ---------------------------------------------------------------------------------------------


async def test_missing_parameters_use_telegram_wording(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    assert await api.error("sendMessage", text="hi") == (400, "Bad Request: chat_id is empty")
    assert await api.error("sendMessage", chat_id=user.id) == (400, "Bad Request: message text is empty")
    assert await api.error("sendMessage", chat_id=user.id, text="") == (
        400,
        "Bad Request: message text is empty",
    )
    assert await api.error("sendMessage", chat_id=user.id, text=" \n ") == (
        400,
        "Bad Request: message must be non-empty",
    )
    assert await api.error("sendMessage", chat_id=987654, text="hi") == (400, "Bad Request: chat not found")
    assert await api.error("sendPhoto", chat_id=user.id) == (
        400,
        "Bad Request: there is no photo in the request",
    )


async def test_text_limit_counts_characters_as_tdlib(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    """TDLib refuses a bot's text over 4096 characters (`utf8_length`: code points, not UTF-16
    units), after entity parsing."""
    user = emu.create_user("Amina")
    assert len((await api.ok("sendMessage", chat_id=user.id, text="a" * 4096))["text"]) == 4096
    assert await api.error("sendMessage", chat_id=user.id, text="a" * 4097) == (
        400,
        "Bad Request: message is too long",
    )
    await api.ok("sendMessage", chat_id=user.id, text="😀" * 4096)  # 8192 UTF-16 code units
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user.id, "😀" * 4097)
    await api.ok("sendMessage", chat_id=user.id, text="<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await api.ok("sendMessage", chat_id=user.id, text="<b>" + "ж" * 4096 + "</b>", parse_mode="HTML")
    sent = await api.ok("sendMessage", chat_id=user.id, text="draft")
    edit = {"chat_id": user.id, "message_id": sent["message_id"]}
    await api.ok("editMessageText", **edit, text="🌍" * 4096)
    assert await api.error("editMessageText", **edit, text="🌍" * 4097) == (
        400,
        "Bad Request: MESSAGE_TOO_LONG",
    )


async def test_caption_limit(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    user = emu.create_user("Amina")
    photo = BufferedInputFile(tiny_png(), "p.png")
    with pytest.raises(TelegramBadRequest) as error:
        await bot.send_photo(user.id, photo, caption="c" * 1025)
    assert error.value.message == "Bad Request: message caption is too long"
    sent = await bot.send_photo(user.id, photo, caption="c" * 1024)
    with pytest.raises(TelegramBadRequest) as error:
        await bot.edit_message_caption(chat_id=user.id, message_id=sent.message_id, caption="d" * 1025)
    assert error.value.message == "Bad Request: MEDIA_CAPTION_TOO_LONG"
    sent = await bot.send_photo(user.id, photo, caption="🇸🇳" * 512)  # 1024 characters, 2048 UTF-16 units
    assert sent.caption == "🇸🇳" * 512
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(user.id, photo, caption="😀" * 1025)
    await bot.edit_message_caption(chat_id=user.id, message_id=sent.message_id, caption="😀" * 1024)


async def test_files_are_checked(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    user = emu.create_user("Amina")
    assert await api.error("sendPhoto", chat_id=user.id, files={"photo": ("p.png", b"not an image")}) == (
        400,
        "Bad Request: IMAGE_PROCESS_FAILED",
    )
    assert await api.error("sendDocument", chat_id=user.id, document="nonsense") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    photo = await bot.send_photo(user.id, BufferedInputFile(tiny_png(), "p.png"))
    assert await api.error("sendDocument", chat_id=user.id, document=photo.photo[-1].file_id) == (
        400,
        "Bad Request: type of file mismatch",
    )
    again = await bot.send_photo(user.id, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id


# --- keyboards --------------------------------------------------------------------------------------------


async def test_callback_data_is_1_to_64_bytes(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    user = emu.create_user("Amina")
    fits = "д" * 32  # 64 bytes in UTF-8
    await api.ok(
        "sendMessage",
        chat_id=user.id,
        text="x",
        reply_markup=keyboard([{"text": "A", "callback_data": fits}]),
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="A", callback_data=fits + "д")]]
    )
    with pytest.raises(TelegramBadRequest) as error:
        await bot.send_message(user.id, "x", reply_markup=markup)
    assert error.value.message == "Bad Request: BUTTON_DATA_INVALID"
    assert await api.error(
        "sendMessage", chat_id=user.id, text="x", reply_markup=keyboard([{"text": "A", "callback_data": ""}])
    ) == (400, TEXT_BUTTONS)


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (
            keyboard([{"text": "Just text"}]),
            TEXT_BUTTONS,
        ),
        (keyboard([{"text": "", "callback_data": "x"}]), "Bad Request: BUTTON_TEXT_INVALID"),
        (
            keyboard([{"callback_data": "x"}]),
            "Bad Request: can't parse inline keyboard button: Can't find field \"text\"",
        ),
        (keyboard([{"text": "A", "url": "javascript:alert(1)"}]), "Bad Request: BUTTON_URL_INVALID"),
        (
            keyboard(*[[{"text": str(i), "callback_data": str(i)}] for i in range(101)]),
            "Bad Request: reply markup is too long",
        ),
        (
            keyboard([{"text": str(i), "callback_data": str(i)} for i in range(9)]),
            "Bad Request: REPLY_MARKUP_INVALID",
        ),
        (
            {"inline_keyboard": "no"},
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array',
        ),
        ("{not json", "Bad Request: can't parse reply keyboard markup JSON object"),
    ],
)
async def test_inline_keyboards_are_validated(
    api: RawApi, emu: BotAPIEmulator, markup: Any, description: str
) -> None:
    user = emu.create_user("Amina")
    assert await api.error("sendMessage", chat_id=user.id, text="x", reply_markup=markup) == (
        400,
        description,
    )


async def test_button_with_two_actions_keeps_the_first_like_telegram(
    api: RawApi, emu: BotAPIEmulator
) -> None:
    user = emu.create_user("Amina")
    both = keyboard([{"text": "A", "url": "https://example.org", "callback_data": "a"}])
    sent = await api.ok("sendMessage", chat_id=user.id, text="x", reply_markup=both)
    assert sent["reply_markup"] == keyboard([{"text": "A", "url": "https://example.org"}])
    with pytest.raises(LookupError):
        await emu.press_button(user, sent, text="A")


async def test_reply_keyboard_is_kept_out_of_the_message(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    markup = {"keyboard": [["Yes", {"text": "No"}]], "resize_keyboard": True}
    sent = await api.ok("sendMessage", chat_id=user.id, text="Sure?", reply_markup=markup)
    assert "reply_markup" not in sent
    assert emu.transcript(user)[-1]["reply_keyboard"]["keyboard"] == [[{"text": "Yes"}, {"text": "No"}]]


# --- editing and deleting ---------------------------------------------------------------------------------


async def test_identical_edit_is_not_modified(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    user = emu.create_user("Amina")
    markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]])
    sent = await bot.send_message(user.id, "<b>Hi</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(TelegramBadRequest) as error:
        await bot.edit_message_text(
            "<b>Hi</b>", chat_id=user.id, message_id=sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    assert error.value.message == NOT_MODIFIED
    edited = await bot.edit_message_text(
        "<i>Hi</i>", chat_id=user.id, message_id=sent.message_id, parse_mode="HTML"
    )
    assert (
        edited.entities[0].type == "italic" and edited.reply_markup is None
    )  # no markup given: keyboard removed
    assert edited.edit_date is not None
    with pytest.raises(TelegramBadRequest) as error:
        await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id)
    assert error.value.message == NOT_MODIFIED
    await bot.edit_message_reply_markup(chat_id=user.id, message_id=sent.message_id, reply_markup=markup)
    assert emu.transcript(user)[-1]["reply_markup"] == keyboard([{"text": "Go", "callback_data": "go"}])


async def test_edit_errors(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    incoming = await emu.send_text(user, "hello")
    sent = await api.ok("sendMessage", chat_id=user.id, text="hi")
    refused = [  # (method, message id, the change, Telegram's answer)
        ("editMessageText", 999, {"text": "x"}, "Bad Request: message to edit not found"),
        ("editMessageText", incoming["message_id"], {"text": "x"}, "Bad Request: message can't be edited"),
        ("editMessageText", sent["message_id"], {"text": "x" * 4097}, "Bad Request: MESSAGE_TOO_LONG"),
        (
            "editMessageCaption",
            sent["message_id"],
            {"caption": "c"},
            "Bad Request: there is no caption in the message to edit",
        ),
    ]
    for method, message_id, change, description in refused:
        answer = await api.error(method, chat_id=user.id, message_id=message_id, **change)
        assert answer == (400, description), (method, message_id)


async def test_delete_rules(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    amina, omar = emu.create_user("Amina"), emu.create_user("Omar")
    group = emu.create_group("Diaspora Lyon", members=[amina, omar])
    said = await emu.send_text(omar, "/start", chat=group)
    assert await api.error("deleteMessage", chat_id=group.id, message_id=said["message_id"]) == (
        400,
        "Bad Request: message can't be deleted for everyone",
    )
    assert await api.error("deleteMessage", chat_id=group.id, message_id=12345) == (
        400,
        "Bad Request: message to delete not found",
    )
    own = await bot.send_message(group.id, "temporary")
    assert await bot.delete_message(group.id, own.message_id) is True
    private = await emu.send_text(amina, "my secret")
    assert (
        await bot.delete_message(amina.id, private["message_id"]) is True
    )  # incoming, private chat: allowed
    old = await bot.send_message(amina.id, "old")
    emu.advance_clock(48 * 3600 + 1)
    with pytest.raises(TelegramBadRequest, match="message can't be deleted for everyone"):
        await bot.delete_message(amina.id, old.message_id)
    assert [m["text"] for m in emu.transcript(group)] == ["/start"]
    assert [m["text"] for m in emu.transcript(amina)] == ["old"]


# --- callback queries -------------------------------------------------------------------------------------


async def test_callback_query_answers(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    user = emu.create_user("Amina")
    markup = keyboard([{"text": "Going", "callback_data": "ev:1"}])
    sent = await api.ok("sendMessage", chat_id=user.id, text="Event", reply_markup=markup)
    assert await api.error("answerCallbackQuery", callback_query_id="nope") == (400, TOO_OLD)
    query_id = await emu.press_button(user, sent, text="Going")
    assert emu.callback_answers == {query_id: None}
    update = emu.pending_updates[-1]["callback_query"]
    assert update["data"] == "ev:1" and update["message"]["message_id"] == sent["message_id"]
    with pytest.raises(TelegramBadRequest) as error:
        await bot.answer_callback_query(query_id, text="t" * 201)
    assert error.value.message == "Bad Request: MESSAGE_TOO_LONG"
    assert await bot.answer_callback_query(query_id, text="Noted", show_alert=True) is True
    assert emu.callback_answers[query_id] == {
        "text": "Noted",
        "show_alert": True,
        "url": None,
        "cache_time": 0,
    }
    assert await api.error("answerCallbackQuery", callback_query_id=query_id) == (400, TOO_OLD)
    late = await emu.press_button(user, sent, callback_data="ev:1")
    emu.advance_clock(16)
    assert await api.error("answerCallbackQuery", callback_query_id=late) == (400, TOO_OLD)


async def test_press_button_finds_buttons_or_forges(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    markup = keyboard(
        [{"text": "Going", "callback_data": "ev:1"}, {"text": "Site", "url": "https://example.org"}]
    )
    sent = await api.ok("sendMessage", chat_id=user.id, text="Event", reply_markup=markup)
    with pytest.raises(LookupError, match="no button"):
        await emu.press_button(user, sent, text="Maybe")
    with pytest.raises(LookupError, match="no callback_data"):
        await emu.press_button(user, sent, text="Site")
    forged = await emu.press_button(user, sent, callback_data="admin:drop", forge=True)
    assert emu.pending_updates[-1]["callback_query"]["data"] == "admin:drop"
    assert forged in emu.callback_answers
    await api.ok("editMessageReplyMarkup", chat_id=user.id, message_id=sent["message_id"])
    with pytest.raises(LookupError):
        await emu.press_button(user, sent, text="Going")  # the keyboard is gone now


# --- polls ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"options": []}, "Bad Request: poll must have at least one answer option"),
        ({"options": [str(i) for i in range(13)]}, "Bad Request: poll can't have more than 12 options"),
        ({"question": "q" * 301}, "Bad Request: poll question length must not exceed 300"),
        ({"question": "😀" * 301}, "Bad Request: poll question length must not exceed 300"),
        ({"question": ""}, "Bad Request: poll question must be non-empty"),
        ({"options": ["a", "o" * 101]}, "Bad Request: poll options length must not exceed 100"),
        ({"options": ["a", "🌍" * 101]}, "Bad Request: poll options length must not exceed 100"),
        ({"options": ["a", ""]}, "Bad Request: poll options must be non-empty"),
        ({"type": "quiz"}, "Bad Request: wrong correct option ID specified"),
    ],
)
async def test_poll_limits(
    api: RawApi, emu: BotAPIEmulator, params: dict[str, Any], description: str
) -> None:
    user = emu.create_user("Amina")
    request = {"chat_id": user.id, "question": "Which day?", "options": ["Sat", "Sun"], **params}
    assert await api.error("sendPoll", **request) == (400, description)


async def test_a_poll_of_one_option_and_texts_counted_in_characters(api: RawApi, emu: BotAPIEmulator) -> None:
    """Bot API 10.1: 1-12 answer options; TDLib counts the question (300) and each option (100) in
    characters (code points), as it does message texts."""
    user = emu.create_user("Amina")
    sent = await api.ok("sendPoll", chat_id=user.id, question="Coming?", options=["Yes"])
    assert [option["text"] for option in sent["poll"]["options"]] == ["Yes"]
    sent = await api.ok("sendPoll", chat_id=user.id, question="😀" * 300, options=["🌍" * 100, "b"])
    assert sent["poll"]["question"] == "😀" * 300 and sent["poll"]["options"][0]["text"] == "🌍" * 100


async def test_polls_votes_and_stop(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    user, other = emu.create_user("Amina"), emu.create_user("Omar")
    group = emu.create_group("Lyon", members=[user, other])
    sent = await bot.send_poll(
        group.id, "Which day?", ["Sat", "Sun", "Mon"], is_anonymous=False, allows_multiple_answers=True
    )
    assert sent.poll is not None and sent.poll.options[0].voter_count == 0
    await emu.answer_poll(user, sent.model_dump(), [0, 2])
    await emu.answer_poll(other, sent.model_dump(), [2])
    kinds = [next(k for k in u if k != "update_id") for u in emu.pending_updates]
    assert kinds[-4:] == ["poll", "poll_answer", "poll", "poll_answer"]
    assert emu.pending_updates[-1]["poll_answer"]["option_ids"] == [2]
    stopped = await bot.stop_poll(group.id, sent.message_id)
    assert stopped.is_closed and [o.voter_count for o in stopped.options] == [1, 0, 2]
    assert stopped.total_voter_count == 2
    with pytest.raises(TelegramBadRequest, match="poll has already been closed"):
        await bot.stop_poll(group.id, sent.message_id)
    with pytest.raises(ValueError, match="closed"):
        await emu.answer_poll(user, sent.model_dump(), [1])


async def test_quiz_and_open_period(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    quiz = await api.ok(
        "sendPoll",
        chat_id=user.id,
        question="2+2?",
        options=["3", "4"],
        type="quiz",
        correct_option_id=1,
        explanation="<b>four</b>",
        explanation_parse_mode="HTML",
        open_period=30,
    )
    assert quiz["poll"]["correct_option_ids"] == [1] and quiz["poll"]["explanation"] == "four"
    assert quiz["poll"]["close_date"] == quiz["date"] + 30
    emu.advance_clock(31)
    assert emu.transcript(user)[-1]["poll"]["is_closed"] is True
    assert emu.pending_updates[-1]["poll"]["is_closed"] is True


@pytest.mark.parametrize("seconds", [2, 2628000 + 60, -3600])
async def test_a_close_date_too_soon_too_late_or_past_is_refused(
    api: RawApi, emu: BotAPIEmulator, seconds: int
) -> None:
    """sendPoll's close_date: "at least 5 and no more than 2628000 seconds in the future"."""
    user = emu.create_user("Amina")
    poll = {"chat_id": user.id, "question": "When?", "options": ["Sat", "Sun"]}
    assert await api.error("sendPoll", **poll, close_date=int(emu.now()) + seconds) == (
        400,
        "Bad Request: wrong close_date specified",
    )
    assert (await api.ok("sendPoll", **poll, close_date=int(emu.now()) + 3600))["poll"]["close_date"]


# --- commands ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("commands", "description"),
    [
        ([{"command": "Start", "description": "Go"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "c" * 33, "description": "Go"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "my-events", "description": "Go"}], "Bad Request: BOT_COMMAND_INVALID"),
        ([{"command": "start", "description": ""}], "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        ([{"command": "start", "description": "d" * 257}], "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        (
            [{"command": f"c{i}", "description": "d"} for i in range(101)],
            "Bad Request: BOT_COMMANDS_TOO_MUCH",
        ),
    ],
)
async def test_command_rules(api: RawApi, commands: list[dict], description: str) -> None:
    assert await api.error("setMyCommands", commands=commands) == (400, description)


async def test_commands_are_stored_per_scope_and_language(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    amina = emu.create_user("Amina", language_code="ar")
    omar = emu.create_user("Omar", language_code="fr")
    assert await api.error("setMyCommands", commands=[], language_code="eng") == (
        400,
        "Bad Request: invalid language code specified",
    )
    await api.ok("setMyCommands", commands=[{"command": "/start", "description": " Start "}])
    await api.ok("setMyCommands", commands=[{"command": "start", "description": "ابدأ"}], language_code="ar")
    chat_scope = {"type": "chat", "chat_id": omar.id}
    await api.ok("setMyCommands", commands=[{"command": "admin", "description": "Admin"}], scope=chat_scope)
    assert emu.commands() == [{"command": "start", "description": "Start"}]
    assert emu.commands(language_code="ar") == [{"command": "start", "description": "ابدأ"}]
    assert emu.commands(scope=chat_scope) == [{"command": "admin", "description": "Admin"}]
    assert emu.commands(scope={"type": "all_private_chats"}) is None
    assert [c.command for c in await bot.get_my_commands(language_code="ar")] == ["start"]
    assert await api.ok("getMyCommands", scope={"type": "all_group_chats"}) == []
    assert emu.visible_commands(amina) == [{"command": "start", "description": "ابدأ"}]
    assert emu.visible_commands(omar) == [{"command": "admin", "description": "Admin"}]
    await api.ok("deleteMyCommands", scope=chat_scope)
    assert emu.commands(scope=chat_scope) is None
    assert emu.visible_commands(omar) == [{"command": "start", "description": "Start"}]


# --- people and chats -------------------------------------------------------------------------------------


async def test_blocked_user_gives_forbidden_and_my_chat_member(
    api: RawApi, emu: BotAPIEmulator, bot: Bot
) -> None:
    user = emu.create_user("Amina")
    await emu.block_bot(user)
    update = emu.pending_updates[-1]["my_chat_member"]
    assert (update["old_chat_member"]["status"], update["new_chat_member"]["status"]) == ("member", "kicked")
    with pytest.raises(TelegramForbiddenError) as error:
        await bot.send_message(user.id, "hello?")
    assert error.value.message == "Forbidden: bot was blocked by the user"
    assert await api.error("sendChatAction", chat_id=user.id, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    await emu.unblock_bot(user)
    update = emu.pending_updates[-1]["my_chat_member"]
    assert (update["old_chat_member"]["status"], update["new_chat_member"]["status"]) == ("kicked", "member")
    await bot.send_message(user.id, "welcome back")


async def test_bot_cannot_write_first(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Stranger", started=False)
    assert await api.error("sendMessage", chat_id=user.id, text="hi") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await emu.send_text(user, "/start")
    await api.ok("sendMessage", chat_id=user.id, text="hi")


async def test_chat_actions_and_reactions(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    assert await api.error("sendChatAction", chat_id=user.id, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )
    assert await api.ok("sendChatAction", chat_id=user.id, action="typing") is True
    assert emu.chat_actions == [(user.id, "typing")]
    said = await emu.send_text(user, "hi")
    await api.ok(
        "setMessageReaction",
        chat_id=user.id,
        message_id=said["message_id"],
        reaction=[{"type": "emoji", "emoji": "👍"}],
    )
    assert emu.reactions[(user.id, said["message_id"])] == [{"type": "emoji", "emoji": "👍"}]
    assert await api.error(
        "setMessageReaction",
        chat_id=user.id,
        message_id=said["message_id"],
        reaction=[{"type": "emoji", "emoji": "🦖"}],
    ) == (400, "Bad Request: REACTION_INVALID")


async def test_groups_chat_info_pins_and_leaving(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    amina, omar = emu.create_user("Amina"), emu.create_user("Omar")
    group = emu.create_group("Diaspora Lyon", members=[amina, omar], admins=[omar])
    update = emu.pending_updates[-1]["my_chat_member"]
    assert update["new_chat_member"]["status"] == "member" and update["chat"]["type"] == "group"
    chat = await bot.get_chat(group.id)
    assert chat.title == "Diaspora Lyon" and chat.type == "group" and group.id < 0
    assert (await bot.get_chat_member(group.id, amina.id)).status == "creator"
    assert (await bot.get_chat_member(group.id, omar.id)).status == "administrator"
    assert (await bot.get_chat_member(group.id, emu.bot_id)).status == "member"
    sent = await bot.send_message(group.id, "Rules")
    with pytest.raises(TelegramBadRequest, match="not enough rights to manage pinned messages in the chat"):
        await bot.pin_chat_message(group.id, sent.message_id)
    private = await bot.send_message(amina.id, "Pinned for you")
    assert await bot.pin_chat_message(amina.id, private.message_id)
    assert emu.transcript(amina)[-1]["pinned_message"]["text"] == "Pinned for you"
    assert (await bot.get_chat(amina.id)).pinned_message.text == "Pinned for you"
    assert await bot.leave_chat(group.id)
    assert emu.pending_updates[-1]["my_chat_member"]["new_chat_member"]["status"] == "left"
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the group chat"):
        await bot.send_message(group.id, "still here?")


async def test_forward_and_copy(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    amina, omar = emu.create_user("Amina"), emu.create_user("Omar")
    said = await emu.send_text(amina, "<b>as is</b> https://example.org")
    forwarded = await bot.forward_message(omar.id, amina.id, said["message_id"])
    assert forwarded.forward_origin.type == "user" and forwarded.forward_origin.sender_user.id == amina.id
    assert forwarded.text == said["text"] and forwarded.entities[0].type == "url"
    copied = await bot.copy_message(omar.id, amina.id, said["message_id"])
    assert emu.transcript(omar)[-1]["message_id"] == copied.message_id
    assert "forward_origin" not in emu.transcript(omar)[-1]
    with pytest.raises(TelegramBadRequest, match="message to forward not found"):
        await bot.forward_message(omar.id, amina.id, 999)
    protected = await bot.send_message(amina.id, "secret", protect_content=True)
    with pytest.raises(TelegramBadRequest, match="protected content"):
        await bot.forward_message(omar.id, amina.id, protected.message_id)


async def test_files_round_trip(api: RawApi, emu: BotAPIEmulator, bot: Bot) -> None:
    user = emu.create_user("Amina")
    sent = await bot.send_document(
        user.id,
        BufferedInputFile(b"name,city\nA,Lyon\n", "members.csv"),
        caption="<i>export</i>",
        parse_mode="HTML",
    )
    assert sent.document.file_name == "members.csv" and sent.document.mime_type == "text/csv"
    assert sent.caption_entities[0].type == "italic"
    assert emu.file_bytes(sent.document.file_id) == b"name,city\nA,Lyon\n"
    file = await bot.get_file(sent.document.file_id)
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"name,city\nA,Lyon\n"
    resent = await bot.send_document(user.id, sent.document.file_id)
    assert resent.document.file_unique_id == sent.document.file_unique_id
    assert await api.error("getFile", file_id="missing") == (400, "Bad Request: invalid file_id")


async def test_poll_closes_by_itself_when_its_time_comes(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    close_date = int(emu.now()) + 5  # the soonest Telegram takes
    sent = await api.ok(
        "sendPoll", chat_id=user.id, question="Now?", options=["Yes", "No"], close_date=close_date
    )
    emu.advance_clock(5)
    updates = await api.ok("getUpdates", timeout=3)
    assert updates[-1]["poll"]["id"] == sent["poll"]["id"] and updates[-1]["poll"]["is_closed"] is True


async def test_uploads_over_the_limit_are_refused(api: RawApi, emu: BotAPIEmulator) -> None:
    user = emu.create_user("Amina")
    emu.limits = Limits(flood_control=False, upload_bytes=1000)
    assert await api.error("sendDocument", chat_id=user.id, files={"document": ("big.bin", b"x" * 2000)}) == (
        413,
        "Request Entity Too Large",
    )
    status, body = await api("sendMessage", chat_id=user.id, text="still fine")
    assert status == 200 and body["result"]["text"] == "still fine"

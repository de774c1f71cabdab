"""What `JsonRequestSession` puts on the wire and takes from it: the JSON body carries the very
fields and values aiogram's form would, and an answer gives the result or the error aiogram's own
`check_response` gives (each `TelegramAPIError` class, with its retry_after or migrate_to_chat_id)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import DiceEmoji, ParseMode
from aiogram.methods import (
    AnswerCallbackQuery,
    BanChatMember,
    DeleteMessage,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendDice,
    SendDocument,
    SendMediaGroup,
    SendMessage,
    SendPoll,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    InputPollOption,
    KeyboardButton,
    LinkPreviewOptions,
    MessageEntity,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from bot.aiogram_tuning import JsonRequestSession

API = TelegramAPIServer.from_base("http://127.0.0.1:1")
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text="Going ✅", callback_data="ev:go:12")],
        [
            InlineKeyboardButton(text="Site", url="https://example.org/é"),
            InlineKeyboardButton(text="", callback_data="x"),
        ],
    ]
)
METHODS: list[TelegramMethod[Any]] = [
    SendMessage(chat_id=5, text="<b>Hi</b> — «ça va»"),
    SendMessage(chat_id=5, text="hi", reply_markup=KEYBOARD, parse_mode=None, disable_notification=False),
    SendMessage(
        chat_id="@channel",
        text="hi",
        entities=[MessageEntity(type="bold", offset=0, length=2)],
        link_preview_options=LinkPreviewOptions(url="https://example.org", prefer_small_media=True),
        reply_parameters=ReplyParameters(message_id=3, quote=None),
        parse_mode=ParseMode.MARKDOWN_V2,
    ),
    SendMessage(
        chat_id=5,
        text="",
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Share", request_contact=True)]]),
    ),
    EditMessageText(chat_id=5, message_id=9, text="edited", reply_markup=KEYBOARD),
    EditMessageText(inline_message_id="abc", text="edited"),
    AnswerCallbackQuery(callback_query_id="77", text="Saved", show_alert=False, cache_time=0),
    AnswerCallbackQuery(callback_query_id="77"),
    SendPoll(
        chat_id=-100123,
        question="Which?",
        options=[InputPollOption(text="A"), InputPollOption(text="B", text_parse_mode=None)],
        is_anonymous=False,
        close_date=datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
    ),
    SendDice(chat_id=5, emoji=DiceEmoji.DART),
    BanChatMember(chat_id=-100123, user_id=8, until_date=datetime(2030, 1, 1, tzinfo=UTC)),
    SetMyCommands(
        commands=[BotCommand(command="help", description="Help")], scope=BotCommandScopeChat(chat_id=5)
    ),
    SendMediaGroup(
        chat_id=5, media=[InputMediaPhoto(media="file-1"), InputMediaPhoto(media="file-2", caption="x")]
    ),
    DeleteMessage(chat_id=5, message_id=1),
    GetUpdates(offset=10, timeout=0, allowed_updates=["message", "callback_query"]),
    GetMe(),
]


def _bot(session: AiohttpSession) -> Bot:
    properties = DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True)
    return Bot("123456:ABC", session=session, default=properties)


def _form_fields(method: TelegramMethod[Any]) -> dict[str, Any]:
    """What aiogram's form would carry: each field's name and value."""
    session = AiohttpSession(api=API)
    form = session.build_form_data(_bot(session), method)
    return {options["name"]: value for options, _headers, value in form._fields}


@pytest.mark.parametrize("method", METHODS, ids=lambda method: type(method).__name__)
def test_the_json_body_carries_what_the_form_would(method: TelegramMethod[Any]) -> None:
    session = JsonRequestSession(api=API)
    body = session.json_body(_bot(session), method)
    assert body is not None
    assert json.loads(body) == _form_fields(method)
    assert list(json.loads(body)) == list(_form_fields(method))  # in the same order


def test_an_upload_goes_as_a_form() -> None:
    session = JsonRequestSession(api=API)
    upload = SendDocument(chat_id=5, document=BufferedInputFile(b"data", filename="a.txt"))
    assert session.json_body(_bot(session), upload) is None


MESSAGE = {"message_id": 3, "date": 1796547804, "chat": {"id": 5, "type": "private"}, "text": "hi"}


def _answer(ok: bool, result: Any = None, **fields: Any) -> str:
    return json.dumps({"ok": ok, **({"result": result} if result is not None else {}), **fields})


ANSWERS = [
    (200, _answer(True, MESSAGE)),
    (200, _answer(True, True)),
    (200, _answer(False, description="Bad Request: odd")),  # 200 but not ok: an error all the same
    (400, _answer(False, description="Bad Request: message is not modified", error_code=400)),
    (
        400,
        _answer(False, description="Bad Request: group migrated", parameters={"migrate_to_chat_id": -1009}),
    ),
    (401, _answer(False, description="Unauthorized", error_code=401)),
    (403, _answer(False, description="Forbidden: bot was blocked by the user", error_code=403)),
    (404, _answer(False, description="Not Found", error_code=404)),
    (409, _answer(False, description="Conflict: terminated by other getUpdates request", error_code=409)),
    (413, _answer(False, description="Request Entity Too Large", error_code=413)),
    (429, _answer(False, description="Too Many Requests: retry after 7", parameters={"retry_after": 7})),
    (500, _answer(False, description="Internal Server Error: restart", error_code=500)),
    (502, _answer(False, description="Bad Gateway", error_code=502)),
    (418, _answer(False, description="I'm a teapot", error_code=418)),
    (200, "<html>not json</html>"),
    (502, "<html>Bad Gateway</html>"),
    (200, _answer(True, {"message_id": "not a number"})),
    (200, "[1, 2]"),
]


def _outcome(session: AiohttpSession, status: int, content: str) -> tuple[str, Any]:
    method = SendMessage(chat_id=5, text="hi")
    try:
        response = session.check_response(_bot(session), method, status, content)
    except Exception as error:
        details = {
            name: getattr(error, name, None) for name in ("message", "retry_after", "migrate_to_chat_id")
        }
        return type(error).__name__, (str(error), details)
    return "ok", response.model_dump()


@pytest.mark.parametrize(("status", "content"), ANSWERS)
def test_an_answer_gives_what_aiograms_check_gives(status: int, content: str) -> None:
    assert _outcome(JsonRequestSession(api=API), status, content) == _outcome(
        AiohttpSession(api=API), status, content
    )


def test_a_result_knows_its_bot() -> None:
    session = JsonRequestSession(api=API)
    bot = _bot(session)
    sent = session.check_response(bot, SendMessage(chat_id=5, text="hi"), 200, _answer(True, MESSAGE)).result
    assert sent is not None and sent.bot is bot and sent.chat.id == 5


class _Tag:
    """A request middleware that writes its name down and passes the call on."""

    def __init__(self, name: str, seen: list[str]) -> None:
        self.name, self.seen = name, seen

    async def __call__(self, make_request: Any, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.seen.append(self.name)
        return await make_request(bot, method)


async def test_each_call_goes_through_the_middlewares_registered_now() -> None:
    """The chain of middlewares is kept between calls, and made again when they change."""
    session, seen = JsonRequestSession(api=API), []
    bot = _bot(session)

    async def answered(bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        seen.append(f"sent {timeout}")
        return True

    session.make_request = answered  # type: ignore[method-assign]
    first = session.middleware(_Tag("first", seen))
    await session(bot, GetMe())
    session.middleware(_Tag("second", seen))
    await session(bot, GetMe())
    session.middleware.unregister(first)
    await session(bot, GetMe())
    await session(bot, GetMe(), timeout=5)
    assert seen == [
        "first",
        "sent None",
        "first",
        "second",
        "sent None",
        "second",
        "sent None",
        "second",
        "sent 5",
    ]

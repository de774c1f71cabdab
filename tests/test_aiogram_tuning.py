"""The Bot API session of `bot.aiogram_tuning`: aiogram's, with one TLS context per process; and\naiogram's objects, validated with one post-init call each."""

from __future__ import annotations

import gc
import weakref

from aiogram import Bot
from aiogram.client.context_controller import BotContextController
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import GetMyDescription, SendMessage
from aiogram.methods.base import Response
from aiogram.types import BotDescription, Message, Update

from bot.aiogram_tuning import _FLATTENED, JsonRequestSession, _attach_bot, flatten_bot_context, tls_context

API = TelegramAPIServer.from_base("https://api.telegram.org")


def test_the_session_has_what_aiogram_sets_up() -> None:
    """`JsonRequestSession.__init__` stands in for aiogram's: the same attributes (an aiogram
    upgrade that adds one fails here; `_chain` is ours), the same pool limits."""
    ours, aiograms = JsonRequestSession(api=API), AiohttpSession(api=API)
    assert set(vars(ours)) - {"_chain"} == set(vars(aiograms))
    assert {
        key: value for key, value in aiograms._connector_init.items() if key != "ssl"
    } == ours._connector_init
    assert ours.api == aiograms.api and ours.timeout == aiograms.timeout


async def test_every_session_uses_the_one_tls_context() -> None:
    first, second = JsonRequestSession(api=API), JsonRequestSession(api=API)
    try:
        pools = [(await session.create_session()).connector for session in (first, second)]
        assert pools[0] is not pools[1]
        assert all(pool._ssl is tls_context() for pool in pools)  # type: ignore[union-attr]
        aiograms = AiohttpSession(api=API)._connector_init["ssl"]  # the same certificates, checked alike
        assert tls_context().cert_store_stats() == aiograms.cert_store_stats()
        assert (tls_context().verify_mode, tls_context().check_hostname) == (
            aiograms.verify_mode,
            aiograms.check_hostname,
        )
    finally:
        await first.close()
        await second.close()


def _bots(item: object) -> list[tuple[str, object]]:
    """Every aiogram object in `item` (nested fields, lists) with its private attributes."""
    found: list[tuple[str, object]] = []
    if isinstance(item, BotContextController):
        found.append((type(item).__name__, item.__pydantic_private__))
        for name in type(item).model_fields:
            found += _bots(getattr(item, name))
    elif isinstance(item, list | tuple):
        for each in item:
            found += _bots(each)
    return found


def _validated(bot: Bot) -> list[tuple[str, object]]:
    """What validation and construction leave on aiogram objects: an update and a sent message
    from JSON (with and without the bot in the context), a method built, a method bound."""
    update = {
        "update_id": 7,
        "message": {
            "message_id": 3,
            "date": 1796547804,
            "chat": {"id": 42, "type": "private", "first_name": "Ana"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ana", "language_code": "fr"},
            "text": "/help now",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            "reply_markup": {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
            "some_future_field": {"x": 1},
        },
    }
    sent = {"ok": True, "result": {**update["message"], "from": {"id": 1, "is_bot": True, "first_name": "B"}}}
    method = SendMessage(chat_id=42, text="hi")
    bound = SendMessage(chat_id=42, text="hi").as_(bot)
    response = Response[Message].model_validate(sent, context={"bot": bot})
    return [
        *_bots(Update.model_validate(update, context={"bot": bot})),
        *_bots(Update.model_validate(update)),
        *_bots(Update.model_validate(update, context={})),
        *_bots(response.result),
        ("sent.bot is bot", response.result.bot is bot),
        *_bots(method),
        *_bots(bound),
        ("revalidated", Message.model_validate(response.result, context={"bot": None}).bot is bot),
    ]


def test_flattened_post_init_leaves_what_pydantics_chain_left() -> None:
    """`flatten_bot_context` changes what aiogram objects cost, not what they hold: the same
    private attributes on every nested object as pydantic's chain of wrappers left."""
    bot = Bot("123456:ABC")
    flatten_bot_context()  # as an App does (perhaps already done in this process)
    assert Message.model_post_init is _attach_bot and BotContextController.model_post_init is _attach_bot
    flattened = _validated(bot)
    saved = {cls: cls.__dict__["model_post_init"] for cls in _FLATTENED}
    try:
        for cls, before in _FLATTENED.items():
            cls.model_post_init = before  # type: ignore[method-assign]
        assert Message.model_post_init is not _attach_bot
        assert flattened == _validated(bot)
    finally:
        for cls, now in saved.items():
            cls.model_post_init = now  # type: ignore[method-assign]
    assert len(flattened) > 20 and ("sent.bot is bot", True) in flattened
    assert flatten_bot_context() == 0  # idempotent


def _answered(session: JsonRequestSession, bot: Bot) -> weakref.ref[type]:
    """A weak reference to the response type `getMyDescription` is validated with, after one
    answer (built inside a function, as a call does: pydantic keeps no strong reference)."""
    checked = session.check_response(
        bot, GetMyDescription(), 200, '{"ok": true, "result": {"description": "d"}}'
    )
    assert isinstance(checked.result, BotDescription) and checked.result.description == "d"
    return weakref.ref(type(checked))


def test_response_types_stay_built() -> None:
    """The garbage collector does not take a response type back: the next call of the method
    does not build it again."""
    session = JsonRequestSession(api=API)
    pinned = _answered(session, Bot("123456:ABC", session=session))
    gc.collect()
    assert pinned() is not None and pinned() is Response[BotDescription]

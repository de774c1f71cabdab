"""Request middlewares of the replies Bot: one place for what every handler would otherwise repeat.

- `EditOutcomeMiddleware`: an edit Telegram refuses because the message already shows it (400
  "message is not modified", a double tap on a one-shot button) is done, not an error: logged at
  debug, answered with True (every edit method of the Bot API may return True, and handlers do not
  use the result). An `editMessageText` on a message that cannot carry the text — a document or a
  photo ("there is no text in the message to edit"), a message Telegram no longer lets the bot
  edit ("message can't be edited") — in a private chat sends the text as a new message instead:
  the member pressed a button and gets its answer. In groups the error stays an error (a refreshed
  group card must not be posted again). An `answerCallbackQuery` Telegram refuses because the
  query is too old (a button pressed before a restart, answered after it) is done as well: the
  member's spinner has long stopped, there is nothing to apologize for.
- `ReplyBudgetMiddleware`: each message sent to a chat books a slot in the chat's budget, shared
  with the delivery engine (`bot.delivery.ratelimit.ChatBudget`), and waits for it, so a member
  who taps quickly while the outbox writes to them does not push the chat over Telegram's limit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    CopyMessages,
    EditMessageCaption,
    EditMessageLiveLocation,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    ForwardMessage,
    ForwardMessages,
    SendAnimation,
    SendAudio,
    SendContact,
    SendDice,
    SendDocument,
    SendLocation,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SendPoll,
    SendSticker,
    SendVenue,
    SendVideo,
    SendVideoNote,
    SendVoice,
    StopMessageLiveLocation,
)

from bot.delivery.ratelimit import ChatBudget
from bot.logs import log_event
from bot.request_types import Method, Next, Result

log = logging.getLogger(__name__)

# Edit methods whose result may be True (Message | bool in the Bot API).
EDITS = (
    EditMessageText,
    EditMessageCaption,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageLiveLocation,
    StopMessageLiveLocation,
)
NOT_MODIFIED = "message is not modified"
QUERY_TOO_OLD = "query is too old"
NOT_EDITABLE = ("there is no text in the message to edit", "message can't be edited")
# Methods that put a new message in a chat: what Telegram's flood control counts.
SENDS = (
    SendMessage,
    SendPhoto,
    SendDocument,
    SendPoll,
    SendAudio,
    SendVideo,
    SendAnimation,
    SendVoice,
    SendVideoNote,
    SendSticker,
    SendLocation,
    SendVenue,
    SendContact,
    SendDice,
    SendMediaGroup,
    CopyMessage,
    ForwardMessage,
    CopyMessages,
    ForwardMessages,
)


class EditOutcomeMiddleware(BaseRequestMiddleware):
    async def __call__(self, make_request: Next, bot: Bot, method: Method) -> Result:
        if isinstance(method, AnswerCallbackQuery):
            try:
                return await make_request(bot, method)
            except TelegramBadRequest as error:
                if QUERY_TOO_OLD not in error.message.lower():
                    raise
                log.debug("callback_query_too_old")
                return True  # type: ignore[return-value]
        if not isinstance(method, EDITS):
            return await make_request(bot, method)
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            text = error.message.lower()
            if NOT_MODIFIED in text:
                log.debug("edit_not_modified method=%s", type(method).__name__)
                return True  # type: ignore[return-value]  # what make_request returns: the result
            if isinstance(method, EditMessageText) and any(reason in text for reason in NOT_EDITABLE):
                chat_id = method.chat_id
                if isinstance(chat_id, int) and chat_id > 0 and method.inline_message_id is None:
                    log_event(log, "edit_sent_as_new", reason=text.removeprefix("bad request: ")[:40])
                    return await bot(_as_new_message(method, chat_id))  # type: ignore[return-value]
            raise


def _as_new_message(edit: EditMessageText, chat_id: int) -> SendMessage:
    return SendMessage(
        chat_id=chat_id,
        text=edit.text,
        business_connection_id=edit.business_connection_id,
        parse_mode=edit.parse_mode,
        entities=edit.entities,
        link_preview_options=edit.link_preview_options,
        reply_markup=edit.reply_markup,
    )


class ReplyBudgetMiddleware(BaseRequestMiddleware):
    def __init__(self, budget: ChatBudget) -> None:
        self.budget = budget

    async def __call__(self, make_request: Next, bot: Bot, method: Method) -> Result:
        chat_id = getattr(method, "chat_id", None) if isinstance(method, SENDS) else None
        if not isinstance(chat_id, int):  # not a message, or a channel named by @username
            return await make_request(bot, method)
        delay = max(self.budget.reserve_reply(chat_id) for _ in range(_messages(method)))
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:  # the outbox waits too
            self.budget.hold(chat_id, error.retry_after)
            raise


def _messages(method: Any) -> int:
    """How many messages a call puts in the chat (an album: one per item). A field the method
    does not declare is not looked up: pydantic raises (and `getattr` swallows) an AttributeError
    for it, some 5 µs of every reply."""
    fields = type(method).model_fields
    for name in ("media", "message_ids"):
        items = getattr(method, name) if name in fields else None
        if isinstance(items, list):
            return max(1, len(items))
    return 1

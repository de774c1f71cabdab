"""The request middlewares of the replies Bot (`bot.reply_requests`), called as the session calls
them: the chat budget books one slot per message a call puts in the chat."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import CopyMessages, ForwardMessages, SendMediaGroup, SendMessage, TelegramMethod
from aiogram.types import InputMediaPhoto

from bot.delivery.ratelimit import ChatBudget
from bot.reply_requests import ReplyBudgetMiddleware

CHAT = 5
INTERVAL = 10.0  # long enough that the test's own run time does not show in the slots


@pytest.mark.parametrize(
    ("method", "messages"),
    [
        (SendMessage(chat_id=CHAT, text="hi"), 1),
        (SendMediaGroup(chat_id=CHAT, media=[InputMediaPhoto(media=f"photo-{i}") for i in range(3)]), 3),
        (CopyMessages(chat_id=CHAT, from_chat_id=9, message_ids=[1, 2]), 2),
        (ForwardMessages(chat_id=CHAT, from_chat_id=9, message_ids=[1, 2, 3, 4]), 4),
    ],
)
async def test_each_message_of_a_call_books_a_slot(method: TelegramMethod[Any], messages: int) -> None:
    budget = ChatBudget(interval=INTERVAL, reply_burst=messages + 1)  # no wait for the call itself
    sent: list[TelegramMethod[Any]] = []

    async def make_request(bot: Bot, method: TelegramMethod[Any]) -> Any:
        sent.append(method)
        return True

    await ReplyBudgetMiddleware(budget)(make_request, Bot("123456:ABC"), method)
    assert sent == [method]
    assert round(budget.reserve(CHAT) / INTERVAL) == messages  # the next message waits for them all

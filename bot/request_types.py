"""Short names for the signature every request middleware of the bot's sessions shares
(`bot.commit_before_send`, `bot.reply_requests`, `bot.telegram_retry`): aiogram's generic types,
spelled once."""

from __future__ import annotations

from typing import Any, TypeAlias

from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response

Next: TypeAlias = NextRequestMiddlewareType[Any]
Method: TypeAlias = TelegramMethod[Any]
Result: TypeAlias = Response[Any]

"""The baseline of `bench.updates`: a bare aiogram echo bot (no database, no middleware), long polling
the Bot API at TELEGRAM_API_URL with BOT_TOKEN. A message is answered with its own text, a button
press with its callback data as the toast.

    BOT_TOKEN=… TELEGRAM_API_URL=http://127.0.0.1:8081 .venv/bin/python -m bench.echo_bot
"""

from __future__ import annotations

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    @dispatcher.callback_query()
    async def toast(query: CallbackQuery) -> None:
        await query.answer(query.data or "")

    await dispatcher.start_polling(bot, handle_signals=True)


if __name__ == "__main__":
    asyncio.run(main())

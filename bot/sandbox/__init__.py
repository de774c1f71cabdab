"""A faithful local Telegram Bot API emulator for end-to-end tests and benchmarks.

Usage::

    emu = BotAPIEmulator(token="123456:TEST", limits=Limits(flood_control=False))
    base_url = await emu.start()  # give aiogram TelegramAPIServer.from_base(base_url)
    amina = emu.create_user("Amina", language_code="ar")
    await emu.send_text(amina, "/start")
    reply = await emu.next_bot_message(amina)
    await emu.stop()
"""

from bot.telegram_html import EntityParseError, parse_html

from .emulator import BotAPIEmulator
from .entities import utf16_len
from .media import tiny_png
from .rules import ApiError, Faults, Limits
from .state import ApiCall, SimChat, SimUser

__all__ = [
    "ApiCall",
    "ApiError",
    "BotAPIEmulator",
    "EntityParseError",
    "Faults",
    "Limits",
    "SimChat",
    "SimUser",
    "parse_html",
    "tiny_png",
    "utf16_len",
]

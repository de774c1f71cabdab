"""The delivery engine: every message that is not a direct reply goes through the outbox.

`outbox` claims due rows atomically and records outcomes; `ratelimit` keeps the bot under
Telegram's limits; `engine` drains the outbox; `progress` keeps organizers informed.
"""

from bot.delivery.engine import DeliveryEngine, EngineConfig

__all__ = ["DeliveryEngine", "EngineConfig"]

"""The global error handler: log with the update id, apologise in the member's language, go on."""

from __future__ import annotations

import logging
from typing import Any, Final

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent

from bot.i18n import _
from bot.logs import log_event

router: Final[Router] = Router(name=__name__)
log = logging.getLogger("bot.errors")


@router.errors()
async def on_error(event: ErrorEvent, bot: Bot, **data: Any) -> bool:
    update = event.update
    log.error(
        "handler_failed",
        exc_info=event.exception,
        extra={
            "fields": {
                "update_id": update.update_id,
                "type": update.event_type,
                "error": type(event.exception).__name__,
            }
        },
    )
    trace = data.get("trace")
    if isinstance(trace, dict):
        trace["outcome"] = "error"
    chat = data.get("event_chat")
    if chat is None or chat.type != "private":
        return True
    try:
        await bot.send_message(
            chat.id, _("😕 Sorry, something went wrong on my side. Please try again in a moment.")
        )
    except TelegramAPIError as error:
        log_event(
            log,
            "apology_undelivered",
            logging.WARNING,
            update_id=update.update_id,
            error=type(error).__name__,
        )
    return True

"""Filters shared by routers."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import TelegramObject

from storage.models import Member


class IsRegistered(Filter):
    """The sender has consented and not erased their data. Others fall through to the fallback,
    which tells them how to join."""

    async def __call__(self, event: TelegramObject, member: Member | None = None, **_: Any) -> bool:
        return member is not None and member.is_registered


def members_router(name: str) -> Router:
    """A router for registered members: their commands in a private chat, and their buttons."""
    router = Router(name=name)
    router.message.filter(F.chat.type == "private", IsRegistered())
    router.callback_query.filter(IsRegistered())
    return router

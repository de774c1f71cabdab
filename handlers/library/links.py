"""The share link of a resource: `https://t.me/<bot>?start=res_<id>`."""

from __future__ import annotations

from aiogram import Bot


async def share_link(bot: Bot, resource_id: int) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start=res_{resource_id}"

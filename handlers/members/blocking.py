"""`my_chat_member`: a member blocking or unblocking the bot in their private chat."""

from __future__ import annotations

from typing import Final

from aiogram import F, Router
from aiogram.filters import KICKED, MEMBER, ChatMemberUpdatedFilter
from aiogram.types import ChatMemberUpdated
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.policy import Action, rights
from bot.services.members import set_blocked

router: Final[Router] = Router(name=__name__)
router.my_chat_member.filter(F.chat.type == "private")


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=KICKED), flags=rights(Action.PUBLIC))
async def bot_blocked(event: ChatMemberUpdated, session: AsyncSession) -> None:
    await set_blocked(session, event.from_user.id, blocked=True)


@router.my_chat_member(ChatMemberUpdatedFilter(member_status_changed=MEMBER), flags=rights(Action.PUBLIC))
async def bot_unblocked(event: ChatMemberUpdated, session: AsyncSession) -> None:
    await set_blocked(session, event.from_user.id, blocked=False)

"""Joint positions on the delivery engine, rendered at send time in the reader's language: the
request to each admin of an organization asked (with "✅ Endorse on behalf of ‹organization›" and
"❌ Decline"), and the drafter's notice at each endorsement, with every endorsing organization so
far. A request whose position no longer takes answers is not sent, nor a notice of an endorsement
taken back before it went out."""

from __future__ import annotations

from typing import Any

from aiogram.methods import SendMessage, TelegramMethod
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Claimed
from bot.services.positions.endorsements import endorsing, is_open, request_of
from bot.views.positions import endorsed_text, request_keyboard, request_text
from storage.models import Member, Organization, Position, PositionEndorsement
from storage.types import utcnow


class PositionDelivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: I18n) -> None:
        self.sessions = sessions
        self.i18n = i18n

    async def _zone(self, session: AsyncSession, row: Claimed, organization: Organization | None) -> str:
        member = await session.get(Member, row.member_id) if row.member_id else None
        return (member.timezone if member else None) or (organization.timezone if organization else "UTC")

    async def render_request(self, row: Claimed) -> TelegramMethod[Any] | None:
        async with self.sessions() as session:
            endorsement = await session.get(PositionEndorsement, int(row.payload.get("endorsement_id") or 0))
            request = await request_of(session, endorsement) if endorsement is not None else None
            if request is None or not is_open(request.position, utcnow()):
                return None
            zone = await self._zone(session, row, request.asked)
        with self.i18n.context(), self.i18n.use_locale(row.language):
            text = request_text(request, row.language, zone)
            keyboard = request_keyboard(request, row.language)
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=keyboard)

    async def render_endorsed(self, row: Claimed) -> TelegramMethod[Any] | None:
        async with self.sessions() as session:
            position = await session.get(Position, int(row.payload.get("position_id") or 0))
            if position is None:
                return None
            endorser = await session.get(Organization, int(row.payload.get("endorser_id") or 0))
            organizations = await endorsing(session, position.id or 0)
        if endorser is None or endorser.id not in {item.id for item in organizations}:
            return None  # it changed its answer before this notice went out
        with self.i18n.context(), self.i18n.use_locale(row.language):
            text = endorsed_text(position, endorser, organizations, row.language)
        return SendMessage(chat_id=row.chat_id, text=text)

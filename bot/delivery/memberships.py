"""Join requests on the delivery engine: the request each admin gets and the member's answer,
rendered from the database at send time in the reader's language. A request decided or withdrawn
before its notice went out is no longer sent to the admins."""

from __future__ import annotations

from typing import Any

from aiogram.methods import SendMessage, TelegramMethod
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Claimed
from bot.views.memberships import decision_text, request_keyboard, request_text
from storage.models import JoinRequest, JoinRequestStatus, Member, Organization, OrgStatus


class MembershipDelivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: I18n) -> None:
        self.sessions = sessions
        self.i18n = i18n

    async def _load(self, row: Claimed) -> tuple[JoinRequest, Organization, Member | None] | None:
        async with self.sessions() as session:
            request = await session.get(JoinRequest, int(row.payload.get("request_id") or 0))
            if request is None:
                return None
            organization = await session.get(Organization, request.organization_id)
            if organization is None or organization.status != OrgStatus.ACTIVE:
                return None  # nothing goes out on behalf of a suspended or archived organization
            return request, organization, await session.get(Member, request.member_id)

    async def render_request(self, row: Claimed) -> TelegramMethod[Any] | None:
        loaded = await self._load(row)
        if loaded is None or loaded[0].status != JoinRequestStatus.PENDING:
            return None
        request, organization, applicant = loaded
        with self.i18n.context(), self.i18n.use_locale(row.language):
            text = request_text(organization, applicant, row.language)
            keyboard = request_keyboard(request.id or 0)
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=keyboard)

    async def render_decision(self, row: Claimed) -> TelegramMethod[Any] | None:
        loaded = await self._load(row)
        if loaded is None:
            return None
        approved = bool(row.payload.get("approved"))
        with self.i18n.context(), self.i18n.use_locale(row.language):
            text = decision_text(loaded[1], approved, row.language)
        return SendMessage(chat_id=row.chat_id, text=text)

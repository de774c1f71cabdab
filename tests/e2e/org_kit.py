"""Givens of the membership tests: organizations inserted as rows (the staff's management dialogs
are another capability's), a member's memberships and roles, the audit and the outbox."""

from __future__ import annotations

import secrets
from typing import Any

from sqlmodel import col, select

from bot.sandbox import SimUser
from bot.services.roles import slugify
from storage.db import create_session_factory
from storage.models import (
    AuditEntry,
    DeliveryStatus,
    JoinRequest,
    Member,
    Membership,
    Organization,
    OutboxMessage,
    Role,
)
from tests.e2e.conftest import Harness


async def seed_org(harness: Harness, name: str, **fields: Any) -> Organization:
    """An organization row (listed, open, active unless `fields` say otherwise)."""
    values: dict[str, Any] = {
        "slug": slugify(name) + "-" + secrets.token_hex(2),
        "name": name,
        "invite_code": secrets.token_urlsafe(9),
    } | fields
    async with create_session_factory(harness.app.engine)() as session:
        organization = Organization(**values)
        session.add(organization)
        await session.commit()
        await session.refresh(organization)
        return organization


async def member_of(harness: Harness, user: SimUser) -> Member:
    async with create_session_factory(harness.app.engine)() as session:
        return (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()


async def add_to(
    harness: Harness, user: SimUser, organization: Organization, role: Role = Role.MEMBER
) -> None:
    """The (registered) user belongs to the organization with `role`."""
    member = await member_of(harness, user)
    async with create_session_factory(harness.app.engine)() as session:
        session.add(Membership(organization_id=organization.id, member_id=member.id, role=role))
        await session.commit()


async def organizations_of(harness: Harness, user: SimUser) -> set[int]:
    member = await member_of(harness, user)
    async with create_session_factory(harness.app.engine)() as session:
        rows = await session.exec(select(Membership.organization_id).where(Membership.member_id == member.id))
        return set(rows.all())


async def audit_trail(harness: Harness) -> list[AuditEntry]:
    async with create_session_factory(harness.app.engine)() as session:
        return list((await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all())


async def requests(harness: Harness) -> list[JoinRequest]:
    async with create_session_factory(harness.app.engine)() as session:
        return list((await session.exec(select(JoinRequest).order_by(col(JoinRequest.id)))).all())


async def outbox_of(harness: Harness, user: SimUser) -> list[tuple[str, DeliveryStatus]]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = await session.exec(
            select(OutboxMessage.kind, OutboxMessage.status)
            .where(OutboxMessage.chat_id == user.id)
            .order_by(col(OutboxMessage.id))
        )
        return [(kind, DeliveryStatus(status)) for kind, status in rows.all()]


def texts_to(harness: Harness, user: SimUser) -> list[str]:
    """Everything the bot sent the user, texts and captions, oldest first."""
    return [
        message.get("text") or message.get("caption") or ""
        for message in harness.emulator.transcript(user.id)
        if message["outgoing"]
    ]

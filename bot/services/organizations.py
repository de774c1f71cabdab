"""An organization's settings, changed by its admins; every change is written to the audit log."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.roles import Actor
from storage.models import AuditEntry, Organization


async def get_organization(session: AsyncSession, organization_id: int) -> Organization | None:
    return await session.get(Organization, organization_id)


async def set_quiet_hours(
    session: AsyncSession, actor: Actor, organization_id: int, start: int, end: int
) -> Organization | None:
    """Quiet hours in minutes after midnight of each member's own clock (start == end: off)."""
    organization = await session.get(Organization, organization_id)
    if organization is None:
        return None
    organization.quiet_start, organization.quiet_end = start, end
    session.add(organization)
    session.add(
        AuditEntry(
            actor_telegram_id=actor.telegram_id,
            action="organization.quiet_hours",
            organization_id=organization.id,
            details={"start": start, "end": end},
        )
    )
    await session.flush()
    return organization


def organization_text(organization: Organization, field: str, language: str | None) -> str:
    """The organization's `field` ("name", "description") in `language` when its staff translated
    it, else as written."""
    translated: Any = (organization.translations or {}).get(language or "", {})
    value = translated.get(field) if isinstance(translated, dict) else None
    if isinstance(value, str) and value.strip():
        return value
    return str(getattr(organization, field) or "")

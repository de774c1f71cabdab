"""Invite links `t.me/<bot>?start=org_<code>`: the organization a code names, and the slowing down
of someone who tries codes (the attempts are kept with their dialog state)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Organization, OrgStatus

WRONG_CODES_ALLOWED: Final = 5  # wrong codes within the window before a pause
WRONG_CODES_WINDOW: Final = 600.0  # seconds


async def by_invite_code(session: AsyncSession, code: str) -> Organization | None:
    """The organization whose current code this is (None for an unknown, rotated or archived one)."""
    if not code:
        return None
    result = await session.exec(select(Organization).where(Organization.invite_code == code))
    organization = result.first()
    if organization is None or organization.status == OrgStatus.ARCHIVED:
        return None
    return organization


def recent_failures(failures: Sequence[float], now: float) -> list[float]:
    """The wrong codes of the window (older ones are forgotten)."""
    return [moment for moment in failures if now - moment < WRONG_CODES_WINDOW]


def wait_seconds(failures: Sequence[float], now: float) -> int:
    """How long someone who tried these wrong codes waits before a code is checked again (0: not)."""
    recent = sorted(recent_failures(failures, now))
    if len(recent) < WRONG_CODES_ALLOWED:
        return 0
    return max(1, int(recent[-WRONG_CODES_ALLOWED] + WRONG_CODES_WINDOW - now))

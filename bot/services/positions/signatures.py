"""Members' names under a joint position, given after a consent text: signing (one row per
member; what the consent showed — the display name and the country of residence — is copied into
the row), withdrawing before the deadline, what /mydata lists, what /forget erases, the daily purge
once `keep_until` has passed, and the counts the cards show. The caller has checked that the member
may see the position (`visibility.visible_position`). No Telegram here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logs import log_event
from storage.models import Member, Position, PositionSignature, PositionStatus
from storage.types import utcnow

log = logging.getLogger(__name__)
PURGE_CHECK_SECONDS = 24 * 3600  # once a day (and a few minutes after each start)
FIRST_PURGE_SECONDS = 240


class Outcome(StrEnum):
    SIGNED = "signed"
    ALREADY = "already"  # a second tap: nothing changes
    WITHDRAWN = "withdrawn"
    NOT_SIGNED = "not_signed"  # nothing to withdraw
    NOT_COLLECTED = "not_collected"  # the position does not collect members' names
    CLOSED = "closed"  # closed or withdrawn by its drafter
    PAST_DEADLINE = "past_deadline"
    NO_NAME = "no_name"  # the member has no display name to add


@dataclass(frozen=True)
class Shared:
    """What signing shares: shown in the consent text, then copied as shown."""

    display_name: str
    country: str | None


def shared(member: Member) -> Shared:
    return Shared((member.display_name or "").strip(), member.residence_country)


def _changeable(position: Position, now: datetime) -> Outcome | None:
    """Why names can no longer be added or withdrawn, or None while they can."""
    if position.status != PositionStatus.OPEN:
        return Outcome.CLOSED
    if position.deadline is not None and now >= position.deadline:
        return Outcome.PAST_DEADLINE
    return None


def signing_refusal(position: Position, now: datetime) -> Outcome | None:
    """Why a member cannot add their name now (None: they can); NOT_COLLECTED only while names
    could still change (a signed member may then still withdraw)."""
    refusal = _changeable(position, now)
    if refusal is None and not position.signatures_open:
        return Outcome.NOT_COLLECTED
    return refusal


async def signature(session: AsyncSession, position_id: int, member_id: int) -> PositionSignature | None:
    result = await session.exec(
        select(PositionSignature).where(
            PositionSignature.position_id == position_id, PositionSignature.member_id == member_id
        )
    )
    return result.first()


async def consent_refusal(
    session: AsyncSession, position: Position, member: Member, now: datetime
) -> Outcome | None:
    """Why the consent text is not shown, or the name not added: names not collected, the
    position not open, the deadline passed, the name already there (ALREADY), no name to add."""
    refusal = signing_refusal(position, now)
    if refusal is None and await signature(session, position.id or 0, member.id or 0) is not None:
        refusal = Outcome.ALREADY
    if refusal is None and not shared(member).display_name:
        refusal = Outcome.NO_NAME
    return refusal


async def sign(session: AsyncSession, position: Position, member: Member, now: datetime) -> Outcome:
    """Add the member's name (with their consent, given by the caller), copying what the consent
    text showed; else why not (`consent_refusal`; ALREADY on a second tap)."""
    refusal = await consent_refusal(session, position, member, now)
    if refusal is not None:
        return refusal
    what = shared(member)
    row = PositionSignature(
        position_id=position.id or 0,
        member_id=member.id or 0,
        display_name=what.display_name[:64],
        country=what.country,
        consented_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a double tap raced this one
        return Outcome.ALREADY
    return Outcome.SIGNED


async def withdraw(session: AsyncSession, position: Position, member_id: int, now: datetime) -> Outcome:
    """Remove the member's name, until the deadline (after it, their name was submitted)."""
    refusal = _changeable(position, now)
    if refusal is not None:
        return refusal
    row = await signature(session, position.id or 0, member_id)
    if row is None:
        return Outcome.NOT_SIGNED
    await session.delete(row)
    await session.flush()
    return Outcome.WITHDRAWN


async def signature_count(session: AsyncSession, position_id: int) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(PositionSignature)
        .where(PositionSignature.position_id == position_id)
    )
    return int(result.one())


async def member_signatures(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """For /mydata: each position the member signed, with what was copied and until when it is kept."""
    result = await session.exec(
        select(PositionSignature, Position)
        .join(Position, col(Position.id) == col(PositionSignature.position_id))
        .where(PositionSignature.member_id == member_id)
        .order_by(col(PositionSignature.consented_at))
    )
    return [
        {
            "position_id": position.id,
            "title": position.title,
            "addressee": position.addressee,
            "signed_at": row.consented_at.isoformat(),
            "display_name": row.display_name,
            "residence_country": row.country,
            "kept_until": position.keep_until.isoformat() if position.keep_until else None,
        }
        for row, position in result.all()
    ]


async def erase_member_signatures(session: AsyncSession, member_id: int) -> int:
    """/forget (and retention): every name the member added, gone; how many."""
    statement = delete(PositionSignature).where(col(PositionSignature.member_id) == member_id)
    result = await session.exec(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)


async def erase_position_signatures(session: AsyncSession, position_id: int) -> int:
    """A withdrawn position: nothing was submitted, so every name under it goes now; how many."""
    statement = delete(PositionSignature).where(col(PositionSignature.position_id) == position_id)
    result = await session.exec(statement)  # type: ignore[call-overload]
    return int(result.rowcount or 0)


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete the signatures of positions whose `keep_until` has passed; how many."""
    expired = select(Position.id).where(
        col(Position.keep_until).is_not(None), col(Position.keep_until) <= now
    )
    result = await session.exec(
        delete(PositionSignature).where(col(PositionSignature.position_id).in_(expired))  # type: ignore[call-overload]
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def run_purge(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Scheduler job: one purge in its own transaction, logged with its count (idempotent)."""
    async with sessions() as session:
        count = await purge_expired(session, utcnow())
        await session.commit()
    log_event(log, "position_signatures_purged", count=count)

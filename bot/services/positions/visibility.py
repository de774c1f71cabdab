"""Which joint positions a member may see: published ones (open or closed, never drafts nor
withdrawn ones) asked of an organization they belong to, or asked of every organization (target
ALL: every registered member). Anything else — a draft, another organization's position, a forged
id — is None, so a card or a deep link never tells it exists. No Telegram here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.positions.signatures import signature, signature_count
from bot.services.rows import Page
from storage.models import (
    EndorsementDecision,
    Member,
    Membership,
    Organization,
    Position,
    PositionEndorsement,
    PositionSignature,
    PositionStatus,
    PositionTarget,
)

PAGE_SIZE = 6
SHOWN = (PositionStatus.OPEN, PositionStatus.CLOSED)


@dataclass(frozen=True)
class PositionFacts:
    """What a member's card shows besides the position itself."""

    drafter: Organization | None
    endorsers: list[Organization]
    signatures: int  # members' names under it
    mine: PositionSignature | None  # the reader's own


def _visible_to(member_id: int) -> Any:
    """Published, and asked of every organization or of one the member belongs to."""
    asked_mine = exists().where(
        col(PositionEndorsement.position_id) == col(Position.id),
        col(PositionEndorsement.organization_id).in_(
            select(Membership.organization_id).where(Membership.member_id == member_id)
        ),
    )
    return col(Position.status).in_(SHOWN) & or_(col(Position.target) == PositionTarget.ALL, asked_mine)


def _may_see(member: Member) -> bool:
    return member.id is not None and member.is_registered


def reads_in(position: Position, language: str) -> bool:
    """Whether the position is written, or translated, in `language`."""
    return position.language == language or isinstance((position.translations or {}).get(language), dict)


async def visible_position(session: AsyncSession, member: Member, position_id: int) -> Position | None:
    """The position if the member may see it; None for anything else (a draft, a withdrawn one,
    one not asked of their organizations, a forged id)."""
    if not _may_see(member) or not 0 < position_id < 2**31:
        return None
    result = await session.exec(
        select(Position).where(Position.id == position_id, _visible_to(member.id or 0))
    )
    return result.first()


async def visible_page(
    session: AsyncSession, member: Member, language: str, page: int = 0, limit: int = PAGE_SIZE
) -> Page[Position]:
    """Page `page` (from 0) of what the member may see: those they can read in `language` first; within each,
    open ones first (the nearest deadline first), then closed ones (the latest first). Positions
    are few (a confederation's statements), so the order is made here rather than in SQL."""
    if not _may_see(member):
        return Page((), 0, 0)
    result = await session.exec(select(Position).where(_visible_to(member.id or 0)))
    rows = list(result.all())
    never = float("inf")

    def order(position: Position) -> tuple[bool, bool, float]:
        moment = position.deadline.timestamp() if position.deadline else never
        is_open = position.status == PositionStatus.OPEN
        return (not reads_in(position, language), not is_open, moment if is_open else -moment)

    rows.sort(key=lambda position: (*order(position), -(position.id or 0)))
    offset = max(0, min(page, (len(rows) - 1) // limit)) * limit  # a page gone: the last one
    return Page(rows[offset : offset + limit], len(rows), offset)


async def endorsement_counts(session: AsyncSession, position_ids: Sequence[int]) -> dict[int, int]:
    """How many organizations endorse each position."""
    if not position_ids:
        return {}
    result = await session.exec(
        select(PositionEndorsement.position_id, func.count())
        .where(
            col(PositionEndorsement.position_id).in_(list(position_ids)),
            PositionEndorsement.decision == EndorsementDecision.ENDORSED,
        )
        .group_by(col(PositionEndorsement.position_id))
    )
    return {position_id: count for position_id, count in result.all()}


async def endorsing_organizations(session: AsyncSession, position_id: int) -> list[Organization]:
    """The organizations that endorse the position, in the order they did."""
    result = await session.exec(
        select(Organization)
        .join(PositionEndorsement, col(PositionEndorsement.organization_id) == col(Organization.id))
        .where(
            PositionEndorsement.position_id == position_id,
            PositionEndorsement.decision == EndorsementDecision.ENDORSED,
        )
        .order_by(col(PositionEndorsement.decided_at), col(PositionEndorsement.id))
    )
    return list(result.all())


async def card_facts(session: AsyncSession, position: Position, member_id: int) -> PositionFacts:
    """The drafting organization, the endorsing ones, the number of names and the reader's own."""
    position_id = position.id or 0
    return PositionFacts(
        drafter=await session.get(Organization, position.organization_id),
        endorsers=await endorsing_organizations(session, position_id),
        signatures=await signature_count(session, position_id),
        mine=await signature(session, position_id, member_id),
    )

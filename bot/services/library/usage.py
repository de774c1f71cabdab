"""What members do with a resource — open it, save it, say whether it was useful — and the usage
the staff see on its card, with small counts shown as "fewer than N" (the survey breakdowns'
minimum group, `SURVEY_MIN_GROUP`): a count of 1 or 2 saves could point to a person."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Resource, ResourceSave, ResourceView, ResourceVote
from storage.types import utcnow


@dataclass(frozen=True)
class Usage:
    """People who opened the card, saved it, found it useful / not useful."""

    views: int
    saves: int
    useful: int
    not_useful: int


@dataclass(frozen=True)
class Mine:
    """What one member did with a resource (for their card's buttons)."""

    saved: bool
    vote: bool | None


async def _insert_once(session: AsyncSession, row: ResourceView | ResourceSave) -> bool:
    """Insert a (resource, member) row unless it is there; False if it was (a double tap)."""
    try:
        async with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False


async def record_view(session: AsyncSession, resource: Resource, member_id: int) -> None:
    existing = await session.exec(
        select(ResourceView.id).where(
            ResourceView.resource_id == resource.id, ResourceView.member_id == member_id
        )
    )
    if existing.first() is None:
        await _insert_once(session, ResourceView(resource_id=resource.id or 0, member_id=member_id))


async def mine(session: AsyncSession, resource_id: int, member_id: int) -> Mine:
    saved = await session.exec(
        select(ResourceSave.id).where(
            ResourceSave.resource_id == resource_id, ResourceSave.member_id == member_id
        )
    )
    vote = await session.exec(
        select(ResourceVote.useful).where(
            ResourceVote.resource_id == resource_id, ResourceVote.member_id == member_id
        )
    )
    return Mine(saved.first() is not None, vote.first())


async def set_saved(session: AsyncSession, resource: Resource, member_id: int, saved: bool) -> None:
    """⭐ Save / Unsave (idempotent: a second tap of the same button changes nothing)."""
    current = await session.exec(
        select(ResourceSave).where(
            ResourceSave.resource_id == resource.id, ResourceSave.member_id == member_id
        )
    )
    row = current.first()
    if saved and row is None:
        await _insert_once(session, ResourceSave(resource_id=resource.id or 0, member_id=member_id))
    elif not saved and row is not None:
        await session.delete(row)
        await session.flush()


async def vote(session: AsyncSession, resource: Resource, member_id: int, useful: bool) -> None:
    """One vote per member and resource; a new one replaces it."""
    current = await session.exec(
        select(ResourceVote).where(
            ResourceVote.resource_id == resource.id, ResourceVote.member_id == member_id
        )
    )
    row = current.first()
    if row is None:
        row = ResourceVote(resource_id=resource.id or 0, member_id=member_id, useful=useful)
        try:
            async with session.begin_nested():
                session.add(row)
            return
        except IntegrityError:  # the other tap of a double tap won: change its vote instead
            row = (
                await session.exec(
                    select(ResourceVote).where(
                        ResourceVote.resource_id == resource.id, ResourceVote.member_id == member_id
                    )
                )
            ).one()
    row.useful, row.updated_at = useful, utcnow()
    session.add(row)
    await session.flush()


async def usage(session: AsyncSession, resource_id: int) -> Usage:
    async def count(model: type[ResourceView] | type[ResourceSave]) -> int:
        result = await session.exec(
            select(func.count()).select_from(model).where(col(model.resource_id) == resource_id)
        )
        return int(result.one())

    votes = await session.exec(
        select(ResourceVote.useful, func.count())
        .where(ResourceVote.resource_id == resource_id)
        .group_by(col(ResourceVote.useful))
    )
    by_vote = {bool(useful): int(n) for useful, n in votes.all()}
    return Usage(
        await count(ResourceView), await count(ResourceSave), by_vote.get(True, 0), by_vote.get(False, 0)
    )


def shown_count(count: int, min_group: int) -> int | None:
    """The count itself, or None when it is under the small-group threshold (but not zero)."""
    return None if 0 < count < min_group else count

"""The library's usage in a period (issue 18): for the scope's resources, how many people opened
each, saved it, and found it useful or not, counted by when they did it (a view when first opened,
a save when made, a vote when last given). The most opened first.

Each of these counts is a number of people: one under `STATS_MIN_GROUP` comes back as `FEW` (shown
"< 5"), so that "1 👎" cannot point at the one member who is known to have read it. No total of
people is given beside them, so nothing hidden can be worked out by a subtraction."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.stats.period import Period, Scope
from bot.services.suppression import FEW
from storage.models import Resource, ResourceSave, ResourceStatus, ResourceView, ResourceVote

RESOURCES_LISTED = 200  # in the exports; the text shows the first few


@dataclass(frozen=True)
class ResourceUsage:
    resource_id: int
    title: str
    translations: dict[str, Any]  # the resource's, for its title in the viewer's language
    views: int | str  # a count, or `FEW`
    saves: int | str
    useful: int | str
    not_useful: int | str


@dataclass
class LibraryStats:
    published: int = 0  # the scope's resources published now (not people: never suppressed)
    opened: int = 0  # of the scope's resources, how many someone opened in the period
    resources: list[ResourceUsage] = field(default_factory=list)


def _few(count: int, min_group: int) -> int | str:
    return FEW if 0 < count < min_group else count


async def library_stats(session: AsyncSession, scope: Scope, period: Period, min_group: int) -> LibraryStats:
    """Usage per resource of the scope's organizations in the period, small counts as `FEW`."""
    inside = (scope.where(Resource.organization_id),)

    def counted(model: Any, moment: Any, *keys: Any) -> Any:
        return (
            select(col(model.resource_id), *keys, func.count())
            .join(Resource, col(Resource.id) == col(model.resource_id))
            .where(*inside, col(moment) >= period.start, col(moment) < period.end)
            .group_by(col(model.resource_id), *keys)
        )

    views = dict((await session.exec(counted(ResourceView, ResourceView.viewed_at))).all())
    saves = dict((await session.exec(counted(ResourceSave, ResourceSave.created_at))).all())
    votes: Counter[tuple[int, bool]] = Counter()
    for resource_id, useful, count in (
        await session.exec(counted(ResourceVote, ResourceVote.updated_at, col(ResourceVote.useful)))
    ).all():
        votes[(resource_id, bool(useful))] = int(count)
    published = await session.exec(
        select(func.count()).select_from(Resource).where(*inside, Resource.status == ResourceStatus.PUBLISHED)
    )
    stats = LibraryStats(published=int(published.one()), opened=len(views))
    used = {*views, *saves, *(resource_id for resource_id, _ in votes)}
    if not used:
        return stats
    ranked = sorted(
        used,
        key=lambda ident: (-views.get(ident, 0), -saves.get(ident, 0), -votes[(ident, True)], ident),
    )[:RESOURCES_LISTED]
    texts = await session.exec(
        select(Resource.id, Resource.title, Resource.translations).where(col(Resource.id).in_(ranked))
    )
    titles = {ident: (title, translations or {}) for ident, title, translations in texts.all()}
    for ident in ranked:
        title, translations = titles.get(ident, ("", {}))
        stats.resources.append(
            ResourceUsage(
                ident,
                title,
                translations,
                _few(views.get(ident, 0), min_group),
                _few(saves.get(ident, 0), min_group),
                _few(votes[(ident, True)], min_group),
                _few(votes[(ident, False)], min_group),
            )
        )
    return stats

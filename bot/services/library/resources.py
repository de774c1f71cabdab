"""Resources from draft to published, what a member may see, and the pages of /resources:
categories with counts, a category's page, search results (the member's language first)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.library.rules import LibraryError
from bot.services.library.search import match_condition, refresh
from bot.services.membership_cache import memberships
from bot.services.rows import Page
from storage.models import Resource, ResourceKind, ResourceSave, ResourceScope, ResourceStatus
from storage.types import utcnow

PAGE_SIZE = 8


async def member_organizations(session: AsyncSession, member_id: int | None) -> list[int]:
    """The organizations a member belongs to (whatever their role), from the membership cache (no
    statement on a member's next page or card)."""
    if member_id is None:
        return []
    return [held.organization_id for held in await memberships(session, member_id)]


def visible_to(organization_ids: Sequence[int]) -> Any:
    """Published, and addressed to the whole confederation or to one of these organizations."""
    return (col(Resource.status) == ResourceStatus.PUBLISHED) & or_(
        col(Resource.scope) == ResourceScope.CONFEDERATION,
        col(Resource.organization_id).in_(list(organization_ids)),
    )


async def visible_resource(
    session: AsyncSession, resource_id: int, organization_ids: Sequence[int]
) -> Resource | None:
    """The resource if a member of these organizations may open it; None otherwise (a draft, a
    suggestion, another organization's resource, a forged id)."""
    if not 0 < resource_id < 2**31:
        return None
    result = await session.exec(
        select(Resource).where(Resource.id == resource_id, visible_to(organization_ids))
    )
    return result.first()


async def create_draft(
    session: AsyncSession,
    organization_id: int,
    kind: ResourceKind,
    title: str,
    language: str,
    created_by: int | None,
    status: ResourceStatus = ResourceStatus.DRAFT,
) -> Resource:
    resource = Resource(
        organization_id=organization_id,
        kind=kind,
        title=title,
        language=language,
        languages=[language],
        created_by=created_by,
        status=status,
    )
    refresh(resource)
    session.add(resource)
    await session.flush()
    return resource


async def change(session: AsyncSession, resource: Resource, **fields: Any) -> Resource:
    """Set fields of a resource (its search text follows)."""
    for name, value in fields.items():
        setattr(resource, name, value)
    refresh(resource)
    resource.updated_at = utcnow()
    session.add(resource)
    await session.flush()
    return resource


async def edit(
    session: AsyncSession, resource: Resource, actor_telegram_id: int | None, **fields: Any
) -> Resource:
    """`change`, by a staff member: a published resource's change is written to the audit trail
    (`resource.changed`, with the names of the fields changed). Its search text follows, and the
    full-text index with it (SQLite: the FTS triggers; PostgreSQL: the generated tsvector)."""
    await change(session, resource, **fields)
    if resource.status == ResourceStatus.PUBLISHED:
        audit.record(
            session,
            "resource.changed",
            actor_telegram_id=actor_telegram_id,
            organization_id=resource.organization_id,
            details={"resource_id": resource.id, "title": resource.title, "fields": sorted(fields)},
        )
    return resource


async def set_translation(
    session: AsyncSession,
    resource: Resource,
    language: str,
    answers: dict[str, str | None],
    actor_telegram_id: int | None = None,
) -> None:
    entry = {key: value for key, value in answers.items() if value}
    translations = {**resource.translations, language: entry}
    await edit(session, resource, actor_telegram_id, translations=translations)


async def withdraw(session: AsyncSession, resource: Resource, actor_telegram_id: int | None) -> bool:
    """Published → withdrawn (members no longer find or open it; its usage stays), claimed by a
    conditional update and audited (`resource.withdrawn`); False when it was not published."""
    when = utcnow()
    result = await (await session.connection()).execute(
        update(Resource)
        .where(col(Resource.id) == resource.id, col(Resource.status) == ResourceStatus.PUBLISHED)
        .values(status=ResourceStatus.WITHDRAWN, updated_at=when)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.refresh(resource)
    audit.record(
        session,
        "resource.withdrawn",
        actor_telegram_id=actor_telegram_id,
        organization_id=resource.organization_id,
        details={"resource_id": resource.id, "title": resource.title},
    )
    return True


async def publish(session: AsyncSession, resource: Resource, now: datetime | None = None) -> bool:
    """Draft (or suggestion) → published, claimed by a conditional update: a second tap finds
    nothing to claim and gets False."""
    when = now or utcnow()
    result = await (await session.connection()).execute(
        update(Resource)
        .where(
            col(Resource.id) == resource.id,
            col(Resource.status).in_([ResourceStatus.DRAFT, ResourceStatus.SUGGESTED]),
        )
        .values(status=ResourceStatus.PUBLISHED, published_at=when, updated_at=when)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.refresh(resource)
    return True


async def discard(session: AsyncSession, resource: Resource) -> None:
    if resource.status != ResourceStatus.DRAFT:
        raise LibraryError("not_draft")
    await session.delete(resource)
    await session.flush()


async def category_counts(session: AsyncSession, organization_ids: Sequence[int]) -> dict[str, int]:
    result = await session.exec(
        select(Resource.category, func.count())
        .where(visible_to(organization_ids))
        .group_by(col(Resource.category))
    )
    return {str(category): int(count) for category, count in result.all() if category}


async def _dialect(session: AsyncSession) -> str:
    return str((await session.connection()).dialect.name)


async def page(
    session: AsyncSession,
    organization_ids: Sequence[int],
    language: str,
    *,
    category: str | None = None,
    query: str | None = None,
    saved_by: int | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> Page[Resource]:
    """A page of what a member may see: in a category, matching a search (every word, on the
    full-text index), or among their saved ones; resources they can read in `language` first,
    the newest first within each."""
    conditions: list[Any] = [visible_to(organization_ids)]
    if category is not None:
        conditions.append(col(Resource.category) == category)
    if query is not None:
        matched = match_condition(query, await _dialect(session))
        if matched is None:
            return Page((), 0, 0)
        conditions.append(matched)
    if saved_by is not None:
        conditions.append(
            col(Resource.id).in_(select(ResourceSave.resource_id).where(ResourceSave.member_id == saved_by))
        )
    ids = select(col(Resource.id)).where(*conditions)
    offset = max(0, offset)
    yours = case((col(Resource.search_langs).like(f"% {language} %"), 0), else_=1)
    # Only ids go through the sort, then the page's rows are read by id: a sort of whole rows
    # carried every text of every resource of the category (SQLite's sorter) for 8 of them. The
    # total comes with the page (a window count), so the search or the category filter runs once.
    ordered = (
        select(col(Resource.id), func.count().over())
        .where(*conditions)
        .order_by(yours, col(Resource.published_at).desc(), col(Resource.id).desc())
    )
    listed = (await session.exec(ordered.offset(offset).limit(limit))).all()
    if not listed:  # nothing, or past the end (an old page button): then the total alone
        total = offset and int((await session.exec(select(func.count()).select_from(ids.subquery()))).one())
        return Page((), total, offset)
    found, total = [ident for ident, _count in listed], int(listed[0][1])
    rows = await session.exec(select(Resource).where(col(Resource.id).in_(found)))
    by_id = {resource.id: resource for resource in rows.all()}
    return Page([by_id[ident] for ident in found if ident in by_id], total, offset)

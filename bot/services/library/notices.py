"""The library's messages through the outbox (rendered in each reader's language by
`bot.delivery.library`): a member's suggestion to the organization's staff, the decision to the
member, and the weekly digest (`digest`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import reachable_members
from bot.services.library.rules import LIBRARY_STAFF
from bot.services.library.search import refresh
from bot.services.outbox_rows import insert_rows, pending_row
from storage.models import Member, Membership, Organization, Resource, ResourceStatus

SUGGESTION_KIND: Final = "library_suggestion"  # to each staff member; ref_id = the resource
DECISION_KIND: Final = "library_decision"  # to the member who suggested; ref_id = the resource
DIGEST_KIND: Final = "library_digest"  # ref_id = the week (see `digest.week_key`)


async def staff_recipients(
    session: AsyncSession, organization_id: int, super_admin_ids: Iterable[int]
) -> list[tuple[int | None, int, str]]:
    """(member id, chat id, language) of whoever decides on the organization's suggestions: its
    coordinators, organizers and admins; the deployment's super-admins when it has none."""
    members = reachable_members().subquery()
    staff = await session.exec(
        select(members.c.id, members.c.telegram_id, members.c.language)
        .join(Membership, col(Membership.member_id) == members.c.id)
        .where(Membership.organization_id == organization_id, col(Membership.role).in_(LIBRARY_STAFF))
    )
    found = [(row[0], int(row[1]), row[2] or "") for row in staff.all()]
    if not found:
        admins = await session.exec(
            select(members.c.id, members.c.telegram_id, members.c.language).where(
                members.c.telegram_id.in_(list(super_admin_ids) or [0])
            )
        )
        found = [(row[0], int(row[1]), row[2] or "") for row in admins.all()]
    return found


async def tell_staff(
    session: AsyncSession,
    resource: Resource,
    organization: Organization,
    super_admin_ids: Iterable[int],
    now: datetime,
) -> int:
    """One "a member suggests…" row per staff member, in their language; returns how many."""
    recipients = await staff_recipients(session, resource.organization_id, super_admin_ids)
    rows = [
        pending_row(
            SUGGESTION_KIND,
            resource.id,
            (member_id, chat_id, language or organization.default_language),
            {"resource_id": resource.id},
            now,
            now,
            organization_id=resource.organization_id,
        )
        for member_id, chat_id, language in recipients
    ]
    await insert_rows(session, rows)
    return len(rows)


async def decide(
    session: AsyncSession,
    resource: Resource,
    approve: bool,
    decided_by: int | None,
    organization: Organization,
    now: datetime,
    reason: str | None = None,
) -> bool:
    """Approve (published) or reject (with `reason`) a suggestion, once: the conditional update
    lets one staff member's tap win; the member who suggested is told through the outbox. False
    when it was decided already."""
    status = ResourceStatus.PUBLISHED if approve else ResourceStatus.REJECTED
    values = {"status": status, "decided_by": decided_by, "updated_at": now, "reason": reason}
    if approve:
        values["published_at"] = now
    result = await (await session.connection()).execute(
        update(Resource)
        .where(col(Resource.id) == resource.id, col(Resource.status) == ResourceStatus.SUGGESTED)
        .values(**values)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.refresh(resource)
    author = await session.get(Member, resource.created_by) if resource.created_by else None
    if author is not None and author.telegram_id is not None:
        language = author.language or organization.default_language
        payload = {"resource_id": resource.id, "approved": approve}
        await insert_rows(
            session,
            [
                pending_row(
                    DECISION_KIND,
                    resource.id,
                    (author.id, author.telegram_id, language),
                    payload,
                    now,
                    now,
                    organization_id=resource.organization_id,
                )
            ],
        )
    return True


async def suggest(
    session: AsyncSession,
    organization: Organization,
    member_id: int,
    language: str,
    content: dict[str, str],
    title: str,
    note: str | None,
    super_admin_ids: Iterable[int],
    now: datetime,
) -> Resource:
    """A member's suggestion (a link or a file, a title, a note) to the organization's staff, who
    are told through the outbox in their language. It stays invisible to members until approved."""
    resource = Resource(
        organization_id=organization.id or 0,
        status=ResourceStatus.SUGGESTED,
        title=title,
        summary=note,
        note=note,
        url=content.get("url"),
        file_id=content.get("file_id"),
        file_kind=content.get("file_kind"),
        language=language,
        languages=[language],
        created_by=member_id,
    )
    refresh(resource)
    session.add(resource)
    await session.flush()
    await tell_staff(session, resource, organization, super_admin_ids, now)
    return resource

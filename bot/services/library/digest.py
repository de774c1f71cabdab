"""The weekly digest: on Monday from 10:00 in each member's own zone, one message listing the
resources published in the seven days before that moment which they may see and which match their
interests (`rules.interest_keys`; a member without interests gets every new one), none whose topic
they muted, nothing for those who switched it off in /profile. Written to the outbox once per
member and week: the row's key (kind, week, chat) is unique and inserted with ON CONFLICT DO
NOTHING, so the scheduler's every tick, a restart or a second instance never send it twice. A
Monday the bot was down all day is skipped, not sent late in the week."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import reachable_members
from bot.services.library.notices import DIGEST_KIND
from bot.services.library.rules import interest_keys
from bot.services.outbox_rows import pending_row
from bot.services.schedule_math import after_quiet_hours
from storage.models import (
    LibraryDigestOptOut,
    Member,
    Membership,
    Organization,
    OutboxMessage,
    Resource,
    ResourceScope,
    ResourceStatus,
)

DIGEST_WEEKDAY: Final = 0  # Monday
DIGEST_TIME: Final = time(10, 0)
DIGEST_ITEMS: Final = 10
PAGE: Final = 1000
DIGEST_CHECK_SECONDS: Final = 300  # the scheduler looks for due digests this often


def week_key(local_day: date) -> int:
    """The digest's week, as the ordinal of its Monday (the outbox row's ref_id)."""
    return local_day.toordinal()


def due_slot(now: datetime, zone: str) -> datetime | None:
    """This Monday 10:00 in `zone` (as a UTC moment) if it is Monday and that time has passed."""
    local = now.astimezone(ZoneInfo(zone))
    if local.weekday() != DIGEST_WEEKDAY or local.time() < DIGEST_TIME:
        return None
    return datetime.combine(local.date(), DIGEST_TIME, ZoneInfo(zone)).astimezone(now.tzinfo)


def picks(
    resources: Sequence[Resource],
    organizations: set[int],
    interests: list[str],
    muted: list[str],
    language: str,
) -> list[int]:
    """The ids a member's digest lists: visible to them, matching an interest (all when they chose
    none), no muted topic; those they can read in `language` first, at most `DIGEST_ITEMS`."""
    chosen = []
    for resource in resources:
        if resource.scope != ResourceScope.CONFEDERATION and resource.organization_id not in organizations:
            continue
        keys = interest_keys(resource.category, list(resource.tags))
        if keys & set(muted) or (interests and not keys & set(interests)):
            continue
        chosen.append(resource)
    chosen.sort(key=lambda item: f" {language} " not in item.search_langs)
    return [item.id or 0 for item in chosen[:DIGEST_ITEMS]]


async def _zones(session: AsyncSession, default_zone: str) -> list[str]:
    members = reachable_members().subquery()
    result = await session.exec(select(func.coalesce(members.c.timezone, default_zone)).distinct())
    return [str(zone) for zone in result.all()]


async def _insert_ignoring_repeats(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    connection = await session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(OutboxMessage).values(rows).on_conflict_do_nothing()
    result = await connection.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def write_digests(session: AsyncSession, organization: Organization, now: datetime) -> int:
    """The digests due now (members whose Monday 10:00 has come today): returns how many rows
    were written (0 on every later tick of the same Monday)."""
    written = 0
    for zone in await _zones(session, organization.timezone):
        slot = due_slot(now, zone)
        if slot is not None:
            written += await _write_zone(session, organization, zone, slot, now)
    return written


async def _write_zone(
    session: AsyncSession, organization: Organization, zone: str, slot: datetime, now: datetime
) -> int:
    week = week_key(slot.astimezone(ZoneInfo(zone)).date())
    new = (
        await session.exec(
            select(Resource).where(
                col(Resource.status) == ResourceStatus.PUBLISHED,
                col(Resource.published_at) >= slot - timedelta(days=7),
                col(Resource.published_at) < slot,
            )
        )
    ).all()
    if not new:
        return 0
    members = reachable_members().subquery()
    sent = select(OutboxMessage.chat_id).where(
        OutboxMessage.kind == DIGEST_KIND, OutboxMessage.ref_id == week
    )
    opted_out = select(LibraryDigestOptOut.member_id)
    query = (
        select(Member.id, Member.telegram_id, Member.language, Member.interests, Member.muted)
        .join(members, members.c.id == col(Member.id))
        .where(
            func.coalesce(Member.timezone, organization.timezone) == zone,
            col(Member.telegram_id).not_in(sent),
            col(Member.id).not_in(opted_out),
        )
        .order_by(col(Member.id))
    )
    written, after = 0, 0
    not_before = after_quiet_hours(now, zone, organization.quiet_start, organization.quiet_end)
    while True:
        page = (await session.exec(query.where(col(Member.id) > after).limit(PAGE))).all()
        if not page:
            return written
        after = int(page[-1][0])
        memberships = await session.exec(
            select(Membership.member_id, Membership.organization_id).where(
                col(Membership.member_id).in_([row[0] for row in page])
            )
        )
        organizations: dict[int, set[int]] = {}
        for member_id, organization_id in memberships.all():
            organizations.setdefault(member_id, set()).add(organization_id)
        rows = []
        for member_id, chat_id, language, interests, muted in page:
            language = language or organization.default_language
            ids = picks(new, organizations.get(member_id, set()), list(interests), list(muted), language)
            if ids:
                to = (member_id, int(chat_id), language)
                # The confederation's own digest (of every organization the member belongs to).
                payload = {"resource_ids": ids}
                rows.append(
                    pending_row(DIGEST_KIND, week, to, payload, not_before, now, organization_id=None)
                )
        written += await _insert_ignoring_repeats(session, rows)


async def digest_on(session: AsyncSession, member_id: int) -> bool:
    return await session.get(LibraryDigestOptOut, member_id) is None


async def set_digest(session: AsyncSession, member_id: int, on: bool) -> None:
    """The /profile switch: on (the default) or off."""
    row = await session.get(LibraryDigestOptOut, member_id)
    if on and row is not None:
        await session.delete(row)
    elif not on and row is None:
        session.add(LibraryDigestOptOut(member_id=member_id))
    await session.flush()

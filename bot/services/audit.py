"""The audit trail: who did what, to whom, when (`storage.models.AuditEntry`), written by the services
that change roles, memberships and organizations, send broadcasts, export data and erase members
(`record`), and read by /audit (`trail_page`, `export_csv`) one organization at a time, or whole for
the super-admins. Details carry ids and codes, never message texts nor a member's personal data."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import PAGE, spreadsheet_cell
from bot.services.stats.period import Period
from storage.models import AuditEntry, Member, Membership, Organization

# /audit's filter buttons: a family of actions → the prefixes (or whole codes) of its actions.
FAMILIES: dict[str, tuple[str, ...]] = {
    "ro": ("role.",),
    "jo": ("membership.", "join."),
    "ex": ("export.",),
    "br": ("broadcast.",),
    "de": ("member.deleted", "member.forgotten", "member.anonymized", "retention."),
    "or": ("organization.",),
}


def record(
    session: AsyncSession,
    action: str,
    *,
    actor_telegram_id: int | None,
    organization_id: int | None,
    target_member_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the caller's transaction (written with it, or not at all)."""
    entry = AuditEntry(
        action=action,
        actor_telegram_id=actor_telegram_id,
        organization_id=organization_id,
        target_member_id=target_member_id,
        details=details or {},
    )
    session.add(entry)
    return entry


def exported(
    session: AsyncSession,
    what: str,
    actor_telegram_id: int | None,
    organization_id: int | None,
    **details: Any,
) -> AuditEntry:
    """An export ("export.survey", "export.stats"…): who took which file of which organization."""
    return record(
        session,
        f"export.{what}",
        actor_telegram_id=actor_telegram_id,
        organization_id=organization_id,
        details=details,
    )


@dataclass(frozen=True)
class TrailFilter:
    """Which entries /audit shows. `organization_id` None: every entry (super-admins only)."""

    organization_id: int | None
    family: str = ""  # a key of `FAMILIES`; "" for every action
    member_id: int = 0  # entries about this member (the target) …
    actor_telegram_id: int = 0  # … or by this person (either, when both are given)
    period: Period | None = None

    def condition(self) -> Any:
        conditions = []
        if self.organization_id is not None:
            conditions.append(col(AuditEntry.organization_id) == self.organization_id)
        if self.family in FAMILIES:
            conditions.append(or_(*(_matches(code) for code in FAMILIES[self.family])))
        person = []
        if self.member_id:
            person.append(col(AuditEntry.target_member_id) == self.member_id)
        if self.actor_telegram_id:
            person.append(col(AuditEntry.actor_telegram_id) == self.actor_telegram_id)
        if person:
            conditions.append(or_(*person))
        if self.period is not None:
            conditions += [col(AuditEntry.at) >= self.period.start, col(AuditEntry.at) < self.period.end]
        return and_(true(), *conditions)


def _matches(code: str) -> Any:
    return col(AuditEntry.action).startswith(code) if code.endswith(".") else col(AuditEntry.action) == code


@dataclass(frozen=True)
class TrailPage:
    entries: list[AuditEntry]
    total: int
    names: dict[str, str]  # "t<telegram id>" / "m<member id>" / "o<organization id>" → name


async def trail_page(session: AsyncSession, trail: TrailFilter, offset: int, size: int) -> TrailPage:
    """One page of matching entries, newest first, with the names they mention."""
    condition = trail.condition()
    total = int((await session.exec(select(func.count()).select_from(AuditEntry).where(condition))).one())
    entries = list(
        (
            await session.exec(
                select(AuditEntry)
                .where(condition)
                .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
                .offset(max(0, offset))
                .limit(size)
            )
        ).all()
    )
    return TrailPage(entries, total, await names_of(session, entries))


async def names_of(session: AsyncSession, entries: Sequence[AuditEntry]) -> dict[str, str]:
    """The display names of the people and organizations `entries` name (members without one, or
    erased, are left out: the caller says "a member")."""
    telegram_ids = {entry.actor_telegram_id for entry in entries if entry.actor_telegram_id}
    member_ids = {entry.target_member_id for entry in entries if entry.target_member_id}
    organization_ids = {entry.organization_id for entry in entries if entry.organization_id}
    names: dict[str, str] = {}
    if telegram_ids or member_ids:
        rows = await session.exec(
            select(Member.id, Member.telegram_id, Member.display_name).where(
                or_(col(Member.telegram_id).in_(telegram_ids), col(Member.id).in_(member_ids))
            )
        )
        for member_id, telegram_id, name in rows.all():
            if name:
                names[f"m{member_id}"] = name
                if telegram_id:
                    names[f"t{telegram_id}"] = name
    if organization_ids:
        rows = await session.exec(
            select(Organization.id, Organization.name).where(col(Organization.id).in_(organization_ids))
        )
        names.update({f"o{organization_id}": name for organization_id, name in rows.all()})
    return names


async def person_visible(
    session: AsyncSession, organization_id: int, member: Member | None, telegram_id: int = 0
) -> bool:
    """Whether an organization's admin may filter its trail by this person (a member, or a Telegram
    id without one): a member of the organization, or someone its entries name as the one who acted
    or the one concerned. Anyone else stays unknown to them (their name included)."""
    if member is not None and member.id is not None:
        joined = select(Membership.id).where(
            Membership.organization_id == organization_id, Membership.member_id == member.id
        )
        if (await session.exec(joined.limit(1))).first() is not None:
            return True
    person = []
    if member is not None and member.id is not None:
        person.append(col(AuditEntry.target_member_id) == member.id)
    if actor := telegram_id or (member.telegram_id if member is not None else None):
        person.append(col(AuditEntry.actor_telegram_id) == actor)
    if not person:
        return False
    query = select(AuditEntry.id).where(AuditEntry.organization_id == organization_id, or_(*person)).limit(1)
    return (await session.exec(query)).first() is not None


CSV_COLUMNS = (
    *("at", "action", "organization_id", "organization", "actor_telegram_id", "actor"),
    *("target_member_id", "target", "details"),
)


async def export_csv(session: AsyncSession, trail: TrailFilter) -> bytes:
    """Every matching entry, newest first (UTF-8 with BOM for Excel; text cells neutralized)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    offset = 0
    while True:
        page = await trail_page(session, trail, offset, PAGE)
        for entry in page.entries:
            writer.writerow(
                [
                    entry.at.isoformat(),
                    spreadsheet_cell(entry.action),
                    entry.organization_id or "",
                    spreadsheet_cell(page.names.get(f"o{entry.organization_id}", "")),
                    entry.actor_telegram_id or "",
                    spreadsheet_cell(page.names.get(f"t{entry.actor_telegram_id}", "")),
                    entry.target_member_id or "",
                    spreadsheet_cell(page.names.get(f"m{entry.target_member_id}", "")),
                    spreadsheet_cell(json.dumps(entry.details, ensure_ascii=False, sort_keys=True)),
                ]
            )
        offset += PAGE
        if offset >= page.total:
            return buffer.getvalue().encode("utf-8-sig")


def period_of(first: date | None, last: date | None, zone: str) -> Period | None:
    return Period(first, last, zone) if first and last else None

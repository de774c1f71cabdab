"""Outbox rows: claimed atomically, outcomes recorded in batches.

Claiming is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`: on
PostgreSQL concurrent senders skip each other's rows; SQLite has a single writer, so the statement
is atomic there as it is.

Rows of an organization that is suspended or archived are held: never claimed, still pending, so
they go out once it is restored (each renderer drops what has expired meanwhile: a reminder of an
event that has started, an invitation to a survey that has closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from storage.models import DeliveryStatus, Member, MemberStatus, Organization, OrgStatus, OutboxMessage


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    ref_id: int
    member_id: int | None
    chat_id: int
    language: str
    payload: dict[str, Any]
    attempts: int


@dataclass
class Outcome:
    id: int
    status: DeliveryStatus
    attempts: int
    member_id: int | None = None
    message_id: int | None = None
    error: str | None = None
    retry_at: datetime | None = None


def _speaks_for_active() -> Any:
    """The row's organization may speak (not suspended or archived), or it is the confederation's."""
    held = select(Organization.id).where(Organization.status != OrgStatus.ACTIVE)
    return or_(
        col(OutboxMessage.organization_id).is_(None),
        col(OutboxMessage.organization_id).not_in(held.scalar_subquery()),
    )


async def claim_due(session: AsyncSession, worker: str, limit: int, now: datetime) -> list[Claimed]:
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == DeliveryStatus.PENDING,
            col(OutboxMessage.not_before) <= now,
            _speaks_for_active(),
        )
        .order_by(col(OutboxMessage.not_before), col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(due.scalar_subquery()))
        .values(status=DeliveryStatus.SENDING, claimed_by=worker, claimed_at=now)
        .returning(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.ref_id,
            OutboxMessage.member_id,
            OutboxMessage.chat_id,
            OutboxMessage.language,
            OutboxMessage.payload,
            OutboxMessage.attempts,
        )
    )
    rows = (await (await session.connection()).execute(statement)).all()
    await session.commit()
    return sorted((Claimed(*row) for row in rows), key=lambda claimed: claimed.id)


async def release_stale(session: AsyncSession, now: datetime, lease: timedelta) -> int:
    """Rows claimed by a sender that died (claim older than the lease) go back to pending.

    Every live sender runs this periodically (live senders renew their own claims meanwhile), so
    the claims of a sender that died are released once they pass the lease, however soon a new
    process started. Those are the messages that were in flight at the crash: they may be sent a
    second time.
    """
    result = await (await session.connection()).execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == DeliveryStatus.SENDING,
            col(OutboxMessage.claimed_at) < now - lease,
        )
        .values(status=DeliveryStatus.PENDING, claimed_by=None, claimed_at=None)
    )
    await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def renew_claims(session: AsyncSession, worker: str, now: datetime) -> int:
    """A live sender's heartbeat: its claims are dated `now`, so no one takes them for a dead
    sender's while it is still working on them (a long flood wait, a slow answer)."""
    result = await (await session.connection()).execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.SENDING, OutboxMessage.claimed_by == worker)
        .values(claimed_at=now)
    )
    await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def release_claims(session: AsyncSession, worker: str) -> None:
    """On a clean stop: rows this sender claimed but never tried go back to pending."""
    await (await session.connection()).execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == DeliveryStatus.SENDING, OutboxMessage.claimed_by == worker)
        .values(status=DeliveryStatus.PENDING, claimed_by=None, claimed_at=None)
    )
    await session.commit()


async def record(session: AsyncSession, outcomes: list[Outcome], now: datetime) -> None:
    """Write a batch of outcomes in one transaction, and mark members who blocked the bot or whose
    chat is gone.

    Sent rows (nearly all of them) are written by one UPDATE; the rest one by one.
    """
    if not outcomes:
        return
    connection = await session.connection()
    sent = [outcome for outcome in outcomes if outcome.status == DeliveryStatus.SENT]
    if sent:
        await connection.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_([outcome.id for outcome in sent]))
            .values(
                status=DeliveryStatus.SENT,
                attempts=OutboxMessage.attempts + 1,
                sent_at=now,
                last_error=None,
                claimed_by=None,
                claimed_at=None,
            )
        )
        # One statement run for many rows: a CASE over the batch would compile (and cache) a new
        # statement for every batch size.
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        await connection.execute(
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values(telegram_message_id=bindparam("mid")),
            [{"row_id": outcome.id, "mid": outcome.message_id} for outcome in sent],
        )
    for outcome in outcomes:
        if outcome.status == DeliveryStatus.SENT:
            continue
        await connection.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == outcome.id)
            .values(
                status=outcome.status,
                attempts=outcome.attempts,
                last_error=(outcome.error or "")[:200] or None,
                not_before=outcome.retry_at or now,
                claimed_by=None,
                claimed_at=None,
            )
        )
    for status, member_status in (
        (DeliveryStatus.BLOCKED, MemberStatus.BLOCKED),
        (DeliveryStatus.UNREACHABLE, MemberStatus.UNREACHABLE),
    ):
        member_ids = [o.member_id for o in outcomes if o.status == status and o.member_id is not None]
        if member_ids:
            await (await session.connection()).execute(
                update(Member)
                .where(col(Member.id).in_(member_ids), Member.status == MemberStatus.ACTIVE)
                .values(status=member_status, blocked_at=now)
            )
    await session.commit()

"""Retention (`RETENTION_DAYS`): members who blocked the bot, or left every organization, longer
ago than the period and did nothing since, are anonymized as /forget does (`erase_everything`, one
implementation: the member rows stay, so aggregate counts hold). One "retention.run" audit entry
per pass that anonymized someone carries the count, never anything personal."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.privacy import erase_everything
from bot.services.row_locks import claim
from bot.services.stats.members import LEFT_ACTIONS
from storage.models import AuditEntry, Member, Membership, MemberStatus

RUN: str = "retention.run"  # details {"count": <members anonymized>, "days": <the period>}
BY: str = "retention"  # the "by" of the erasure's "member.deleted" entries


def expired(cutoff: datetime) -> object:
    """Members gone quiet since before `cutoff`: blocked (or unreachable) since then, or in no
    organization since then (their last leave, else their arrival), and not updated since (a
    profile change, a consent, an unblock or a new @username all set `updated_at`)."""
    blocked = and_(
        col(Member.status).in_((MemberStatus.BLOCKED, MemberStatus.UNREACHABLE)),
        col(Member.blocked_at) < cutoff,
    )
    recent_leave = exists().where(
        col(AuditEntry.target_member_id) == col(Member.id),
        col(AuditEntry.action).in_(LEFT_ACTIONS),
        col(AuditEntry.at) >= cutoff,
    )
    outside = and_(
        col(Member.status) == MemberStatus.ACTIVE,
        ~exists().where(col(Membership.member_id) == col(Member.id)),
        ~recent_leave,
        col(Member.created_at) < cutoff,
    )
    return and_(or_(blocked, outside), col(Member.updated_at) < cutoff, col(Member.telegram_id).is_not(None))


async def anonymize_expired(
    session: AsyncSession, now: datetime, days: int, keep: Collection[int] = ()
) -> int:
    """One retention pass in the caller's transaction: how many members were anonymized (0, with
    nothing written, when `days` is 0). `keep`: Telegram ids never touched (the super-admins).
    Safe with several processes: the members are claimed first (`row_locks.claim`), so two
    passes at once never erase, nor count, one member twice."""
    if days <= 0:
        return 0
    due = expired(now - timedelta(days=days))
    if keep:
        due = and_(due, col(Member.telegram_id).not_in(list(keep)))
    ids = await claim(
        session, Member, due, {"status": MemberStatus.DELETED}, order_by=(col(Member.id),), recheck=(due,)
    )
    if not ids:
        return 0
    members = (await session.exec(select(Member).where(col(Member.id).in_(ids)))).all()
    for member in members:
        await erase_everything(session, member, now, by=BY)
    audit.record(
        session, RUN, actor_telegram_id=None, organization_id=None, details={"count": len(ids), "days": days}
    )
    await session.flush()
    return len(ids)

"""Retention (`RETENTION_DAYS`): who is anonymized after the period, on a fixed clock, with the
counts kept and one audit line; nothing at all when the setting is off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import create_app
from bot.config import load_settings
from bot.i18n import create_i18n
from bot.services import audit
from bot.services.members import TelegramIdentity, record_consent
from bot.services.retention import anonymize_expired
from bot.services.roles import ensure_default_organization
from handlers.audit.views import entry_lines
from storage.models import AuditEntry, Member, Membership, MemberStatus

NOW = datetime(2030, 6, 1, 3, tzinfo=UTC)
DAYS = 365
ADMIN = 900


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


async def _seed(session: AsyncSession) -> dict[str, Member]:
    """Members on the fixed clock: who should go and who should stay."""
    organization = await ensure_default_organization(session, "Org", "en", "UTC")
    people: dict[str, Member] = {}
    # name: (still a member, status, blocked days ago, updated days ago, left days ago)
    plan: dict[str, tuple[bool, MemberStatus, int | None, int, int | None]] = {
        "blocked_long_ago": (True, MemberStatus.BLOCKED, 400, 500, None),
        "unreachable_long_ago": (False, MemberStatus.UNREACHABLE, 380, 390, None),
        "left_long_ago": (False, MemberStatus.ACTIVE, None, 500, 400),
        "never_joined_long_ago": (False, MemberStatus.ACTIVE, None, 500, None),
        "active_member": (True, MemberStatus.ACTIVE, None, 500, None),
        "blocked_recently": (True, MemberStatus.BLOCKED, 10, 500, None),
        "left_recently": (False, MemberStatus.ACTIVE, None, 500, 10),
        "blocked_long_ago_active_since": (True, MemberStatus.BLOCKED, 400, 5, None),
        "super_admin_of_none": (False, MemberStatus.ACTIVE, None, 500, None),
    }
    for index, (name, (member_of, status, blocked, updated, left)) in enumerate(plan.items()):
        telegram_id = ADMIN if name == "super_admin_of_none" else 800 + index
        who = TelegramIdentity(telegram_id, f"user{index}", f"Person {index}")
        member = await record_consent(
            session, who, "fr", "Europe/Paris", organization.id if member_of else None
        )
        member.display_name, member.residence_city = f"Person {index}", "Lyon"
        member.status, member.blocked_at = status, ago(blocked) if blocked is not None else None
        member.created_at, member.updated_at = ago(600), ago(updated)
        session.add(member)
        if left is not None:
            entry = audit.record(
                session, "membership.left", actor_telegram_id=None, organization_id=organization.id,
                target_member_id=member.id, details={"joined_at": ago(600).isoformat()},
            )  # fmt: skip
            entry.at = ago(left)
        people[name] = member
    await session.flush()
    for membership in (await session.exec(select(Membership))).all():
        membership.created_at = ago(600)
        session.add(membership)
    await session.flush()
    return people


async def _count(session: AsyncSession, model: type, *where: object) -> int:
    return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


async def test_retention_anonymizes_exactly_the_expired_members(session: AsyncSession) -> None:
    people = await _seed(session)
    members_before = await _count(session, Member)
    count = await anonymize_expired(session, NOW, DAYS, keep={ADMIN})
    await session.commit()
    gone = {"blocked_long_ago", "unreachable_long_ago", "left_long_ago", "never_joined_long_ago"}
    assert count == len(gone)
    for name, member in people.items():
        await session.refresh(member)
        if name in gone:
            assert member.status == MemberStatus.DELETED, name
            assert (member.telegram_id, member.username, member.display_name) == (None, None, None)
            assert (member.residence_city, member.language, member.consent_at) == (None, None, None)
        else:
            assert member.status != MemberStatus.DELETED, name
            assert member.telegram_id is not None and member.display_name is not None, name
    # The rows stay (aggregate counts hold); the blocked member's membership became a leave.
    assert await _count(session, Member) == members_before
    blocked_id = people["blocked_long_ago"].id
    assert await _count(session, Membership, col(Membership.member_id) == blocked_id) == 0
    leaves = (
        await session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "member.deleted", AuditEntry.target_member_id == blocked_id
            )
        )
    ).all()
    assert len(leaves) == 1 and leaves[0].organization_id is not None
    assert leaves[0].details["by"] == "retention" and "joined_at" in leaves[0].details
    # One audit line for the run, with the count and nothing personal.
    runs = (await session.exec(select(AuditEntry).where(AuditEntry.action == "retention.run"))).all()
    assert len(runs) == 1
    assert runs[0].details == {"count": 4, "days": DAYS}
    assert (runs[0].actor_telegram_id, runs[0].target_member_id, runs[0].organization_id) == (
        None,
        None,
        None,
    )
    # The next day's pass finds no one, and writes nothing.
    entries = await _count(session, AuditEntry)
    assert await anonymize_expired(session, NOW + timedelta(days=1), DAYS, keep={ADMIN}) == 0
    assert await _count(session, AuditEntry) == entries


async def test_retention_off_changes_nothing(session: AsyncSession) -> None:
    people = await _seed(session)
    entries = await _count(session, AuditEntry)
    assert await anonymize_expired(session, NOW, 0) == 0
    await session.commit()
    assert await _count(session, AuditEntry) == entries
    assert await _count(session, Member, col(Member.status) == MemberStatus.DELETED) == 0
    assert all(member.telegram_id is not None for member in people.values())


def test_retention_is_off_by_default() -> None:
    assert load_settings(_env_file=None).retention_days == 0
    assert load_settings(_env_file=None, retention_days=30).retention_days == 30


async def test_the_daily_job_is_registered_only_when_the_setting_is_on(migrated_url: str) -> None:
    for days in (0, 30):
        settings = load_settings(
            _env_file=None, database_url=migrated_url, bot_token="123:abc", retention_days=days
        )
        app = await create_app(settings, migrate=False)
        try:
            job = app.scheduler.get_job("retention")
            if days:
                assert job is not None and job.trigger.interval == timedelta(days=1)
            else:
                assert job is None
        finally:
            await app.close()


def test_audit_shows_the_retention_entries_as_the_bot_s() -> None:
    i18n = create_i18n("en")
    run = AuditEntry(action="retention.run", details={"count": 4, "days": DAYS}, at=NOW)
    leave = AuditEntry(action="member.deleted", target_member_id=7, details={"by": "retention"}, at=NOW)
    with i18n.context(), i18n.use_locale("en"):
        lines = entry_lines(run, {}, "en", "UTC", whole=True) + entry_lines(
            leave, {}, "en", "UTC", whole=True
        )
    text = "\n".join(lines)
    assert "Inactive members anonymized" in text and "Inactive member anonymized" in text
    assert "count: 4" in text and "the bot" in text and "themself" not in text

"""Domain rules against a real database: consent, export, erasure, roles and the audit log."""

from __future__ import annotations

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.members import (
    TelegramIdentity,
    count_registered,
    export_member_data,
    forget_member,
    get_member,
    record_consent,
    record_decline,
    set_blocked,
    update_profile,
)
from bot.services.roles import (
    Actor,
    RoleError,
    can_coordinate,
    can_manage_roles,
    can_organize,
    ensure_default_organization,
    find_member_by_reference,
    grant_role,
    revoke_role,
    role_holders,
    role_of,
)
from storage.fsm import SQLStorage
from storage.models import AuditEntry, Member, MemberStatus, Role

SUPER = Actor(telegram_id=1, is_super_admin=True)


async def _member(session: AsyncSession, telegram_id: int, name: str = "Amina") -> Member:
    member = await record_consent(
        session, TelegramIdentity(telegram_id, f"user{telegram_id}", name), "fr", "UTC", None
    )
    await update_profile(session, member, display_name=name, origin_country="SN", interests=["events"])
    await session.commit()
    return member


async def test_consent_export_and_forget(session: AsyncSession) -> None:
    member = await _member(session, 501)
    exported = await export_member_data(session, member)
    assert exported["member"]["display_name"] == "Amina"
    assert exported["member"]["origin_country"] == "SN"
    assert exported["member"]["consent_at"].endswith("+00:00")  # timezone-aware UTC

    await forget_member(session, member)
    await session.commit()
    assert await get_member(session, 501) is None
    row = await session.get(Member, member.id)
    assert row is not None and row.status == MemberStatus.DELETED
    assert (row.display_name, row.username, row.origin_country, row.interests) == (None, None, None, [])
    assert await count_registered(session) == 0


async def test_decline_keeps_only_id_and_language(session: AsyncSession) -> None:
    member = await record_decline(session, 777, "ar")
    await session.commit()
    assert (member.telegram_id, member.language, member.status) == (777, "ar", MemberStatus.DECLINED)
    assert member.consent_at is None and member.display_name is None and member.username is None
    assert not member.is_registered


async def test_blocking_and_coming_back(session: AsyncSession) -> None:
    member = await _member(session, 502)
    await set_blocked(session, 502, blocked=True)
    assert member.status == MemberStatus.BLOCKED and member.blocked_at is not None
    await set_blocked(session, 502, blocked=False)
    assert member.status == MemberStatus.ACTIVE and member.blocked_at is None


async def test_roles_are_granted_revoked_and_audited(session: AsyncSession) -> None:
    org = await ensure_default_organization(session, "Lyon Sénégal", "fr", "Europe/Paris")
    assert org.slug == "lyon-senegal"
    target = await _member(session, 503, "Moussa")
    await grant_role(session, SUPER, org.id, target, Role.ORGANIZER)
    assert await role_of(session, org.id, target.id) == Role.ORGANIZER
    with pytest.raises(RoleError, match="already_has_role"):
        await grant_role(session, SUPER, org.id, target, Role.ORGANIZER)
    assert [(m.display_name, r) for m, r in await role_holders(session, org.id)] == [
        ("Moussa", Role.ORGANIZER)
    ]
    assert await revoke_role(session, SUPER, org.id, target) == Role.ORGANIZER
    assert await role_of(session, org.id, target.id) == Role.MEMBER
    await session.commit()
    audit = (await session.exec(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(entry.action, entry.actor_telegram_id, entry.details["role"]) for entry in audit] == [
        ("role.granted", 1, "organizer"),
        ("role.revoked", 1, "organizer"),
    ]


async def test_admins_manage_roles_and_the_last_admin_stays(session: AsyncSession) -> None:
    """An organization's admin grants every role, admin included; its last admin (super-admins
    counted out) is neither removed nor demoted."""
    org = await ensure_default_organization(session, "Org", "en", "UTC")
    admin = await _member(session, 504, "Admin")
    plain = await _member(session, 505, "Plain")
    await grant_role(session, SUPER, org.id, admin, Role.ADMIN)
    admin_actor, plain_actor = Actor(504, False), Actor(505, False)
    assert await can_manage_roles(session, admin_actor, admin, org.id)
    assert not await can_manage_roles(session, plain_actor, plain, org.id)
    assert await can_manage_roles(session, SUPER, None, org.id)  # super-admins need no registration
    staff = {SUPER.telegram_id}
    with pytest.raises(RoleError, match="last_admin"):
        await revoke_role(session, admin_actor, org.id, admin, staff)
    with pytest.raises(RoleError, match="last_admin"):
        await grant_role(session, SUPER, org.id, admin, Role.ORGANIZER, staff)
    await grant_role(session, admin_actor, org.id, plain, Role.COORDINATOR)
    assert await role_of(session, org.id, plain.id) == Role.COORDINATOR
    await grant_role(session, admin_actor, org.id, plain, Role.ADMIN, staff)
    assert await revoke_role(session, admin_actor, org.id, admin, staff) == Role.ADMIN


async def test_coordinators_organizers_and_admins_coordinate_members_do_not(session: AsyncSession) -> None:
    org = await ensure_default_organization(session, "Org", "en", "UTC")
    people = {role: await _member(session, 510 + index, str(role)) for index, role in enumerate(Role)}
    for role, member in people.items():
        if role != Role.MEMBER:
            await grant_role(session, SUPER, org.id, member, role)
    allowed = {
        role: await can_coordinate(session, Actor(member.telegram_id or 0, False), member, org.id)
        for role, member in people.items()
    }
    assert allowed == {Role.MEMBER: False, Role.COORDINATOR: True, Role.ORGANIZER: True, Role.ADMIN: True}
    coordinator = people[Role.COORDINATOR]
    assert not await can_organize(session, Actor(coordinator.telegram_id or 0, False), coordinator, org.id)
    assert await can_coordinate(session, SUPER, None, org.id)
    assert not await can_coordinate(session, None, coordinator, org.id)
    await set_blocked(session, coordinator.telegram_id or 0, blocked=True)
    assert not await can_coordinate(session, Actor(coordinator.telegram_id or 0, False), coordinator, org.id)


async def test_members_are_found_by_username_or_id(session: AsyncSession) -> None:
    member = await _member(session, 506)
    assert (await find_member_by_reference(session, "@USER506")).id == member.id
    assert (await find_member_by_reference(session, "506")).id == member.id
    assert await find_member_by_reference(session, "@user_06") is None  # "_" is not a wildcard
    assert await find_member_by_reference(session, "<b>") is None


async def test_dialog_state_survives_a_new_storage(engine: AsyncEngine) -> None:
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    first = SQLStorage(engine)
    await first.set_state(key, "ProfileStates:origin")
    await first.update_data(key, {"mode": "onboarding"})
    await first.update_data(key, {"telegram_name": "Amina"})
    second = SQLStorage(engine)  # as after a restart
    assert await second.get_state(key) == "ProfileStates:origin"
    assert await second.get_data(key) == {"mode": "onboarding", "telegram_name": "Amina"}
    await second.set_state(key, None)
    assert await second.get_state(key) is None
    assert await second.get_data(key) == {"mode": "onboarding", "telegram_name": "Amina"}

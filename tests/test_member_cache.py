"""The member cache (`bot.services.member_cache`) between transactions: a value another transaction
has written but not committed is never handed out, one it commits is seen at once, and a member
another process changed is never written from a stale entry."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col, delete

from bot.services.member_cache import MemberCache, member_of
from bot.services.members import TelegramIdentity, forget_member, get_member, record_consent, touch_identity
from storage.db import create_engine, create_session_factory
from storage.models import Member, Organization

AMINA = TelegramIdentity(1001, "amina", "Amina")


async def _amina(engine: AsyncEngine) -> int:
    async with create_session_factory(engine)() as session:
        member = await record_consent(session, AMINA, "en", "UTC", None)
        await session.commit()
        return member.id or 0


async def _language(engine: AsyncEngine) -> str | None:
    async with create_session_factory(engine)() as session:
        member = await member_of(session, AMINA.telegram_id)
        assert member is not None
        return member.language


async def test_a_value_never_committed_is_never_handed_out(engine: AsyncEngine) -> None:
    """A transaction that changed the member reads it (its own, uncommitted value) and rolls back:
    neither meanwhile nor after does another transaction get that value."""
    MemberCache().watch(engine)
    await _amina(engine)
    assert await _language(engine) == "en"
    sessions = create_session_factory(engine)
    async with sessions() as writer:
        member = await get_member(writer, AMINA.telegram_id)
        assert member is not None
        member.language = "fr"
        await writer.flush()
        assert (await member_of(writer, AMINA.telegram_id)) is member  # its own change
        assert await _language(engine) == "en"
        await writer.rollback()
    assert await _language(engine) == "en"


async def test_a_value_read_while_a_change_was_open_is_forgotten_when_it_commits(engine: AsyncEngine) -> None:
    MemberCache().watch(engine)
    await _amina(engine)
    async with create_session_factory(engine)() as writer:
        member = await get_member(writer, AMINA.telegram_id)
        assert member is not None
        member.language = "fr"
        await writer.flush()
        assert await _language(engine) == "en"  # read meanwhile: the last committed value
        await writer.commit()
    assert await _language(engine) == "fr"


async def test_a_member_erased_by_another_process_is_never_written_from_the_cache(
    engine: AsyncEngine, migrated_url: str
) -> None:
    """Several webhook processes: another one erases the member after this one cached them. An
    update here that changes the member (a new @username) fails instead of writing it into the
    erased row, and the member is a stranger from then on."""
    MemberCache().watch(engine)
    member_id = await _amina(engine)
    sessions = create_session_factory(engine)
    assert await _language(engine) == "en"  # cached
    other_process = create_engine(migrated_url)
    try:
        async with create_session_factory(other_process)() as session:
            erased = await session.get(Member, member_id)
            assert erased is not None
            await forget_member(session, erased, by="retention")
            await session.commit()
    finally:
        await other_process.dispose()
    async with sessions() as session:
        stale = await member_of(session, AMINA.telegram_id)  # within the TTL: the entry as cached
        assert stale is not None
        with pytest.raises(StaleDataError):
            await touch_identity(session, stale, TelegramIdentity(AMINA.telegram_id, "amina_new", "Amina"))
        await session.rollback()
    async with sessions() as session:
        assert await member_of(session, AMINA.telegram_id) is None
        row = await session.get(Member, member_id)
        assert row is not None and (row.telegram_id, row.username) == (None, None)


async def test_a_deleted_organization_is_no_members_acting_one_at_once(engine: AsyncEngine) -> None:
    """Deleting an organization (a bulk statement) sets its members' acting organization to NULL in
    the database: the cache forgets every member, so the next read sees it."""
    MemberCache().watch(engine)
    await _amina(engine)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        organization = Organization(slug="gone", name="Gone")
        session.add(organization)
        await session.flush()
        member = await get_member(session, AMINA.telegram_id)
        assert member is not None
        member.acting_organization_id = organization.id
        await session.commit()
        organization_id = organization.id
    async with sessions() as session:
        member = await member_of(session, AMINA.telegram_id)  # kept from here on
        assert member is not None and member.acting_organization_id == organization_id
    async with sessions() as session:
        await session.exec(delete(Organization).where(col(Organization.id) == organization_id))
        await session.commit()
    async with sessions() as session:
        member = await member_of(session, AMINA.telegram_id)
        assert member is not None and member.acting_organization_id is None

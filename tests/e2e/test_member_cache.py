"""The member behind an update comes from the member cache (`bot.services.member_cache`): every
change to a member, by the member, the delivery engine, registration or erasure, is seen by the
very next update."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bot.services.members import TelegramIdentity, forget_member, get_member, record_consent, update_profile
from storage.db import create_session_factory
from storage.models import Member, MemberStatus
from tests.e2e.conftest import Harness
from tests.e2e.test_statement_counts import assert_within, per_update

UNKNOWN = "Hello! I don't know you yet. Send /start to join the community."
NOTHING_TO_CANCEL = "There is nothing to cancel."


async def test_a_language_chosen_is_spoken_from_the_very_next_reply(
    harness: Harness, registered: Any
) -> None:
    amina = await registered("Amina", "en")
    assert (await harness.send(amina, "/cancel"))["text"] == harness.t(NOTHING_TO_CANCEL, "en")  # cached
    choice = await harness.send(amina, "/language")
    await harness.press(amina, choice, "Français")
    await harness.edited(amina, choice)
    assert (await harness.send(amina, "/cancel"))["text"] == harness.t(NOTHING_TO_CANCEL, "fr")


async def test_a_member_marked_blocked_by_a_bulk_statement_is_reactivated_by_their_next_message(
    harness: Harness, registered: Any
) -> None:
    """The delivery engine marks members who blocked the bot with one UPDATE of many rows (its
    rows not known to the cache: every member is forgotten); their next message re-activates them."""
    amina = await registered("Amina", "en")
    await harness.send(amina, "/cancel")  # cached as active
    async with create_session_factory(harness.app.engine)() as session:
        await (await session.connection()).execute(
            update(Member)
            .where(col(Member.telegram_id).in_([amina.id]), Member.status == MemberStatus.ACTIVE)
            .values(status=MemberStatus.BLOCKED)
        )
        await session.commit()
    await harness.send(amina, "/cancel")
    assert (await _member(harness, amina.id)).status == MemberStatus.ACTIVE


async def test_a_registration_is_seen_by_the_very_next_update(harness: Harness) -> None:
    """A newcomer is cached as having no member; registering (an INSERT) ends that at once."""
    kofi = harness.emulator.create_user("Kofi", language_code="en")
    assert (await harness.send(kofi, "/profile"))["text"] == harness.t(UNKNOWN, "en")
    async with create_session_factory(harness.app.engine)() as session:
        identity = TelegramIdentity(kofi.id, None, "Kofi")
        organization_id = harness.app.dispatcher["organization"].id
        member = await record_consent(session, identity, "en", "UTC", organization_id)
        await update_profile(session, member, display_name="Kofi")
        await session.commit()
    assert "Kofi" in (await harness.send(kofi, "/profile"))["text"]


async def test_a_member_erased_by_retention_is_a_stranger_at_once(harness: Harness, registered: Any) -> None:
    """Erased by someone else than the member (the daily retention job): their next update finds
    no member, and nothing they do brings their data back."""
    moussa = await registered("Moussa", "fr", username="moussa")
    await harness.send(moussa, "/cancel")  # cached
    async with create_session_factory(harness.app.engine)() as session:
        member = await get_member(session, moussa.id)
        assert member is not None
        await forget_member(session, member, by="retention")
        await session.commit()
    assert (await harness.send(moussa, "/profile"))["text"] == harness.t(UNKNOWN, "fr")
    async with create_session_factory(harness.app.engine)() as session:
        erased = (await session.exec(select(Member).where(Member.status == MemberStatus.DELETED))).one()
    assert (erased.telegram_id, erased.username, erased.display_name) == (None, None, None)


async def test_another_members_change_keeps_this_member_cached(harness: Harness, registered: Any) -> None:
    """A write to one member's row (a flush by its id) forgets that member only: the others'
    next update still reads no member."""
    amina = await registered("Amina", "en")
    kofi = await registered("Kofi", "en")
    await harness.send(amina, "/help")  # cached
    choice = await harness.send(kofi, "/language")
    await harness.press(kofi, choice, "Français")
    await harness.edited(kofi, choice)
    assert_within("help", await per_update(harness, lambda: harness.send(amina, "/help")))


async def _member(harness: Harness, telegram_id: int) -> Member:
    async with create_session_factory(harness.app.engine)() as session:
        member = await get_member(session, telegram_id)
    assert member is not None
    return member

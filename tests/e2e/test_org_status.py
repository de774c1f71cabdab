"""Suspended and archived organizations: nothing goes out on their behalf. A suspended
organization's messages are held (and go out once it is restored, unless they expired meanwhile),
its staff are told why they cannot publish; an archived one's waiting messages are cancelled, its
staff act for another organization, and its history stays."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlmodel import select

from storage.db import create_session_factory
from storage.models import (
    DeliveryStatus,
    Event,
    Membership,
    Organization,
    OrgStatus,
    OutboxMessage,
    Role,
)
from storage.types import utcnow
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness
from tests.e2e.helpers import (
    another_organization,
    give_role,
    opened_survey,
    our_organization,
    urgent_announcement,
)

SUSPENDED = (
    "⏸ Diaspora Bridge community is suspended by the confederation: nothing can be sent or published on "
    "its behalf until it is restored. Its members and their data are kept."
)


async def outbox(harness: Harness) -> dict[str, DeliveryStatus]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        return {f"{row.kind}:{row.chat_id}": row.status for row in rows}


async def status_of(harness: Harness, organization_id: int) -> OrgStatus:
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        return organization.status


async def change_status(
    harness: Harness, root: Any, organization_name: str, button: str, yes: str
) -> dict[str, Any]:
    """Through /manageorgs: the organization's card, its status button, the confirmation."""
    listing = await harness.send(root, "/manageorgs")
    card = await harness.choose(root, listing, organization_name)
    question = await harness.choose(root, card, button)
    await harness.press(root, question, yes)
    done = await harness.edited(root, question)
    await harness.reply(root)  # the card again, with its new status
    return done


async def test_suspension_holds_everything_until_restored(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    own = harness.app.dispatcher["organization"].id
    awa = await registered("Awa", "en")
    olga = await registered("Olga", "en")
    await give_role(harness, olga, own, Role.ORGANIZER)
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)

    done = await change_status(harness, root, "Diaspora Bridge community", "⏸ Suspend", "⏸ Yes, suspend it")
    assert done["text"] == (
        "⏸ Diaspora Bridge community is suspended: nothing goes out on its behalf until it is restored."
    )
    assert await status_of(harness, own) == OrgStatus.SUSPENDED

    # Written while suspended: an announcement, and a survey that closes before the restore.
    writer = harness.emulator.create_user("Writer", language_code="en")  # gets the progress report
    async with create_session_factory(harness.app.engine)() as session:
        await urgent_announcement(session, await our_organization(harness, session), writer, "Held news")
        await session.commit()
    await opened_survey(
        harness, "Quick one", [("text", "Why?", {})], closes_at=utcnow() + timedelta(seconds=2)
    )
    harness.app.delivery.wake()
    await asyncio.sleep(2.5)
    assert not any(m.get("text") == "Held news" for m in harness.emulator.transcript(awa.id))
    statuses = await outbox(harness)
    assert statuses[f"announcement:{awa.id}"] == DeliveryStatus.PENDING
    assert statuses[f"survey:{awa.id}"] == DeliveryStatus.PENDING

    # The organizer is told why nothing can be published; no dialog starts.
    for command in ("/announce", "/newevent", "/poll", "/newsurvey", "/newtraining"):
        assert (await harness.send(olga, command))["text"] == SUSPENDED, command
    assert (await harness.send(olga, "Some text"))["text"].startswith("I'm not sure what you mean")
    listing = await harness.send(olga, "/myevents")  # lists stay open: members keep their data
    assert listing["text"] == "There are no upcoming events. /newevent creates one."

    done = await change_status(harness, root, "Diaspora Bridge community", "▶️ Restore", "▶️ Yes, restore it")
    assert done["text"] == "▶️ Diaspora Bridge community is restored: what was held goes out now."
    news = await harness.emulator.wait_for(
        lambda emu: next((m for m in emu.transcript(awa.id) if m.get("text") == "Held news"), None),
        timeout=10,
    )
    assert news is not None
    # Both rows settle: the news marked sent once Telegram took it, the survey's row taken and
    # dropped in the same pass or the next one.
    unsettled = {DeliveryStatus.PENDING, DeliveryStatus.SENDING}
    statuses = await outbox(harness)
    for _ in range(100):
        if not unsettled & {statuses[f"announcement:{awa.id}"], statuses[f"survey:{awa.id}"]}:
            break
        await asyncio.sleep(0.1)
        statuses = await outbox(harness)
    assert statuses[f"announcement:{awa.id}"] == DeliveryStatus.SENT
    assert statuses[f"survey:{awa.id}"] == DeliveryStatus.CANCELLED  # it closed meanwhile: expired
    assert not any("Quick one" in (m.get("text") or "") for m in harness.emulator.transcript(awa.id))
    while (await harness.reply(olga))["text"] != "Held news":  # she is a member too
        pass
    assert (await harness.send(olga, "/announce"))["text"].startswith("📣 New announcement")
    assert harness.emulator.errors == []


async def test_archiving_cancels_what_waits_and_keeps_the_history(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    awa = await registered("Awa", "en")
    olga = await registered("Olga", "en")
    youth_id = await another_organization(harness)
    await give_role(harness, awa, youth_id, Role.MEMBER)
    await give_role(harness, olga, youth_id, Role.ORGANIZER)
    async with create_session_factory(harness.app.engine)() as session:
        session.add(
            Event(organization_id=youth_id, title="Youth concert", starts_at=utcnow() + timedelta(days=3))
        )
        await session.commit()
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)
    await change_status(harness, root, "Youth network", "⏸ Suspend", "⏸ Yes, suspend it")
    async with create_session_factory(harness.app.engine)() as session:
        youth_row = await session.get(Organization, youth_id)
        writer = harness.emulator.create_user("Writer", language_code="en")
        await urgent_announcement(session, youth_row, writer, "Youth news")  # type: ignore[arg-type]
        await session.commit()

    done = await change_status(harness, root, "Youth network", "🗄 Archive", "🗄 Yes, archive it")
    assert done["text"] == "🗄 Youth network is archived."
    statuses = await outbox(harness)
    assert statuses[f"announcement:{awa.id}"] == DeliveryStatus.CANCELLED
    # Its staff act for it no more (Olga is staff nowhere else now); its history is kept.
    assert (await harness.send(olga, "/announce"))["text"] == "Sorry, only organizers can send announcements."
    async with create_session_factory(harness.app.engine)() as session:
        assert (await session.exec(select(Event).where(Event.organization_id == youth_id))).one().title == (
            "Youth concert"
        )
        memberships = (
            await session.exec(select(Membership).where(Membership.organization_id == youth_id))
        ).all()
        assert len(memberships) == 2
    # The management list shows it last, archived, and it can be restored.
    listing = await harness.send(root, "/manageorgs")
    assert listing["text"].splitlines()[-1].startswith("🗄 Youth network")
    # The deployment's own organization cannot be archived.
    listing = await harness.send(root, "/manageorgs")
    card = await harness.choose(root, listing, "Diaspora Bridge community")
    question = await harness.choose(root, card, "🗄 Archive")
    query = await harness.press(root, question, "🗄 Yes, archive it")
    assert harness.emulator.callback_answers[query]["show_alert"]
    assert (
        harness.emulator.callback_answers[query]["text"]
        == "The deployment's own organization cannot be archived."
    )
    assert await status_of(harness, youth_id) == OrgStatus.ARCHIVED
    assert harness.emulator.errors == []

"""Leaving an organization (/orgs → card → 🚪 Leave → confirm): the membership goes, that
organization's messages still waiting for the member are cancelled (another organization's stay),
its later messages and reminders no longer reach them, their history stays; the last admin cannot
leave; leaving one's last organization is allowed (the profile stays, /forget erases it)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.services import events as event_service
from bot.services.audience import count_members
from bot.services.events.reminders import release_reminders
from storage.db import create_session_factory
from storage.models import Announcement, DeliveryStatus, Event, Organization, Role, Rsvp, RsvpStatus
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import meeting_reminded_in, plain
from tests.e2e.org_kit import add_to, audit_trail, member_of, organizations_of, outbox_of, seed_org, texts_to


def quiet_now() -> dict[str, int]:
    """Quiet hours from an hour ago to an hour ahead: announcements wait in the outbox."""
    minute = utcnow().hour * 60 + utcnow().minute
    return {"quiet_start": (minute - 60) % 1440, "quiet_end": (minute + 60) % 1440}


async def announce_quietly(harness: Harness, organization_id: int, text: str) -> None:
    """A non-urgent announcement of the organization to all its members (waiting: quiet hours)."""
    from bot.services.announcements import enqueue_announcement

    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        announcement = Announcement(organization_id=organization_id, author_chat_id=1, text=text)
        session.add(announcement)
        await session.flush()
        await enqueue_announcement(session, announcement, organization)
        await session.commit()


async def test_leaving_cancels_the_organizations_waiting_messages_and_stops_the_next_ones(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "fr")
    kofi = await registered("Kofi", "en")
    lyon = await seed_org(harness, "Lyon Sénégal", **quiet_now())
    home = harness.app.dispatcher["organization"]
    for user in (amina, kofi):
        await add_to(harness, user, lyon)
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, home.id)
        assert organization is not None
        organization.quiet_start, organization.quiet_end = quiet_now().values()
        session.add(organization)
        meeting = await meeting_reminded_in(session, lyon, 3600)  # in two hours, reminded an hour before
        for user in (amina, kofi):
            await event_service.rsvp(
                session, meeting.id or 0, (await member_of(harness, user)).id or 0, RsvpStatus.GOING, utcnow()
            )
        await session.commit()
    await announce_quietly(harness, lyon.id or 0, "Lyon news")
    await announce_quietly(harness, home.id, "Home news")
    assert await outbox_of(harness, amina) == [("announcement", DeliveryStatus.PENDING)] * 2

    listing = await harness.send(amina, "/orgs")
    assert "Lyon Sénégal" in listing["text"] and home.name in listing["text"]
    assert buttons(listing)[-1] == harness.t("🔎 Directory", "fr")  # no management button for her
    await harness.press(amina, listing, "Lyon Sénégal")
    card = await harness.edited(amina, listing)
    await harness.press(amina, card, harness.t("🚪 Leave", "fr"))
    question = await harness.edited(amina, card)
    assert "/forget" not in question["text"]  # not her last organization
    await harness.press(amina, question, harness.t("🚪 Yes, leave", "fr"))
    left = await harness.edited(amina, question)
    assert left["text"] == plain(
        harness.t("🚪 You left <b>{organization}</b>.", "fr", organization="Lyon Sénégal")
    )

    assert await organizations_of(harness, amina) == {home.id}
    assert await outbox_of(harness, amina) == [
        ("announcement", DeliveryStatus.CANCELLED),
        ("announcement", DeliveryStatus.PENDING),
    ]
    assert (await outbox_of(harness, kofi))[0] == ("announcement", DeliveryStatus.PENDING)
    [entry] = [entry for entry in await audit_trail(harness) if entry.action == "membership.left"]
    assert entry.organization_id == lyon.id and list(entry.details) == ["joined_at"]
    async with create_session_factory(harness.app.engine)() as session:
        assert await count_members(session, lyon.id or 0, {}, None) == 1  # Kofi only
        # Her answer stays (history), but the reminder reaches only Kofi.
        answers = (await session.exec(select(Rsvp.member_id).where(Rsvp.event_id == meeting.id))).all()
        assert len(answers) == 2
        event = await session.get(Event, meeting.id)
        assert event is not None
        await release_reminders(session, event.starts_at - timedelta(minutes=59))
        await session.commit()
    assert [kind for kind, _ in await outbox_of(harness, kofi)].count("reminder") == 1
    assert [kind for kind, _ in await outbox_of(harness, amina)].count("reminder") == 0

    # The old Leave button pressed again: nothing more happens.
    stale = harness.t("This button is no longer active.", "fr")
    assert await harness.forge(amina, left, "morg:confirm:" + str(lyon.id)) == stale
    assert len([e for e in await audit_trail(harness) if e.action == "membership.left"]) == 1


async def test_the_last_admin_cannot_leave_and_a_last_organization_can_be_left(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    kofi = await registered("Kofi", "de")
    lyon = await seed_org(harness, "Lyon")
    await add_to(harness, kofi, lyon, Role.ADMIN)
    listing = await harness.send(kofi, "/orgs")
    assert harness.t("⚙️ Manage organizations", "de") in buttons(listing)
    assert f"Lyon — {harness.t('admin', 'de')}" in listing["text"]
    await harness.press(kofi, listing, "Lyon")
    card = await harness.edited(kofi, listing)
    query = await harness.press(kofi, card, harness.t("🚪 Leave", "de"))
    assert harness.emulator.callback_answers[query]["text"] == harness.t(
        "You are the only administrator of this organization, so you cannot leave it. Ask the "
        "confederation's staff to name another administrator first.",
        "de",
    )
    assert lyon.id in await organizations_of(harness, kofi)

    # Leaving the deployment's own organization too: then Lyon is the last one, and a second admin
    # lets Kofi go.
    home = harness.app.dispatcher["organization"]
    sara = await registered("Sara", "ar")
    await add_to(harness, sara, lyon, Role.ADMIN)
    for organization in (home.name, "Lyon"):
        listing = await harness.send(kofi, "/orgs")
        await harness.press(kofi, listing, organization)
        card = await harness.edited(kofi, listing)
        await harness.press(kofi, card, harness.t("🚪 Leave", "de"))
        question = await harness.edited(kofi, card)
        assert ("/forget" in question["text"]) == (organization == "Lyon")
        await harness.press(kofi, question, harness.t("🚪 Yes, leave", "de"))
        await harness.edited(kofi, question)
    assert await organizations_of(harness, kofi) == set()
    empty = await harness.send(kofi, "/orgs")
    assert empty["text"] == harness.t(
        "🏢 You do not belong to any organization yet. Find one in the directory: organizations "
        "and networks of the confederation, by country, language and topic.",
        "de",
    )
    assert buttons(empty) == [harness.t("🔎 Directory", "de")]
    assert "Kofi" not in "".join(texts_to(harness, sara))  # nobody is told

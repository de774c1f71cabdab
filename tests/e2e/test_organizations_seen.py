"""What members see of several organizations, through the emulator: everything of every
organization they belong to, each card and message naming its organization (HTML-escaped); events
opened to every organization, bookable by members of any; another organization's closed event
refused even to a forged RSVP; and a single-organization deployment looking as it always did."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.views.events import EventAction
from storage.db import create_session_factory
from storage.models import Event, Rsvp, RsvpStatus
from tests.e2e.conftest import Harness, buttons
from tests.e2e.reach_kit import (
    add_organization,
    belongs_to,
    home_id,
    member_row,
    opened_survey_of,
    published_event,
    published_training,
    received,
    sent_announcement,
    toast,
)
from tests.e2e.test_announce import make_organizer

HOME = "Diaspora Bridge community"
BERLIN = "Solidarität <Berlin> & Co"  # escaped in every HTML message, or the emulator refuses it
LYON = "Lyon Solidaire"


async def rsvps(harness: Harness, event_id: int) -> list[tuple[int, RsvpStatus]]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = (await session.exec(select(Rsvp).where(Rsvp.event_id == event_id))).all()
        return [(row.member_id, RsvpStatus(row.status)) for row in rows]


async def test_a_member_of_two_organizations_sees_both_and_each_card_names_its_own(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    home = home_id(harness)
    berlin = await add_organization(harness, BERLIN)
    lyon = await add_organization(harness, LYON)
    mira = await registered("Mira", "en")
    await belongs_to(harness, mira, home, berlin)
    author = await registered("Olu", "en")
    await published_event(harness, home, "Home picnic")
    await published_event(harness, berlin, "Berlin workshop")
    await published_event(harness, lyon, "Lyon closed dinner")
    await published_event(harness, lyon, "Lyon open concert", open_to_all=True)

    # Delivered: a training's notice, a survey's invitation and an announcement, each headed by
    # its organization (the one it comes from, not the deployment's).
    await published_training(harness, berlin, "German course")
    training_notice = await harness.reply(mira, timeout=15)
    assert training_notice["text"].startswith(f"🎓 New training\n\n🎓 German course\n🏛 {BERLIN}\n")
    await opened_survey_of(harness, berlin, "Berlin needs", [("yes_no", "Coming?", {})])
    invitation = await harness.reply(mira, timeout=15)
    assert invitation["text"].startswith(f"🏛 {BERLIN}\n📋 New survey: Berlin needs")
    await sent_announcement(harness, berlin, author, "Berlin <b>news</b>")
    assert (await harness.reply(mira, timeout=15))["text"] == f"🏛 {BERLIN}\nBerlin news"
    assert received(harness, author, "Berlin news") == []  # not a member of Berlin's
    # The author's report comes once everyone got it: read before the author's /events below.
    report = await harness.reply(author, timeout=30)
    assert report["text"].startswith(harness.t("✅ Announcement #{id} is delivered.", "en", id=1)), report

    listing = await harness.send(mira, "/events")
    lines = listing["text"].splitlines()
    assert "Lyon closed dinner" not in listing["text"]
    for title, name in (("Home picnic", HOME), ("Berlin workshop", BERLIN), ("Lyon open concert", LYON)):
        (line,) = [index for index, text in enumerate(lines) if title in text]
        assert lines[line + 2] == f"    🏛 {name}", lines
    card = await harness.choose(mira, listing, "Berlin workshop")
    assert card["text"].splitlines()[:2] == ["📅 Berlin workshop", f"🏛 {BERLIN}"]
    card = await harness.choose(mira, listing, "Lyon open concert")
    assert card["text"].splitlines()[:3] == [
        "📅 Lyon open concert",
        f"🏛 {LYON}",
        "🌍 Open to members of every organization",
    ]
    query = await harness.press(mira, card, "✅ Going")
    assert toast(harness, query) == "✅ You're going. See you there!"

    trainings = await harness.send(mira, "/trainings")
    assert trainings["text"]  # the heading, then one card
    training_card = await harness.reply(mira)
    assert training_card["text"].splitlines()[:2] == ["🎓 German course", f"🏛 {BERLIN}"]
    surveys = await harness.send(mira, "/surveys")
    assert "1. Berlin needs\n" in surveys["text"] and f"    🏛 {BERLIN}" in surveys["text"].splitlines()

    # Another member, of the deployment's organization only, sees none of Berlin's.
    only_home = await harness.send(author, "/events")
    assert "Berlin workshop" not in only_home["text"] and "Lyon open concert" in only_home["text"]
    assert "Berlin needs" not in (await harness.send(author, "/surveys"))["text"]
    assert harness.emulator.errors == []


async def event_preview(
    harness: Harness, organizer: Any, title: str, *, everywhere: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The /newevent dialog answered quickly (everyone told, or with `everywhere` a super-admin's
    "All organizations"; 30 seats; once): the header above the preview, and the preview card. A
    super-admin (`everywhere`) may act for several organizations: the acting card comes first."""
    if everywhere:
        assert (await harness.send(organizer, "/newevent"))["text"].startswith("🏢 Acting for:")
        await harness.reply(organizer)  # the dialog's first card
    else:
        await harness.send(organizer, "/newevent")
    question = await harness.send(organizer, title)
    await harness.choose(organizer, question, "Skip")
    await harness.press(organizer, await harness.send(organizer, "2099-05-02 19:00"), "✅ Correct")
    for _step in ("end", "place"):
        await harness.press(organizer, await harness.reply(organizer), "Skip")
    await harness.reply(organizer)  # capacity
    reminders = await harness.choose(organizer, await harness.send(organizer, "30"), "Skip")
    audience = await harness.choose(organizer, reminders, "1 hour before")
    if everywhere:
        await harness.press(organizer, audience, "Choose…")
        picker = await harness.edited(organizer, audience)
        await harness.press(organizer, picker, "🌐 All organizations")
        claim = await harness.choose(organizer, harness.message(organizer, picker["message_id"]), "Done")
    else:
        claim = await harness.choose(organizer, audience, "Everyone")
    repeat = await harness.choose(organizer, claim, "48 hours")
    header = await harness.choose(organizer, repeat, "Only once")
    return header, await harness.reply(organizer)


async def test_an_open_event_is_booked_by_a_member_of_another_organization_a_closed_one_is_not(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    home = home_id(harness)
    berlin = await add_organization(harness, BERLIN)
    organizer = await make_organizer(harness, registered, "en")
    neighbour = await registered("Nadia", "en")  # of the organizer's organization
    bea = await registered("Bea", "en")
    await belongs_to(harness, bea, berlin)
    closed = await published_event(harness, home, "Members' assembly")

    _header, preview = await event_preview(harness, organizer, "Open day")
    assert "🌍 Open to every organization: no" in buttons(preview)
    await harness.press(organizer, preview, "🌍 Open to every organization: no")
    preview = await harness.edited(organizer, preview)
    assert preview["text"].splitlines()[:3] == [
        "📅 Open day",
        f"🏛 {HOME}",
        "🌍 Open to members of every organization",
    ]
    assert "🌍 Open to every organization: yes" in buttons(preview)
    published = await harness.choose(organizer, preview, "📤 Publish")
    assert published["text"].startswith("📤 Published: 2 members will be told.")  # its own members
    async with create_session_factory(harness.app.engine)() as session:
        event = (await session.exec(select(Event).where(Event.title == "Open day"))).one()
    assert event.open_to_all
    notice = await harness.reply(neighbour, timeout=15)
    assert notice["text"].startswith(f"📣 New event\n\n📅 Open day\n🏛 {HOME}\n🌍 Open to members")

    listing = await harness.send(bea, "/events")
    assert "Open day" in listing["text"] and "Members' assembly" not in listing["text"]
    card = await harness.choose(bea, listing, "Open day")
    query = await harness.press(bea, card, "✅ Going")
    assert toast(harness, query) == "✅ You're going. See you there!"
    bea_id = (await member_row(harness, bea)).id
    assert await rsvps(harness, event.id or 0) == [(bea_id, RsvpStatus.GOING)]

    for action in ("going", "maybe", "open", "ics"):  # forged: another organization's closed event
        answer = await harness.forge(bea, card, EventAction(action=action, id=closed))
        assert answer == "This event no longer exists."
    assert await rsvps(harness, closed) == []
    assert received(harness, bea, "Members' assembly") == []
    link = await harness.send(bea, f"/start event_{closed}")
    assert link["text"] == "This event no longer exists."
    assert received(harness, bea, "📣 New event") == []  # its notice stayed in its organization
    assert harness.emulator.errors == []


async def test_a_single_organization_deployment_names_no_organization(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    organizer = await make_organizer(harness, registered, "en")
    member = await registered("Sam", "en")
    await published_event(harness, home_id(harness), "Picnic")
    card = await harness.choose(member, await harness.send(member, "/events"), "Picnic")
    assert card["text"].splitlines()[1].startswith("🕒")
    assert "🏛" not in (await harness.send(member, "/events"))["text"]
    _header, preview = await event_preview(harness, organizer, "Open day")
    assert not [label for label in buttons(preview) if "🌍" in label]
    assert "🏛" not in preview["text"]

"""Confederation-wide reach, the super-admins' alone, through the emulator: an announcement to every
organization, to those active in a country or to chosen ones (a paginated list), with the right
counts and one message per member however many of its organizations they belong to (suspended
organizations left out); a quick poll and an event to everyone; results by organization with small
groups suppressed; and an organizer of one organization refused all of it, even by forged buttons."""

from __future__ import annotations

from typing import Any

from sqlmodel import func, select

from bot.services.members import TelegramIdentity, record_consent
from bot.services.roles import Actor, grant_role
from bot.services.surveys.rules import MIN_GROUP
from handlers.announcements.callbacks import AnnounceAction
from handlers.surveys.callbacks import SurveyDialog, SurveyManage
from storage.db import create_session_factory
from storage.models import Announcement, Event, Member, OrgStatus, OutboxMessage, Role, Survey
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.helpers import plain
from tests.e2e.reach_kit import (
    add_organization,
    belongs_to,
    caught_up,
    home_id,
    opened_survey_of,
    received,
    row,
    toast,
)
from tests.e2e.test_announce import composer, make_organizer, wait_delivered
from tests.e2e.test_organizations_seen import HOME, event_preview
from tests.e2e.test_survey_admin import closing_day, respond

STALE = "This button is no longer active."


async def super_admin(harness: Harness, language: str = "en") -> Any:
    """The confederation's staff (`ADMIN_IDS`): registered, a member of no organization (so that
    nothing it sends comes back to it)."""
    user = harness.emulator.create_user(
        "Root", username="root_admin", language_code=language, user_id=SUPER_ADMIN_ID
    )
    async with create_session_factory(harness.app.engine)() as session:
        identity = TelegramIdentity(user.id, "root_admin", "Root")
        await record_consent(session, identity, language, "UTC", None)
        await session.commit()
    return user


async def open_staff_dialog(harness: Harness, author: Any, command: str) -> dict[str, Any]:
    """/command for someone who may act for several organizations (a super-admin): the acting card
    comes first, then the dialog's own first card (returned)."""
    acting = await harness.send(author, command)
    assert acting["text"] == f"🏢 Acting for: {HOME}"
    return await harness.reply(author)


async def wide_composer(harness: Harness, author: Any, text: str) -> dict[str, Any]:
    """/announce by a super-admin, the text sent: the preview card."""
    await open_staff_dialog(harness, author, "/announce")
    await harness.emulator.send_text(author, text)
    return await harness.reply(author)


async def poll_audience(harness: Harness, author: Any, acting: bool = False) -> dict[str, Any]:
    """/poll answered up to its audience question ("Which day?", Saturday or Sunday, one answer,
    with names, closing in three days); that question's message. `acting`: the author may act for
    several organizations (the acting card comes first)."""
    await (open_staff_dialog(harness, author, "/poll") if acting else harness.send(author, "/poll"))
    await harness.send(author, "Which day?")
    so_far = await harness.send(author, "Saturday\nSunday")
    multiple = await harness.choose(author, so_far, "Done")
    anonymous = await harness.choose(author, multiple, "One answer")
    await harness.choose(author, anonymous, "👤 With names")
    confirm = await harness.send(author, closing_day()[0])
    return await harness.choose(author, confirm, "✅ Correct")


async def berlin_and_paris(harness: Harness) -> tuple[int, int, int]:
    """The deployment's organization, and two more: active in Germany, and in France."""
    berlin = await add_organization(harness, "Berlin Hilft", countries=["DE"])
    return home_id(harness), berlin, await add_organization(harness, "Paris Entraide", countries=["FR"])


async def copies(harness: Harness, kind: str, ref_id: int) -> dict[int, int]:
    """{chat id: outbox rows} of one broadcast."""
    async with create_session_factory(harness.app.engine)() as session:
        rows = (
            await session.exec(
                select(OutboxMessage.chat_id, func.count())
                .where(OutboxMessage.kind == kind, OutboxMessage.ref_id == ref_id)
                .group_by(OutboxMessage.chat_id)
            )
        ).all()
    return {int(chat): int(count) for chat, count in rows}


async def press_toast(harness: Harness, user: Any, message: dict[str, Any], label: str) -> str:
    return toast(harness, await harness.press(user, message, label))


def reaches(count: int) -> str:
    return f"Reaches {count} member" + ("" if count == 1 else "s")


async def test_a_confederation_wide_announcement_reaches_each_member_once(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    home, berlin, paris = await berlin_and_paris(harness)
    frozen = await add_organization(
        harness, "Hamburg (suspended)", countries=["DE"], status=OrgStatus.SUSPENDED
    )
    fillers = [await add_organization(harness, f"Zeta {n:02}") for n in range(9)]  # two pages to turn
    root = await super_admin(harness)
    amara = await registered("Amara", "fr")  # the deployment's organization only
    bruno = await registered("Bruno", "de")
    await belongs_to(harness, bruno, berlin)
    both = await registered("Bintou", "en")
    await belongs_to(harness, both, home, berlin)  # one copy, not two
    chloe = await registered("Chloé", "es")
    await belongs_to(harness, chloe, paris)
    dora = await registered("Dora", "en")
    await belongs_to(harness, dora, frozen)  # suspended: nothing goes out for it
    zoe = await registered("Zoe", "en")
    await belongs_to(harness, zoe, fillers[-1])

    card = await wide_composer(harness, root, "Hello <b>everyone</b>")
    assert "It reaches 2 members." in card["text"]  # Amara, Bintou: the deployment's own
    picker = await harness.choose(root, card, "🎯 Audience")
    labels = buttons(picker)
    assert {"🌐 All organizations", "🌍 Organizations active in…", "🏛 Choose organizations…"} <= set(labels)
    assert await press_toast(harness, root, picker, "🌐 All organizations") == reaches(5)
    picker = harness.message(root, picker["message_id"])
    assert "✅ 🌐 All organizations" in buttons(picker)

    await harness.press(root, picker, "🌍 Organizations active in…")
    countries = harness.message(root, picker["message_id"])
    assert buttons(countries) == ["France", "Germany", "← Back"]  # a suspended one's not counted apart
    assert await press_toast(harness, root, countries, "Germany") == reaches(2)  # Bruno, Bintou
    picker = harness.message(root, picker["message_id"])
    assert "✅ 🌍 Active in Germany" in buttons(picker)

    await harness.press(root, picker, "🏛 Choose organizations…")
    page = harness.message(root, picker["message_id"])
    assert buttons(page)[:3] == ["▫️ Berlin Hilft", f"▫️ {HOME}", "▫️ Paris Entraide"]
    assert "▫️ Hamburg (suspended)" not in buttons(page) and buttons(page)[-2:] == ["▶", "Done"]
    assert await press_toast(harness, root, page, "▫️ Paris Entraide") == reaches(1)
    assert await press_toast(harness, root, page, "▫️ Berlin Hilft") == reaches(3)
    await harness.press(root, page, "▶")
    page = harness.message(root, page["message_id"])
    assert buttons(page) == ["▫️ Zeta 05", "▫️ Zeta 06", "▫️ Zeta 07", "▫️ Zeta 08", "◀", "Done"]
    assert await press_toast(harness, root, page, "▫️ Zeta 08") == reaches(4)
    await harness.press(root, page, "Done")
    picker = harness.message(root, picker["message_id"])
    assert "✅ 🏛 Chosen organizations: 3" in buttons(picker)
    assert await press_toast(harness, root, picker, "🌐 All organizations") == reaches(5)
    card = await harness.choose(root, harness.message(root, picker["message_id"]), "Done")
    assert "Audience: all organizations" in card["text"] and "It reaches 5 members." in card["text"]

    await harness.press(root, card, "⚡ Urgent: off")
    confirm = await harness.choose(root, harness.message(root, card["message_id"]), "📤 Send now")
    assert confirm["text"].startswith("Send it to 5 members now?")
    status = await harness.choose(root, confirm, "✅ Yes, send it")
    assert "Received it: 5" in await wait_delivered(harness, root, status, "en")
    async with create_session_factory(harness.app.engine)() as session:
        announcement = (await session.exec(select(Announcement))).one()
    sent = await copies(harness, "announcement", announcement.id or 0)
    assert sent == {user.id: 1 for user in (amara, bruno, both, chloe, zoe)}
    for user in (amara, bruno, both, chloe, zoe):
        (message,) = received(harness, user, "Hello <b>everyone</b>")  # typed: its tags are text
        assert message["text"] == f"🏛 {HOME}\nHello <b>everyone</b>"
    assert received(harness, dora, "Hello") == []
    assert harness.emulator.errors == []


async def test_an_organizer_cannot_reach_other_organizations_even_by_forging(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    berlin = await add_organization(harness, "Berlin Hilft", countries=["DE"])
    organizer = await make_organizer(harness, registered, "en")
    bruno = await registered("Bruno", "en")
    await belongs_to(harness, bruno, berlin)

    card = await composer(harness, organizer, "Only ours")
    picker = await harness.choose(organizer, card, "🎯 Audience")
    assert not [label for label in buttons(picker) if "organization" in label.lower()]
    async with create_session_factory(harness.app.engine)() as session:
        mine = (await session.exec(select(Announcement))).one()
    for action, value in (("rch", "all"), ("rch_c", "DE"), ("rch_o", f"{berlin}.0"), ("rch_op", "0")):
        forged = AnnounceAction(action=action, id=mine.id or 0, value=value)
        assert await harness.forge(organizer, picker, forged) == STALE
    assert (await row(harness, Announcement, mine.id or 0)).audience == {}

    # A super-admin's confederation-wide draft in the same organization: not the organizer's to
    # open, count or send.
    async with create_session_factory(harness.app.engine)() as session:
        wide = Announcement(
            organization_id=home_id(harness),
            author_chat_id=SUPER_ADMIN_ID,
            text="To all",
            audience={"reach": {"all": True}},
        )
        session.add(wide)
        await session.commit()
        wide_id = wide.id or 0
    for action in ("send", "send_confirm", "audience", "preview", "aud_clear", "rch"):
        assert (
            await harness.forge(organizer, picker, AnnounceAction(action=action, id=wide_id, value="all"))
            == STALE
        )
    assert await copies(harness, "announcement", wide_id) == {}
    assert (await row(harness, Announcement, wide_id)).audience == {"reach": {"all": True}}

    # The quick poll dialog's audience step: no reach offered, none taken.
    audience = await poll_audience(harness, organizer)
    await harness.press(organizer, audience, "Choose…")
    picker = await harness.edited(organizer, audience)
    assert not [label for label in buttons(picker) if "organization" in label.lower()]
    for action, value in (("rch", "all"), ("rch_c", "DE"), ("rch_o", f"{berlin}.0")):
        assert await harness.forge(organizer, picker, SurveyDialog(action=action, value=value)) == STALE
    await harness.press(organizer, picker, "Done")
    await harness.reply(organizer)  # the preview's heading
    card = await harness.reply(organizer)
    assert "It reaches 1 member." in card["text"]
    await harness.choose(organizer, card, "📤 Publish")
    async with create_session_factory(harness.app.engine)() as session:
        poll = (await session.exec(select(Survey))).one()
    assert poll.audience == {}
    assert harness.emulator.errors == []
    assert await copies(harness, "survey", poll.id or 0) == {organizer.id: 1}  # Bruno's is Berlin's


async def test_a_poll_and_an_event_to_everyone_and_survey_results_by_organization(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    home, berlin, paris = await berlin_and_paris(harness)
    lyon = await add_organization(harness, "Lyon Solidaire", countries=["FR"])
    root = await super_admin(harness)
    ours = [await registered(f"Home {n}", "en") for n in range(MIN_GROUP + 1)]
    theirs = [await registered(f"Berlin {n}", "de") for n in range(MIN_GROUP)]
    few = [await registered(f"Paris {n}", "fr") for n in range(2)]
    others = [await registered(f"Lyon {n}", "fr") for n in range(3)]
    for users, organization in ((theirs, berlin), (few, paris), (others, lyon)):
        for user in users:
            await belongs_to(harness, user, organization)
    await belongs_to(harness, theirs[0], berlin, home)  # in two: counted under Berlin, joined first
    everyone = len(ours) + len(theirs) + len(few) + len(others)

    # A quick poll to every organization: each member's copy names the organization it comes from.
    audience = await poll_audience(harness, root, acting=True)
    await harness.press(root, audience, "Choose…")
    picker = await harness.edited(root, audience)
    await harness.press(root, picker, "🌐 All organizations")
    await harness.press(root, harness.message(root, picker["message_id"]), "Done")
    await harness.reply(root)  # the preview's heading
    card = await harness.reply(root)
    assert f"It reaches {everyone} members." in card["text"] and "all organizations" in card["text"]
    await harness.choose(root, card, "📤 Publish")
    poll_copy = await harness.reply(few[0], timeout=15)
    assert poll_copy["poll"]["question"] == f"🏛 {HOME}: Which day?"
    async with create_session_factory(harness.app.engine)() as session:
        poll = (await session.exec(select(Survey))).one()
    assert await copies(harness, "survey", poll.id or 0) == {
        user.id: 1 for user in (*ours, *theirs, *few, *others)
    }

    # A survey reaching every organization: its results by organization, small groups merged.
    survey_id = await opened_survey_of(
        harness, home, "Needs", [("yes_no", "Coming?", {})], audience={"reach": {"all": True}}
    )
    for user in [*ours, *theirs, *few, *others]:
        await respond(harness, user, survey_id, [True])
    listing = await open_staff_dialog(harness, root, "/results")
    results = await harness.choose(root, listing, f"#{survey_id} Needs")
    await harness.press(root, results, "🏛 By organization")  # (the results' charts come too)
    await harness.emulator.wait_for(lambda _: received(harness, root, "🏛 By organization"), timeout=10)
    (breakdown,) = received(harness, root, "🏛 By organization")
    lines = breakdown["text"].splitlines()
    assert lines[0] == "🏛 By organization"
    assert f"{HOME} — {MIN_GROUP + 1} responses" in lines
    assert f"Berlin Hilft — {MIN_GROUP} responses" in lines
    assert "Other (2 smaller groups) — 5 responses" in lines
    assert "Paris" not in breakdown["text"] and "Lyon" not in breakdown["text"]

    # A coordinator of the deployment's organization cannot open it: its counts are of others.
    coordinator = await registered("Coco", "en")
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == coordinator.id))).one()
        await grant_role(session, Actor(1, True), home, member, Role.COORDINATOR)
        await session.commit()
    own_listing = await harness.send(coordinator, "/results")
    for action, value in (("open", ""), ("by", "org"), ("by", "lang"), ("csv", "")):
        forged = SurveyManage(action=action, id=survey_id, value=value)
        assert await harness.forge(coordinator, own_listing, forged) == STALE

    # An event told to every organization is open to them: a member of Lyon books it.
    await caught_up(harness, root)  # the results' charts
    header, preview = await event_preview(harness, root, "Festival", everywhere=True)
    assert header["text"].endswith(f"This event reaches {everyone + 1} members.")  # and Coco
    assert preview["text"].splitlines()[:3] == [
        "📅 Festival",
        f"🏛 {HOME}",
        "🌍 Open to members of every organization",
    ]
    assert not [label for label in buttons(preview) if "🌍" in label]  # open, as it is told to all
    await harness.choose(root, preview, "📤 Publish")
    async with create_session_factory(harness.app.engine)() as session:
        festival = (await session.exec(select(Event))).one()
    assert festival.open_to_all and festival.audience == {"reach": {"all": True}}

    new_event = plain(harness.t("📣 <b>New event</b>", "fr"))  # in the member's language

    def told(_: Any) -> bool:
        return bool(received(harness, others[0], new_event))

    await harness.emulator.wait_for(told, timeout=15)
    (notice,) = received(harness, others[0], new_event)
    assert notice["text"].splitlines()[2:5] == [
        "📅 Festival",
        f"🏛 {HOME}",
        plain(harness.t("🌍 Open to members of every organization", "fr")),
    ]
    query = await harness.press(others[0], notice, harness.t("✅ Going", "fr"))
    assert toast(harness, query) == harness.t("✅ You're going. See you there!", "fr")
    assert harness.emulator.errors == []

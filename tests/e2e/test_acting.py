"""Acting for an organization: staff of two organizations choose which one their dialogs act for,
and /myevents follows; staff of one organization cannot switch to another, nor open, edit or
publish its events, surveys or trainings with forged buttons; roles granted in another
organization show in the command menu."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bot.services import events as event_service
from bot.services import surveys as survey_service
from bot.services import trainings as training_service
from bot.services.members import TelegramIdentity, record_consent
from bot.services.trainings import SessionInput
from handlers.composer.acting import ActingFor
from handlers.events.callbacks import EventAdmin
from handlers.orgs_admin.buttons import OrgAdmin
from handlers.surveys.callbacks import SurveyDialog, SurveyManage
from handlers.trainings.callbacks import TrainingAdmin
from storage.db import create_session_factory
from storage.models import (
    Event,
    EventStatus,
    Member,
    Membership,
    Organization,
    OutboxMessage,
    Role,
    Survey,
    SurveyStatus,
    Training,
)
from storage.types import utcnow
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.helpers import another_organization, give_role

STALE = "This button is no longer active."


async def event_of(harness: Harness, organization_id: int, title: str, publish: bool = True) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        now = utcnow()
        event = await event_service.create_event(
            session, organization_id=organization_id, title=title, starts_at=now + timedelta(days=5), now=now
        )
        if publish:
            await event_service.publish(session, event, organization, now, announce=False)
        await session.commit()
        return event.id or 0


async def acting_id(harness: Harness, user: Any) -> int | None:
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        return member.acting_organization_id


async def test_staff_of_two_organizations_switch_and_myevents_follows(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    own = harness.app.dispatcher["organization"].id
    youth = await another_organization(harness)
    olga = await registered("Olga", "en")
    await give_role(harness, olga, own, Role.ORGANIZER)
    await give_role(harness, olga, youth, Role.ORGANIZER)
    await event_of(harness, own, "Community picnic")
    await event_of(harness, youth, "Youth concert")

    banner = await harness.send(olga, "/myevents")
    assert banner["text"] == "🏢 Acting for: Diaspora Bridge community"
    listing = await harness.reply(olga)
    assert "Community picnic" in listing["text"] and "Youth concert" not in listing["text"]

    await harness.press(olga, banner, "🔄 Change")
    choices = await harness.edited(olga, banner)
    assert choices["text"] == "Which organization do you act for?"
    assert buttons(choices) == ["✅ Diaspora Bridge community", "Youth network"]
    await harness.press(olga, choices, "Youth network")
    assert harness.message(olga, choices["message_id"])["text"].endswith("Youth network ✓")
    assert (await harness.reply(olga))["text"] == "🏢 Acting for: Youth network"
    listing = await harness.reply(olga)
    assert "Youth concert" in listing["text"] and "Community picnic" not in listing["text"]
    assert await acting_id(harness, olga) == youth

    # Remembered: the next dialog acts for the youth network too.
    assert (await harness.send(olga, "/newevent"))["text"] == "🏢 Acting for: Youth network"
    assert (await harness.reply(olga))["text"].startswith("🗓 New event")
    await harness.send(olga, "/cancel")

    # Losing the role there: back to the organization where she still is staff.
    await give_role(harness, olga, youth, Role.MEMBER)
    listing = await harness.send(olga, "/myevents")
    assert "Community picnic" in listing["text"]  # no acting card: one organization left
    assert harness.emulator.errors == []


async def test_staff_of_one_organization_cannot_reach_another(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    own = harness.app.dispatcher["organization"].id
    youth = await another_organization(harness)
    ivan = await registered("Ivan", "en")
    await give_role(harness, ivan, own, Role.ADMIN)
    their_event = await event_of(harness, youth, "Their concert")
    their_draft = await event_of(harness, youth, "Their draft", publish=False)
    now = utcnow()
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, youth)
        assert organization is not None
        survey = await survey_service.create_survey(session, youth, "Their survey", now)
        await survey_service.add_question(session, survey, "text", "Why?")
        sessions = [SessionInput(now + timedelta(days=3), 60)]
        training = await training_service.create_training(
            session, organization, None, title="Their training", capacity=5, sessions=sessions, now=now
        )
        await session.commit()
        survey_id, training_id = survey.id or 0, training.id or 0

    listing = await harness.send(ivan, "/myevents")  # no acting card: nothing to choose
    assert "Their" not in listing["text"]
    forged = [
        ActingFor(action="set", command="myevents", org=youth),
        ActingFor(action="list", command="myevents"),
        EventAdmin(action="open", id=their_event),
        EventAdmin(action="cancel_yes", id=their_event),
        EventAdmin(action="publish", id=their_draft),
        EventAdmin(action="ef", id=their_draft, value="title"),
        SurveyManage(action="open", id=survey_id),
        SurveyDialog(action="publish", id=survey_id),
        SurveyDialog(action="discard", id=survey_id),
        TrainingAdmin(action="open", id=training_id),
        TrainingAdmin(action="cancel_yes", id=training_id),
        OrgAdmin(action="open", org=youth),
        OrgAdmin(action="link_yes", org=youth),
    ]
    for data in forged:
        assert await harness.forge(ivan, listing, data) == STALE, data
    await asyncio.sleep(0.3)
    assert await acting_id(harness, ivan) is None
    async with create_session_factory(harness.app.engine)() as session:
        statuses = {event.title: event.status for event in (await session.exec(select(Event))).all()}
        assert (
            statuses["Their concert"] == EventStatus.PUBLISHED
            and statuses["Their draft"] == EventStatus.DRAFT
        )
        assert (await session.get(Survey, survey_id)).status == SurveyStatus.DRAFT  # type: ignore[union-attr]
        assert (await session.get(Training, training_id)) is not None
        assert (await session.exec(select(OutboxMessage))).all() == []
        youth_org = await session.get(Organization, youth)
        assert youth_org is not None and youth_org.invite_code == "youth-invite-1"
    # Nothing of the other organization was shown to him.
    said = " ".join(m.get("text") or "" for m in harness.emulator.transcript(ivan.id) if m["outgoing"])
    assert "Their" not in said and "Youth" not in said
    assert harness.emulator.errors == []


async def test_a_role_in_another_organization_shows_in_the_menu_and_its_dialogs(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """A super-admin switches /admin to the youth network and makes Nadia (a plain member of the
    deployment's own organization) its organizer: her menu gets the organizer commands, her
    dialogs act for the youth network, and her preview says so."""
    youth = await another_organization(harness)
    nadia = await registered("Nadia", "en", username="nadia_y")
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)
    async with create_session_factory(harness.app.engine)() as session:  # registered, as staff are
        await record_consent(session, TelegramIdentity(root.id, None, "Root"), "en", "UTC", None)
        await session.commit()

    banner = await harness.send(root, "/admin")
    assert banner["text"] == "🏢 Acting for: Diaspora Bridge community"
    await harness.reply(root)  # the menu
    await harness.press(root, banner, "🔄 Change")
    choices = await harness.edited(root, banner)
    await harness.press(root, choices, "Youth network")
    await harness.reply(root)  # the acting card again
    menu = await harness.reply(root)
    assert menu["text"].startswith("🛠 Administration\n\nYouth network has 0 registered members.")
    await harness.choose(root, menu, "➕ Make someone organizer")
    assert (await harness.send(root, "@nadia_y"))["text"] == "✅ Done: Nadia is now organizer."
    notice = await harness.reply(nadia)
    assert notice["text"] == "You are now organizer in Youth network. Send /help to see your commands."
    menu_commands = harness.emulator.commands(scope={"type": "chat", "chat_id": nadia.id}, language_code="")
    assert {"newevent", "myevents", "announce"} <= {command["command"] for command in menu_commands or []}

    question = await harness.send(nadia, "/newevent")  # one organization to act for: no card
    assert question["text"].startswith("🗓 New event")
    await harness.send(nadia, "/cancel")
    await harness.send(nadia, "/announce")
    card = await harness.send(nadia, "Hello, youth!")
    assert "🏢 For: Youth network" in card["text"]  # the preview names the organization
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == nadia.id))).one()
        roles = (
            await session.exec(
                select(Membership.organization_id, Membership.role)
                .where(Membership.member_id == member.id)
                .order_by(col(Membership.organization_id))
            )
        ).all()
    assert roles == [(harness.app.dispatcher["organization"].id, Role.MEMBER), (youth, Role.ORGANIZER)]
    assert harness.emulator.errors == []

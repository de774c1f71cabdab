"""Invite links `t.me/<bot>?start=org_<code>`: a registered member joins (or asks to) at once; a
newcomer is welcomed by that organization, registers (surviving a restart half-way) and then joins
it, instead of the deployment's own; unknown and rotated codes are refused politely, and someone
trying codes is slowed down."""

from __future__ import annotations

from storage.db import create_session_factory
from storage.models import JoinPolicy, Organization, Role
from tests.e2e.conftest import Harness, buttons, restart_bot
from tests.e2e.helpers import plain
from tests.e2e.org_kit import add_to, audit_trail, organizations_of, seed_org
from tests.e2e.test_joining import REQUESTED, WELCOME
from tests.e2e.test_registration import WELCOME as GREETING

INVALID = "This invite link is no longer valid. Ask the organization for its current link."


async def test_a_registered_member_joins_by_the_link_even_an_invite_only_organization(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "fr")
    closed = await seed_org(
        harness,
        "Cercle privé",
        join_policy=JoinPolicy.INVITE,
        visibility="unlisted",
        description="Entre nous",
    )
    card = await harness.send(amina, f"/start org_{closed.invite_code}")
    assert card["text"].startswith(plain(harness.t(WELCOME, "fr", organization="<b>Cercle privé</b>")))
    assert "Entre nous" in card["text"]
    assert closed.id in await organizations_of(harness, amina)
    again = await harness.send(amina, f"/start org_{closed.invite_code}")
    assert again["text"].startswith(
        plain(harness.t("✅ You are a member of {organization}.", "fr", organization="<b>Cercle privé</b>"))
    )
    joins = [e for e in await audit_trail(harness) if e.organization_id == closed.id]
    assert [e.action for e in joins] == ["membership.joined"]


async def test_the_link_of_an_organization_that_approves_sends_a_request(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    kofi = await registered("Kofi", "en")
    amina = await registered("Amina", "ar")
    berlin = await seed_org(harness, "Berlin", join_policy=JoinPolicy.APPROVAL)
    await add_to(harness, kofi, berlin, Role.ADMIN)
    answer = await harness.send(amina, f"/start org_{berlin.invite_code}")
    assert answer["text"].startswith(plain(harness.t(REQUESTED, "ar", organization="<b>Berlin</b>")))
    notice = await harness.reply(kofi)
    assert buttons(notice) == ["✅ Approve", "❌ Decline"]
    assert berlin.id not in await organizations_of(harness, amina)


async def test_unknown_and_rotated_codes_are_refused_and_guessing_is_slowed_down(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "ru")
    lyon = await seed_org(harness, "Lyon")
    old_code = lyon.invite_code
    async with create_session_factory(harness.app.engine)() as session:
        row = await session.get(Organization, lyon.id)
        assert row is not None
        row.invite_code = "rotated-Code_42"
        session.add(row)
        await session.commit()
    for code in (old_code, "nope1234"):
        assert (await harness.send(amina, f"/start org_{code}"))["text"] == harness.t(INVALID, "ru")
    assert lyon.id not in await organizations_of(harness, amina)
    for attempt in range(3):  # five wrong codes in all
        await harness.send(amina, f"/start org_wrong{attempt}xyz")
    slowed = await harness.send(amina, "/start org_rotated-Code_42")  # even the right one waits now
    assert slowed["text"] == harness.t(
        "Too many links that don't work. Please try again in {minutes} minute.",
        "ru",
        "Too many links that don't work. Please try again in {minutes} minutes.",
        10,
        minutes=10,
    )
    assert lyon.id not in await organizations_of(harness, amina)


async def test_a_newcomer_registers_through_the_link_across_a_restart_and_joins_that_organization(
    harness: Harness,
) -> None:
    lyon = await seed_org(harness, "Lyon Sénégal", translations={"sw": {"name": "Lyon Senegali"}})
    joy = harness.emulator.create_user("Joy", language_code="sw")
    greeting = await harness.send(joy, f"/start org_{lyon.invite_code}")
    assert greeting["text"] == plain(harness.t(GREETING, "sw", organization="Lyon Senegali"))
    await harness.press(joy, greeting, "Kiswahili")
    notice = await harness.edited(joy, greeting)
    assert "Lyon Senegali" in notice["text"]
    await harness.choose(joy, notice, harness.t("✅ I agree", "sw"))  # "let's set up your profile"
    question = await harness.reply(joy)
    skip = harness.t("Skip", "sw")
    await harness.press(joy, question, skip)  # name
    await harness.reply(joy)  # the origin question
    assert await organizations_of(harness, joy) == set()  # not the deployment's own organization

    await restart_bot(harness)  # mid-onboarding: the invitation is kept with the dialog's state
    question = await harness.send(joy, "/start")  # resumes at the next question
    for _ in range(4):  # origin, residence, city, time zone
        await harness.press(joy, question, skip)
        question = await harness.reply(joy)
    ready = await harness.choose(joy, question, harness.t("Done", "sw"))  # interests
    assert ready["text"].startswith(harness.t("🎉 Your profile is ready!", "sw"))
    card = await harness.reply(joy)
    assert card["text"].startswith(plain(harness.t(WELCOME, "sw", organization="<b>Lyon Senegali</b>")))
    assert await organizations_of(harness, joy) == {lyon.id}


async def test_a_newcomer_with_a_dead_link_is_told_and_registers_with_the_deployment(
    harness: Harness,
) -> None:
    joy = harness.emulator.create_user("Joy", language_code="en")
    invalid = await harness.send(joy, "/start org_doesnotexist")
    assert invalid["text"] == INVALID
    greeting = await harness.reply(joy)
    assert greeting["text"] == plain(
        harness.t(GREETING, "en", organization=harness.settings.organization_name)
    )

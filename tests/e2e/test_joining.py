"""Joining organizations from the directory: at once (open), by a request the organization's
admins approve or decline (each told in their language, the member too), never by a forged button;
and leaving (/orgs), which cancels that organization's waiting messages."""

from __future__ import annotations

from bot.views.memberships import JoinDecision
from handlers.members.callbacks import DirectoryButton
from storage.models import AuditEntry, JoinPolicy, JoinRequestStatus, Role
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.helpers import plain
from tests.e2e.org_kit import add_to, audit_trail, organizations_of, requests, seed_org, texts_to

WELCOME = "🎉 Welcome to {organization}! You are now a member: its news and events will reach you."
REQUESTED = (
    "📨 Your request to join {organization} was sent to its administrators. I will tell you their answer."
)
APPROVED = (
    "🎉 Your request to join <b>{organization}</b> was approved: you are now a member. "
    "Its news and events will reach you. /orgs lists your organizations."
)
DECLINED = "Your request to join <b>{organization}</b> was declined. You can find other organizations with /directory."


def actions(trail: list[AuditEntry]) -> list[str]:
    return [entry.action for entry in trail]


async def test_a_member_joins_an_open_organization_from_the_directory_once(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "fr")
    lyon = await seed_org(harness, "Lyon Sénégal", countries=["FR"], languages=["fr"], description="Entraide")
    page = await harness.send(amina, "/directory")
    assert (
        harness.t("🔎 <b>Directory of organizations and networks</b>", "fr")
        .replace("<b>", "")
        .replace("</b>", "")
        in page["text"]
    )
    await harness.press(amina, page, "Lyon Sénégal")
    card = await harness.edited(amina, page)
    assert "Entraide" in card["text"] and "France" in card["text"]
    assert harness.t("✅ Join", "fr") in buttons(card)

    await harness.press(amina, card, harness.t("✅ Join", "fr"))
    joined = await harness.edited(amina, card)
    assert joined["text"].startswith(plain(harness.t(WELCOME, "fr", organization="<b>Lyon Sénégal</b>")))
    assert harness.t("✅ Join", "fr") not in buttons(joined)
    assert lyon.id in await organizations_of(harness, amina)

    # A double tap (the old button pressed again) changes nothing.
    await harness.emulator.press_button(
        amina, card, callback_data=DirectoryButton(action="join", org=lyon.id or 0).pack(), forge=True
    )
    await harness.emulator.wait_for(lambda emu: len(emu.callback_answers) >= 3, timeout=10)
    trail = [entry for entry in await audit_trail(harness) if entry.organization_id == lyon.id]
    assert actions(trail) == ["membership.joined"] and trail[0].details == {}


async def open_in_directory(harness: Harness, user, name: str) -> dict:  # type: ignore[no-untyped-def]
    """/directory, then the organization's card (the directory message, edited)."""
    page = await harness.send(user, "/directory")
    await harness.press(user, page, name)
    return await harness.edited(user, page)


async def test_a_request_is_approved_by_one_admin_the_other_is_told_and_the_member_too(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    kofi = await registered("Kofi", "de")
    sara = await registered("Sara", "ar")
    amina = await registered("Amina", "fr")
    berlin = await seed_org(harness, "Frauen Berlin", join_policy=JoinPolicy.APPROVAL, default_language="de")
    await add_to(harness, kofi, berlin, Role.ADMIN)
    await add_to(harness, sara, berlin, Role.ADMIN)

    card = await open_in_directory(harness, amina, "Frauen Berlin")
    await harness.press(amina, card, harness.t("📨 Request to join", "fr"))
    asked = await harness.edited(amina, card)
    assert asked["text"].startswith(plain(harness.t(REQUESTED, "fr", organization="<b>Frauen Berlin</b>")))
    assert buttons(asked)[0] == harness.t("✖ Withdraw my request", "fr")
    assert berlin.id not in await organizations_of(harness, amina)

    notices = {}
    for admin, language in ((kofi, "de"), (sara, "ar")):
        notice = await harness.reply(admin)
        header = harness.t("📨 <b>Request to join {organization}</b>", language, organization="Frauen Berlin")
        assert notice["text"].startswith(plain(header)), notice["text"]
        assert "Amina" in notice["text"]
        assert buttons(notice) == [harness.t("✅ Approve", language), harness.t("❌ Decline", language)]
        notices[language] = notice

    await harness.press(kofi, notices["de"], harness.t("✅ Approve", "de"))
    decided = await harness.edited(kofi, notices["de"])
    assert decided["text"].endswith(
        harness.t("✅ Approved by you: {name} is now a member.", "de", name="Amina")
    )
    assert buttons(decided) == []
    told = await harness.reply(amina)
    assert told["text"] == plain(harness.t(APPROVED, "fr", organization="Frauen Berlin"))
    assert berlin.id in await organizations_of(harness, amina)

    # Sara presses after Kofi decided: told who did, nothing changes.
    toast_query = await harness.press(sara, notices["ar"], harness.t("✅ Approve", "ar"))
    assert harness.emulator.callback_answers[toast_query]["text"] == harness.t(
        "Already approved by {name}.", "ar", name="Kofi"
    )
    trail = [entry for entry in await audit_trail(harness) if entry.organization_id == berlin.id]
    assert actions(trail) == ["join.requested", "join.approved", "membership.joined"]
    assert trail[1].actor_telegram_id == kofi.id and trail[2].details == {}
    [request] = await requests(harness)
    assert (request.status, request.decided_by_telegram_id) == (JoinRequestStatus.APPROVED, kofi.id)


async def test_a_declined_member_is_told_and_a_forged_decision_changes_nothing(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    people = [("Sara", "ar"), ("Ivan", "ru"), ("Eve", "en"), ("Olu", "en")]
    sara, ivan, eve, other_admin = [await registered(name, language) for name, language in people]
    organizations = [
        await seed_org(harness, name, join_policy=policy)
        for name, policy in (("Frauen Berlin", JoinPolicy.APPROVAL), ("Elsewhere", JoinPolicy.OPEN))
    ]
    berlin = organizations[0]
    for admin, organization in zip((sara, other_admin), organizations, strict=True):
        await add_to(harness, admin, organization, Role.ADMIN)

    card = await open_in_directory(harness, ivan, "Frauen Berlin")
    await harness.press(ivan, card, harness.t("📨 Request to join", "ru"))
    notice = await harness.reply(sara)
    [request] = await requests(harness)

    # Someone who is no admin of Frauen Berlin (a member, another organization's admin) forges the
    # buttons: refused like a stale button, nothing changes, nothing is said about the request.
    stale = "This button is no longer active."
    for intruder in (eve, other_admin):
        hello = await harness.send(intruder, "/orgs")
        for approve in (True, False):
            answer = await harness.forge(
                intruder, hello, JoinDecision(request=request.id or 0, approve=approve)
            )
            assert answer == stale
    assert (await requests(harness))[0].status == JoinRequestStatus.PENDING

    await harness.press(sara, notice, harness.t("❌ Decline", "ar"))
    told = await harness.reply(ivan)
    assert told["text"] == plain(harness.t(DECLINED, "ru", organization="Frauen Berlin"))
    assert berlin.id not in await organizations_of(harness, ivan)
    trail = [entry.action for entry in await audit_trail(harness) if entry.organization_id == berlin.id]
    assert trail == ["join.requested", "join.declined"]

    # Asking again reopens the request: the admins are asked again.
    card = await open_in_directory(harness, ivan, "Frauen Berlin")
    await harness.press(ivan, card, harness.t("📨 Request to join", "ru"))
    second = await harness.reply(sara)
    assert buttons(second) == [harness.t("✅ Approve", "ar"), harness.t("❌ Decline", "ar")]
    await harness.press(sara, second, harness.t("✅ Approve", "ar"))
    assert (await harness.reply(ivan))["text"] == plain(
        harness.t(APPROVED, "ru", organization="Frauen Berlin")
    )


async def test_an_organization_without_admins_sends_requests_to_the_super_admins(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)
    amina = await registered("Amina", "fr")
    await seed_org(harness, "New Network", join_policy=JoinPolicy.APPROVAL)
    card = await open_in_directory(harness, amina, "New Network")
    await harness.press(amina, card, harness.t("📨 Request to join", "fr"))
    notice = await harness.reply(root)
    assert notice["text"].startswith("📨 Request to join New Network")
    await harness.press(root, notice, "✅ Approve")
    assert (await harness.reply(amina))["text"] == plain(
        harness.t(APPROVED, "fr", organization="New Network")
    )


async def test_forged_join_buttons_of_invite_only_and_unlisted_organizations_change_nothing(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "en")
    closed = await seed_org(harness, "Invite Only", join_policy=JoinPolicy.INVITE)
    hidden = await seed_org(harness, "Hidden", visibility="unlisted")
    card = await open_in_directory(harness, amina, "Invite Only")
    assert buttons(card) == [harness.t("⬅️ Back to the directory", "en")]
    assert harness.t("🔒 This organization takes new members by invitation only.", "en") in card["text"]
    answers = [
        await harness.forge(amina, card, DirectoryButton(action="join", org=closed.id or 0)),
        await harness.forge(amina, card, DirectoryButton(action="join", org=hidden.id or 0)),
        await harness.forge(amina, card, DirectoryButton(action="join", org=999999)),
    ]
    assert answers == [
        "This organization takes new members by invitation only: ask it for its invite link.",
        "This organization is no longer in the directory.",
        "This organization is no longer in the directory.",
    ]
    assert await organizations_of(harness, amina) == {harness.app.dispatcher["organization"].id}
    assert not [
        entry for entry in await audit_trail(harness) if entry.organization_id in (closed.id, hidden.id)
    ]
    assert "Hidden" not in "".join(texts_to(harness, amina))


async def test_a_suspended_organization_cannot_be_joined(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "en")
    paused = await seed_org(harness, "Paused", status="suspended")
    hello = await harness.send(amina, "/orgs")
    answer = await harness.forge(amina, hello, DirectoryButton(action="join", org=paused.id or 0))
    assert answer == "This organization is suspended for now: it cannot take new members."
    assert paused.id not in await organizations_of(harness, amina)

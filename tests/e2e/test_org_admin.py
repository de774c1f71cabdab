"""Organization management: the confederation's staff create and edit organizations with
/manageorgs, every field through the emulator, bad input refused with the step kept, every change
audited by field name; an organization's own admin edits only their own card."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from handlers.orgs_admin.buttons import OrgAdmin, OrgEdit
from storage.db import create_session_factory
from storage.models import AuditEntry, JoinPolicy, Organization, OrgKind, Role, Visibility
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.helpers import another_organization, give_role, plain


def root_user(harness: Harness) -> Any:
    return harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)


async def organization(harness: Harness, name: str) -> Organization:
    async with create_session_factory(harness.app.engine)() as session:
        return (await session.exec(select(Organization).where(Organization.name == name))).one()


async def audit(harness: Harness) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = (await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all()
        return [(row.action, row.organization_id, row.details) for row in rows]


async def picked(
    harness: Harness, user: Any, card: dict[str, Any], button: str, choice: str
) -> dict[str, Any]:
    """Press `button` on the card, then `choice` under the question it asks: the card that follows."""
    question = await harness.choose(user, card, button)
    await harness.press(user, question, choice)
    return await card_after(harness, user)


async def card_after(harness: Harness, user: Any) -> dict[str, Any]:
    """The next card the bot sends (skipping a "✅ Saved." or a choice's echo before it)."""
    while True:
        message = await harness.reply(user)
        if "Invite link:" in (message.get("text") or ""):
            return message


async def test_super_admin_creates_and_edits_an_organization(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    await registered("Awa", "fr")
    root = root_user(harness)
    listing = await harness.send(root, "/manageorgs")
    assert "Diaspora Bridge community" in listing["text"]
    assert "organization, active, 1 member" in plain(listing["text"])
    assert "➕ New organization" in buttons(listing)

    # A new organization: an overlong or taken name is refused and the step waits.
    assert (await harness.choose(root, listing, "➕ New organization"))["text"].startswith("What is the new")
    assert "too long" in (await harness.send(root, "N" * 129))["text"]
    assert (await harness.send(root, "diaspora bridge COMMUNITY"))["text"] == (
        "Another organization already has this name. Please choose another one."
    )
    created = await harness.send(root, "Réseau des femmes")
    assert (
        created["text"]
        == "✅ Réseau des femmes is created. Complete its card: description, countries, languages…"
    )
    card = await harness.reply(root)
    women = await organization(harness, "Réseau des femmes")
    assert women.slug == "reseau-des-femmes" and len(women.invite_code or "") >= 8
    assert f"https://t.me/diaspora_bridge_bot?start=org_{women.invite_code}" in card["text"]

    # Texts through the composer kit's field edit: too long, then right.
    prompt = await harness.choose(root, card, "📝 Description")
    assert prompt["text"] == "Send a short description (500 characters at most)."
    assert "too long" in (await harness.send(root, "x" * 501))["text"]
    assert (await harness.send(root, "Entraide & <b>réseau</b>"))["text"] == "✅ Saved."
    card = await harness.reply(root)
    assert "Entraide & <b>réseau</b>" in card["text"]  # escaped: shown as typed
    await harness.choose(root, card, "🏙 Cities")
    assert (await harness.send(root, "Berlin, Hamburg, berlin"))["text"] == "✅ Saved."
    card = await harness.reply(root)
    assert "Cities: Berlin and Hamburg" in plain(card["text"])
    await harness.choose(root, card, "☎️ Contact")
    assert "too long" in (await harness.send(root, "c" * 201))["text"]
    await harness.send(root, "femmes@example.org")
    card = await harness.reply(root)
    await harness.choose(root, card, "✏️ Name")
    assert "already has this name" in (await harness.send(root, "Diaspora Bridge Community"))["text"]
    await harness.send(root, "Réseau des femmes d'Europe")
    card = await harness.reply(root)

    # A translation of the name and description (the kit's flow).
    languages = await harness.choose(root, card, "🌐 Translations")
    prompt = await harness.choose(root, languages, "Deutsch")
    assert prompt["text"] == "Send the organization's name in Deutsch, or keep the original."
    await harness.send(root, "Frauennetzwerk Europa")  # the description's prompt
    assert (await harness.send(root, "Gegenseitige Hilfe"))["text"] == "✅ Translation saved: Deutsch."
    card = await harness.reply(root)
    assert "Translations: Deutsch" in plain(card["text"])

    # Buttons: kind, visibility, join policy, languages, default language.
    card = await harness.choose(root, card, "🔁 Make it a network")
    assert "network, active" in plain(card["text"])
    card = await harness.choose(root, card, "🙈 Unlist it")
    assert "Visibility: unlisted (invite link only)" in plain(card["text"])
    card = await picked(harness, root, card, "🚪 Joining", "on approval by its admins")
    assert "Joining: on approval by its admins" in plain(card["text"])
    toggles = await harness.choose(root, card, "🗣 Languages")
    await harness.press(root, toggles, "▫️ Deutsch")
    await harness.press(root, toggles, "▫️ Français")
    card = await harness.choose(root, toggles, "Done")
    assert "Working languages: English, Français, and Deutsch" in plain(card["text"])
    card = await picked(harness, root, card, "🔤 Default language", "Français")
    assert "Default language: Français" in plain(card["text"])

    # Countries typed in any language, chosen among several, removed with a tap.
    countries = await harness.choose(root, card, "🌍 Countries")
    assert plain(countries["text"]).startswith(
        "🌍 Countries where Réseau des femmes d'Europe is active: not set."
    )
    assert (await harness.send(root, "Atlantis"))["text"].startswith("I couldn't find a country called")
    assert "Germany" in (await harness.send(root, "Allemagne"))["text"]
    which = await harness.send(root, "Congo")
    assert which["text"] == "Which one do you mean?"
    await harness.press(root, which, "Congo - Kinshasa")
    shown = await card_after_countries(harness, root)
    assert "Germany and Congo - Kinshasa" in plain(shown["text"])
    await harness.press(root, shown, "❌ Congo - Kinshasa")
    shown = await harness.edited(root, shown)
    assert "Congo" not in plain(shown["text"])
    card = await harness.choose(root, shown, "Done")
    assert "Countries: Germany" in plain(card["text"])

    # The time zone: a country (its own, as a button), then its zones.
    question = await harness.choose(root, card, "🕒 Time zone")
    zones = await harness.choose(root, question, "Germany")
    await harness.press(
        root, zones, "Berlin (UTC+1)" if "Berlin (UTC+1)" in buttons(zones) else "Berlin (UTC+2)"
    )
    card = await card_after(harness, root)
    assert "Time zone: Berlin" in plain(card["text"])

    # Quiet hours, as /admin takes them.
    await harness.choose(root, card, "🌙 Quiet hours")
    assert (await harness.send(root, "late"))["text"].startswith("Please send hours like")
    assert (await harness.send(root, "21:00-07:30"))["text"] == "✅ Quiet hours: 21:00–07:30."
    card = await harness.reply(root)

    # The logo: a photo, kept by its file_id and shown with sendPhoto before the card.
    asked = await harness.choose(root, card, "🖼 Logo")
    assert asked["text"] == "Send the logo as a photo, or /cancel to keep it as it is."
    assert (await harness.send(root, "a logo"))["text"] == "Please send a photo, or /cancel to stop."
    await harness.emulator.send_photo(root)
    assert (await harness.reply(root))["text"] == "✅ Saved."
    photo = await harness.reply(root)
    women = await organization(harness, "Réseau des femmes d'Europe")
    assert photo["photo"][-1]["file_id"] == women.logo_file_id and photo["caption"].startswith("Réseau")
    card = await harness.reply(root)

    # A new invite link: the old code stops working (asked first).
    old_code = women.invite_code
    confirm = await harness.choose(root, card, "🔄 New link")
    await harness.press(root, confirm, "🔄 Yes, make a new link")
    await harness.reply(root)  # the photo
    card = await harness.reply(root)
    women = await organization(harness, "Réseau des femmes d'Europe")
    assert women.invite_code != old_code and len(women.invite_code or "") >= 8
    assert f"start=org_{women.invite_code}" in card["text"] and old_code not in card["text"]

    assert (women.kind, women.visibility, women.join_policy) == (
        OrgKind.NETWORK,
        Visibility.UNLISTED,
        JoinPolicy.APPROVAL,
    )
    assert (women.quiet_start, women.quiet_end, women.contact) == (21 * 60, 7 * 60 + 30, "femmes@example.org")
    assert women.translations == {
        "de": {"name": "Frauennetzwerk Europa", "description": "Gegenseitige Hilfe"}
    }
    trail = [(action, details) for action, org_id, details in await audit(harness) if org_id == women.id]
    assert trail[0] == ("organization.created", {})
    assert ("organization.changed", {"fields": ["description"]}) in trail
    assert ("organization.changed", {"fields": ["translations"], "language": "de"}) in trail
    assert ("organization.invite_rotated", {}) in trail
    assert all(set(details) <= {"fields", "language", "start", "end"} for _action, details in trail), (
        "the audit names fields, never texts"
    )
    assert harness.emulator.errors == []


async def card_after_countries(harness: Harness, user: Any) -> dict[str, Any]:
    """The countries message the bot sends again after one was added."""
    while True:
        message = await harness.reply(user)
        if (message.get("text") or "").startswith("🌍 Countries where"):
            return message


async def test_an_organization_admin_edits_only_their_own_card(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    boss = await registered("Boss", "en")
    own = harness.app.dispatcher["organization"].id
    other_id = await another_organization(harness, "Others", "others")
    await give_role(harness, boss, own, Role.ADMIN)

    listing = await harness.send(boss, "/manageorgs")
    assert "Diaspora Bridge community" in listing["text"] and "Others" not in listing["text"]
    assert "➕ New organization" not in buttons(listing)
    card = await harness.choose(boss, listing, "Diaspora Bridge community")
    assert "⏸ Suspend" not in buttons(card) and "🗄 Archive" not in buttons(card)
    card = await harness.choose(boss, card, "🔁 Make it a network")
    assert "network, active" in plain(card["text"])

    staff_only = "Sorry, only the confederation's staff can do this."
    stale = "This button is no longer active."
    for data in (
        OrgAdmin(action="new"),
        OrgAdmin(action="suspend_yes", org=own),
        OrgAdmin(action="archive", org=own),
    ):
        assert await harness.forge(boss, card, data) == staff_only, data
    for data in (
        OrgAdmin(action="open", org=other_id),
        OrgAdmin(action="kind", org=other_id),
        OrgAdmin(action="link_yes", org=other_id),
        OrgAdmin(action="lang_set", org=other_id, value="fr"),
        OrgEdit(action="ef", id=other_id, value="name"),
        OrgEdit(action="tr_lang", id=other_id, value="de"),
    ):
        assert await harness.forge(boss, card, data) == stale, data
    async with create_session_factory(harness.app.engine)() as session:
        untouched = await session.get(Organization, other_id)
        assert untouched is not None
        assert (untouched.kind, untouched.invite_code, untouched.default_language) == (
            OrgKind.ORGANIZATION,
            "others-invite-1",
            "en",
        )
    changes = [
        (action, org_id)
        for action, org_id, _details in await audit(harness)
        if action.startswith("organization.")
    ]
    assert changes == [("organization.changed", own)]

    # A plain member is refused the command and every button.
    member = await registered("Eve", "en")
    refusal = await harness.send(member, "/manageorgs")
    assert refusal["text"] == "Sorry, only administrators can do this."
    assert await harness.forge(member, refusal, OrgAdmin(action="open", org=own)) == refusal["text"]
    assert harness.emulator.errors == []

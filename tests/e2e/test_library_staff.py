"""Publishing in the library, the staff's side: a best practice with its fixed shape, ✏️ Edit and a
translation that members read in their language; a super-admin's resource for the whole
confederation, which members of every organization see (and an organization's, which others do
not)."""

from __future__ import annotations

from bot.services.members import TelegramIdentity, complete_profile, record_consent
from storage.db import create_session_factory
from storage.models import Organization
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.test_library import make_staff


async def test_best_practice_edited_translated_and_read_in_russian(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    fatou = await make_staff(harness, registered)
    kinds = await harness.send(fatou, "/newresource")
    await harness.choose(fatou, kinds, t("💡 A best practice: what worked for us", "fr"))
    await harness.send(fatou, "Tontine solidaire")
    category = await harness.send(fatou, "Une caisse commune pour les urgences.")
    problem = await harness.choose(fatou, category, t("🏛 Running an association", "fr"))
    assert problem["text"] == t("💡 What was the problem? (at most {limit} characters)", "fr", limit=1000)
    await harness.send(fatou, "Les familles n'avaient pas d'aide rapide.")
    await harness.send(fatou, "Une cotisation mensuelle de 5 €.")
    contact = await harness.send(fatou, "Douze familles aidées en un an.")
    content = await harness.choose(fatou, contact, t("Skip", "fr"))
    languages = await harness.choose(fatou, content, t("➡️ Next", "fr"))  # a best practice needs no file
    tags = await harness.choose(fatou, languages, t("Done", "fr"))
    preview = await harness.choose(fatou, tags, t("Skip", "fr"))
    assert t("The problem", "fr") in preview["text"] and "Douze familles" in preview["text"]

    fields = await harness.choose(fatou, preview, t("✏️ Edit", "fr"))
    await harness.choose(fatou, fields, t("✏️ The result", "fr"))
    preview = await harness.send(fatou, "Vingt familles aidées en un an.")
    assert "Vingt familles" in preview["text"]
    languages = await harness.choose(fatou, preview, t("🌐 Add a translation", "fr"))
    await harness.choose(fatou, languages, "Русский")
    skip = await harness.send(fatou, "Солидарная касса")
    await harness.choose(fatou, skip, t("Skip", "fr"))
    preview = await harness.reply(fatou)
    assert "ru" in preview["text"]
    await harness.choose(fatou, preview, t("📤 Publish", "fr"))

    ivan = await registered("Ivan", "ru")
    await harness.send(ivan, "/resources")
    found = await harness.send(ivan, "касса")
    assert "Солидарная касса" in found["text"] and "🌐" not in found["text"]  # his language, no mark
    card = await harness.choose(ivan, found, "1")
    assert card["text"].startswith("Солидарная касса")
    assert t("💡 Best practice", "ru") in card["text"] and "Vingt familles" in card["text"]


async def link_resource(harness: Harness, user, locale: str, title: str, link: str) -> dict:  # type: ignore[no-untyped-def]
    """/newresource of a link about policy, every optional step skipped: the message after tags."""
    t = harness.t
    kinds = await harness.send(user, "/newresource")
    await harness.choose(user, kinds, t("📄 A resource: a guide, a template, a link", locale))
    await harness.send(user, title)
    category = await harness.send(user, "What we stand for.")
    await harness.choose(user, category, t("📢 Policy & advocacy", locale))
    saved = await harness.send(user, link)
    languages = await harness.choose(user, saved, t("➡️ Next", locale))
    tags = await harness.choose(user, languages, t("Done", locale))
    return await harness.choose(user, tags, t("Skip", locale))


async def test_confederation_resources_reach_every_organization(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    fatou = await make_staff(harness, registered)
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)
    scope = await link_resource(harness, root, "en", "Confederation charter", "https://example.org/charter")
    assert scope["text"] == t("Who is it for?", "en")
    preview = await harness.choose(root, scope, t("🌍 The whole confederation", "en"))
    assert t("🌍 The whole confederation", "en") in preview["text"]
    await harness.choose(root, preview, t("📤 Publish", "en"))

    # An organization's own, for comparison: no "who is it for?", Fatou is no super-admin.
    preview = await link_resource(harness, fatou, "fr", "Règlement intérieur", "https://example.org/charte")
    await harness.choose(fatou, preview, t("📤 Publish", "fr"))

    outsider = harness.emulator.create_user("Aisha", language_code="sw")
    async with create_session_factory(harness.app.engine)() as session:
        other = Organization(slug="other", name="Other")
        session.add(other)
        await session.flush()
        member = await record_consent(
            session, TelegramIdentity(outsider.id, None, "Aisha"), "sw", "UTC", other.id
        )
        await complete_profile(session, member)
        await session.commit()
    home = await harness.send(outsider, "/resources")
    assert t("📢 Policy & advocacy", "sw") + " (1)" in buttons(home)
    found = await harness.send(outsider, "charter")
    assert "Confederation charter" in found["text"]
    assert t("Nothing found.", "sw") in (await harness.send(outsider, "reglement"))["text"]

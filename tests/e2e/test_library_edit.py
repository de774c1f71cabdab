"""A published resource changed and withdrawn from its staff card through the emulator (issue 18):
✏️ Edit of its title (the search finds the new words, not the old ones), its English title through
🌐 Add a translation, its category and languages with buttons, each change in the audit trail as
`resource.changed`; 🚫 Withdraw asks once more, then members no longer find nor open it. Members
see none of the staff's buttons."""

from __future__ import annotations

from sqlmodel import col, select

from handlers.library.callbacks import ResourceDraft
from storage.db import create_session_factory
from storage.models import AuditEntry, Resource, ResourceStatus
from tests.e2e.conftest import Harness, buttons
from tests.e2e.test_library import make_staff, published


async def _staff_card(harness: Harness, user, words: str) -> dict:  # type: ignore[no-untyped-def]
    await harness.send(user, "/resources")
    found = await harness.send(user, words)
    return await harness.choose(user, found, "1")


async def test_a_published_resource_edited_translated_and_withdrawn(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    fatou = await make_staff(harness, registered)
    ident = await published(harness, "Guide des bourses étudiantes", "fr", summary="Pour les étudiants.")
    ivan = await registered("Ivan", "en")

    member_card = await _staff_card(harness, ivan, "bourses")
    assert t("✏️ Edit", "en") not in buttons(member_card)
    assert t("🚫 Withdraw", "en") not in buttons(member_card)

    card = await _staff_card(harness, fatou, "bourses")
    assert {t("✏️ Edit", "fr"), t("🌐 Add a translation", "fr"), t("🚫 Withdraw", "fr")} <= set(buttons(card))
    fields = await harness.choose(fatou, card, t("✏️ Edit", "fr"))
    assert t("✏️ Category", "fr") in buttons(fields) and t("✏️ Languages", "fr") in buttons(fields)
    prompt = await harness.choose(fatou, fields, t("✏️ Title", "fr"))
    assert prompt["text"] == t("Send the title (at most {limit} characters).", "fr", limit=120)
    card = await harness.send(fatou, "Aides au logement pour apprentis")
    assert card["text"].startswith("Aides au logement pour apprentis")
    assert t("🚫 Withdraw", "fr") in buttons(card)

    # The index follows: the new words are found, the old ones no longer.
    await harness.send(ivan, "/resources")
    assert "Aides au logement" in (await harness.send(ivan, "APPRENTIS logement"))["text"]
    assert t("Nothing found.", "en") in (await harness.send(ivan, "bourses"))["text"]

    # Its title in English, through the kit's translation flow: Ivan reads and finds it in English.
    languages = await harness.choose(fatou, card, t("🌐 Add a translation", "fr"))
    await harness.choose(fatou, languages, "English")
    skip = await harness.send(fatou, "Housing help for apprentices")
    await harness.choose(fatou, skip, t("Skip", "fr"))
    card = await harness.reply(fatou)
    assert t("🚫 Withdraw", "fr") in buttons(card)
    await harness.send(ivan, "/resources")
    found = await harness.send(ivan, "housing apprentices")
    assert "Housing help for apprentices" in found["text"] and "🌐" not in found["text"]

    # The category and the languages, chosen with buttons.
    fields = await harness.choose(fatou, card, t("✏️ Edit", "fr"))
    categories = await harness.choose(fatou, fields, t("✏️ Category", "fr"))
    card = await harness.choose(fatou, categories, t("🩺 Health", "fr"))
    assert t("🩺 Health", "fr") in card["text"]
    fields = await harness.choose(fatou, card, t("✏️ Edit", "fr"))
    ticks = await harness.choose(fatou, fields, t("✏️ Languages", "fr"))
    await harness.press(fatou, ticks, "▫️ Deutsch")
    card = await harness.choose(fatou, harness.message(fatou, ticks["message_id"]), t("Done", "fr"))
    assert "Deutsch" in card["text"]

    async with create_session_factory(harness.app.engine)() as session:
        resource = await session.get(Resource, ident)
        assert resource is not None
        assert resource.category == "health" and resource.languages == ["fr", "de"]
        assert "apprentis" in resource.search_text and "bourses" not in resource.search_text
        entries = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.action == "resource.changed").order_by(col(AuditEntry.id))
            )
        ).all()
    assert [entry.details["fields"] for entry in entries] == [
        ["title"],
        ["translations"],
        ["category"],
        ["languages"],
    ]
    assert all(entry.actor_telegram_id == fatou.id for entry in entries)

    # Withdraw: asked once more; then gone for members, and a second tap changes nothing.
    question = await harness.choose(fatou, card, t("🚫 Withdraw", "fr"))
    assert "Aides au logement pour apprentis" in question["text"]
    done = await harness.choose(fatou, question, t("🚫 Yes, withdraw it", "fr"))
    assert done["text"].startswith(t("🚫 Withdrawn: <b>{title}</b>.", "fr").split("<b>")[0])
    stale = await harness.forge(fatou, question, ResourceDraft(action="wdyes", id=ident))
    assert stale == t("This button is no longer active.", "fr")
    await harness.send(ivan, "/resources")
    assert t("Nothing found.", "en") in (await harness.send(ivan, "apprentis"))["text"]
    assert await harness.forge(ivan, member_card, ResourceDraft(action="edit", id=ident)) != ""
    async with create_session_factory(harness.app.engine)() as session:
        resource = await session.get(Resource, ident)
        assert resource is not None and resource.status == ResourceStatus.WITHDRAWN
        withdrawn = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "resource.withdrawn"))
        ).all()
    assert [entry.details["resource_id"] for entry in withdrawn] == [ident]
    assert harness.emulator.errors == []

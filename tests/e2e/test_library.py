"""The resource library end to end: a coordinator publishes through /newresource, members browse,
search in three scripts, open the card, save and vote; bad links and files are refused."""

from __future__ import annotations

from sqlmodel import select

from bot.services import library
from storage.db import create_session_factory
from storage.models import Resource, ResourceKind, ResourceStatus
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import our_organization
from tests.e2e.test_training_admin import make_coordinator


async def make_staff(harness: Harness, registered, name: str = "Fatou", language: str = "fr"):  # type: ignore[no-untyped-def]
    """A coordinator of the bot's organization (the trainings' tests' given)."""
    return await make_coordinator(harness, registered, name, language)


async def published(harness: Harness, title: str, language: str, **fields: object) -> int:
    """A resource of the bot's organization, published through the service."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        resource = await library.create_draft(
            session, organization.id or 0, ResourceKind.RESOURCE, title, language, None
        )
        await library.change(session, resource, **({"category": "legal_documents"} | fields))
        await library.publish(session, resource)
        await session.commit()
        return resource.id or 0


async def test_publish_search_save_and_vote(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    fatou = await make_staff(harness, registered)
    t = harness.t
    kinds = await harness.send(fatou, "/newresource")
    ask_title = await harness.choose(fatou, kinds, t("📄 A resource: a guide, a template, a link", "fr"))
    assert ask_title["text"] == t("Send the title (at most {limit} characters).", "fr", limit=120)
    assert (await harness.send(fatou, "x" * 121))["text"].startswith(
        t("That is too long: {limit} characters at most (yours has {length}).", "fr", limit=120, length=121)[
            :20
        ]
    )
    await harness.send(fatou, "Guide des subventions à Lyon & <alentours>")
    category = await harness.send(fatou, "Comment financer votre association.")
    content = await harness.choose(fatou, category, t("💶 Funding & grants", "fr"))
    assert (await harness.send(fatou, "javascript:alert(1)"))["text"] == t(
        "Only web links (http:// or https://) can be shared. Please send another link.", "fr"
    )
    await harness.emulator.send_sticker(fatou)
    refused = await harness.reply(fatou)
    assert refused["text"] == t(
        "Only documents (PDF, Word…) and photos can be shared, not videos, stickers or voice messages.", "fr"
    )
    await harness.emulator.send_document(fatou, b"%PDF-1.4 guide", "guide.pdf")
    await harness.reply(fatou)  # saved
    saved = await harness.send(fatou, "https://example.org/guide-subventions")
    assert saved["text"] == t("✅ Saved. Send more (a link, a file or a text), or press ➡️ Next.", "fr")
    languages = await harness.choose(fatou, saved, t("➡️ Next", "fr"))
    tags = await harness.choose(fatou, languages, t("Done", "fr"))
    assert "document" in await harness.send(fatou, "subventions, associations")  # the file first
    preview = await harness.reply(fatou)
    assert "Guide des subventions à Lyon & <alentours>" in preview["text"]
    done = await harness.choose(fatou, preview, t("📤 Publish", "fr"))
    assert "https://t.me/diaspora_bridge_bot?start=res_" in done["text"]
    del content, tags

    ivan = await registered("Ivan", "ru")
    await published(harness, "Право на работу во Франции", "ru", tags=["визы"])
    await published(harness, "دليل المنح للجمعيات", "ar", category="funding_grants")
    home = await harness.send(ivan, "/resources")
    assert t("💶 Funding & grants", "ru") + " (2)" in buttons(home)
    for query, expected in (
        ("SUBVENTIONS lyon", "Guide des subventions"),
        ("право", "Право на работу"),
        ("المنح", "دليل المنح"),
    ):
        results = await harness.send(ivan, query)
        assert expected in results["text"], (query, results["text"])
    results = await harness.send(ivan, "субсидии несуществующие")
    assert t("Nothing found.", "ru") in results["text"]

    found = await harness.send(ivan, "subventions")
    assert "(🌐 Français)" in found["text"]  # not in Ivan's language: marked
    card = await harness.choose(ivan, found, "1")
    document = await harness.reply(ivan)
    assert document["document"]["file_name"] == "guide.pdf"
    assert (
        "Guide des subventions à Lyon" in card["text"]
        and "https://example.org/guide-subventions" in card["text"]
    )
    await harness.press(ivan, card, t("⭐ Save", "ru"))
    card = harness.message(ivan, card["message_id"])
    assert t("★ Saved: remove", "ru") in buttons(card)
    await harness.press(ivan, card, t("👍 Useful", "ru"))
    await harness.press(ivan, harness.message(ivan, card["message_id"]), t("👎 Not useful", "ru"))
    assert "✅ " + t("👎 Not useful", "ru") in buttons(harness.message(ivan, card["message_id"]))
    saved_list = await harness.send(ivan, "/saved")
    assert "Guide des subventions" in saved_list["text"]

    async with create_session_factory(harness.app.engine)() as session:
        resource = (await session.exec(select(Resource).where(Resource.language == "fr"))).one()
        assert resource.status == ResourceStatus.PUBLISHED and resource.category == "funding_grants"
        assert resource.tags == ["subventions", "associations"]
        usage = await library.usage(session, resource.id or 0)
    assert (usage.views, usage.saves, usage.useful, usage.not_useful) == (1, 1, 0, 1)

    # The staff see the usage on the card; small counts are "fewer than 5", never the number.
    found = await harness.send(fatou, "/resources")
    found = await harness.send(fatou, "subventions")
    staff_card = await harness.choose(fatou, found, "1")
    fewer = t("fewer than {count}", "fr", count=5)
    usage_line = t(
        "📊 Opened by {views} · saved by {saves} · 👍 {useful} · 👎 {not_useful}",
        "fr",
        views=fewer,
        saves=fewer,
        useful=0,
        not_useful=fewer,
    )
    assert usage_line in staff_card["text"]
    assert "📊" not in card["text"]  # members do not see it

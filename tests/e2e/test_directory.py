"""/directory: listed organizations and networks (organizations first, networks marked), a page at a
time; filters by country, language and topic; a search by name in any script, accents and case
folded; each card's description in the member's language, upcoming events and a member count that
is never exact below ten; a deep link `?start=dir_<slug>` to a card; a logo shown with the card."""

from __future__ import annotations

from datetime import timedelta

from bot.services import events as event_service
from bot.services.members import TelegramIdentity, record_consent
from storage.db import create_session_factory
from storage.models import Organization, OrgKind
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.org_kit import seed_org


async def with_members(harness: Harness, organization: Organization, count: int, first_id: int) -> None:
    """`count` registered members of the organization (straight into the database)."""
    async with create_session_factory(harness.app.engine)() as session:
        for offset in range(count):
            who = TelegramIdentity(first_id + offset, None, f"M{offset}")
            await record_consent(session, who, "en", "UTC", organization.id)
        await session.commit()


def org_buttons(message: dict) -> list[str]:  # type: ignore[type-arg]
    return [label for label in buttons(message) if label[:1] in ("🏢", "🌐")]


async def test_search_by_name_in_any_script_folds_accents_and_case(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "en")
    await seed_org(harness, "Sénégal Solidarité")
    await seed_org(harness, "Союз украинцев", translations={"en": {"name": "Ukrainian Union"}})
    await seed_org(harness, "جمعيّة السودان")  # with a shadda
    await seed_org(harness, "Hidden Sénégal", visibility="unlisted")
    await seed_org(harness, "Closed Sénégal", status="archived")
    for typed, found in (
        ("senegal", ["🏢 Sénégal Solidarité"]),
        ("SÉNÉGAL", ["🏢 Sénégal Solidarité"]),
        ("союз", ["🏢 Ukrainian Union"]),  # found by its own name, shown in the member's language
        ("ukrainian", ["🏢 Ukrainian Union"]),
        ("جمعية", ["🏢 جمعيّة السودان"]),
        ("nothing like it", []),
    ):
        page = await harness.send(amina, f"/directory {typed}")
        assert org_buttons(page) == found, typed
    assert "Nothing found" in page["text"]

    # The 🔍 button, then the name typed.
    page = await harness.send(amina, "/directory")
    await harness.press(amina, page, "🔍 Search by name")
    await harness.reply(amina)
    found = await harness.send(amina, "NÉGAL Sol")
    assert org_buttons(found) == ["🏢 Sénégal Solidarité"]
    assert "“NÉGAL Sol”" in found["text"]
    # Its filters keep the typed name from page to page; Clear forgets it.
    await harness.press(amina, found, "✖ Clear filters")
    cleared = await harness.edited(amina, found)
    assert len(org_buttons(cleared)) == 4  # the deployment's own and the three listed ones


async def test_pages_filters_networks_counts_and_cards(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "fr")
    women = await seed_org(
        harness, "Women Across", kind=OrgKind.NETWORK, countries=["DE", "FR"], topics=["women"]
    )
    berlin = await seed_org(
        harness,
        "Berlin Diaspora",
        countries=["DE"],
        cities=["Berlin"],
        languages=["de", "fr"],
        description="A club",
        translations={"fr": {"description": "Un club"}},
        contact="hello@berlin.example",
    )
    for index in range(7):
        await seed_org(harness, f"Assoc {index}", countries=["SN"], languages=["fr"])
    await with_members(harness, berlin, 23, 5_000_000)
    await with_members(harness, women, 7, 6_000_000)
    async with create_session_factory(harness.app.engine)() as session:
        for days in (3, 10):
            event = await event_service.create_event(
                session,
                organization_id=berlin.id or 0,
                title="Treffen",
                starts_at=utcnow() + timedelta(days=days),
                now=utcnow(),
            )
            await event_service.publish(session, event, berlin, utcnow(), announce=False)
        await session.commit()

    first = await harness.send(amina, "/directory")
    assert len(org_buttons(first)) == 6 and "1/2" in buttons(first)
    await harness.press(amina, first, "▶️")
    second = await harness.edited(amina, first)
    assert org_buttons(second)[-1] == "🌐 Women Across"  # networks after organizations
    assert len(org_buttons(first)) + len(org_buttons(second)) == 10  # with the deployment's own

    # Country filter: Germany.
    await harness.press(amina, second, harness.t("🌍 Country", "fr"))
    choices = await harness.edited(amina, second)
    assert buttons(choices)[:3] == ["Allemagne", "France", "Sénégal"]
    await harness.press(amina, choices, "Allemagne")
    germany = await harness.edited(amina, choices)
    assert org_buttons(germany) == ["🏢 Berlin Diaspora", "🌐 Women Across"]
    assert harness.t("Country: {country}", "fr", country="Allemagne") in germany["text"]

    await harness.press(amina, germany, "Berlin Diaspora")
    card = await harness.edited(amina, germany)
    assert "Un club" in card["text"] and "A club" not in card["text"]
    assert "Berlin, Allemagne" in card["text"] and "hello@berlin.example" in card["text"]
    assert harness.t("about {count}", "fr", count="20") in card["text"]  # 23, rounded
    assert f"{harness.t('Upcoming events', 'fr')}: 2" in card["text"]
    await harness.press(amina, card, harness.t("⬅️ Back to the directory", "fr"))
    back = await harness.edited(amina, card)
    assert org_buttons(back) == ["🏢 Berlin Diaspora", "🌐 Women Across"]  # the filter kept

    await harness.press(amina, back, "Women Across")
    network = await harness.edited(amina, back)
    assert harness.t("fewer than 10", "fr") in network["text"] and "7" not in network["text"]
    assert harness.t("network", "fr") in network["text"]


async def test_a_directory_link_opens_the_card_and_a_logo_comes_with_it(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    amina = await registered("Amina", "en")
    [*_, largest] = harness.emulator.photo_sizes(b"logo", 320, 320)
    lyon = await seed_org(harness, "Lyon", logo_file_id=largest["file_id"], description="Mutual help")
    card = await harness.send(amina, f"/start dir_{lyon.slug}")
    assert card["photo"] and "Mutual help" in card["caption"]
    await harness.press(amina, card, "✅ Join")
    joined = await harness.edited(amina, card)
    assert joined["caption"].startswith("🎉 Welcome to Lyon!")
    assert (await harness.send(amina, "/start dir_no-such-thing"))["text"] == (
        "This organization is no longer in the directory."
    )

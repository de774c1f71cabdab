"""The library's rules against a real database (SQLite and PostgreSQL): the full-text index in
three scripts, what a member may see, links and files, and the weekly digest written once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import library
from bot.services.library.rules import LibraryError, checked_file, checked_url, looks_like_link, parse_tags
from bot.services.members import TelegramIdentity, record_consent, update_profile
from storage.models import Organization, OutboxMessage, Resource, ResourceKind, ResourceScope
from tests.helpers import organization

MONDAY_10 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris (winter time)


async def published(
    session: AsyncSession, org: Organization, title: str, language: str = "en", **fields: object
) -> Resource:
    resource = await library.create_draft(session, org.id or 0, ResourceKind.RESOURCE, title, language, None)
    await library.change(session, resource, category="legal_documents", **fields)
    assert await library.publish(
        session, resource, fields.get("published_at") or MONDAY_10 - timedelta(days=1)
    )  # type: ignore[arg-type]
    await session.commit()
    return resource


async def test_search_folds_case_and_accents_in_three_scripts(session: AsyncSession) -> None:
    org = await organization(session)
    french = await published(session, org, "Guide des démarches au Sénégal", "fr", summary="État civil")
    russian = await published(session, org, "Право на работу", "ru", tags=["визы"])
    arabic = await published(session, org, "دليل المنح للجمعيات", "ar")
    chinese = await published(session, org, "协会资助指南", "zh_Hans")
    ids = [org.id or 0]

    async def found(query: str, language: str = "en") -> list[int]:
        return [item.id or 0 for item in (await library.page(session, ids, language, query=query)).items]

    assert await found("SENEGAL etat") == [french.id]
    assert await found("сенегал") == []
    assert await found("ПРАВО") == [russian.id]
    assert await found("виз") == [russian.id]  # the word being typed: a prefix
    assert await found("المنح") == [arabic.id]
    assert await found("资助") == [chinese.id]
    assert await found("   ") == []
    assert await found('" OR 1=1 --') == []  # quotes and operators are no syntax
    everything = await library.page(session, ids, "ru")
    assert everything.items[0].id == russian.id  # the member's language first


async def test_pages_count_every_match_once_and_an_old_page_button_keeps_the_total(
    session: AsyncSession,
) -> None:
    org = await organization(session)
    made = [
        await published(
            session, org, f"Grants guide {number}", published_at=MONDAY_10 - timedelta(hours=number)
        )
        for number in range(10)
    ]
    ids = [org.id or 0]
    first = await library.page(session, ids, "en", category="legal_documents")
    second = await library.page(session, ids, "en", category="legal_documents", offset=8)
    past = await library.page(session, ids, "en", category="legal_documents", offset=16)
    assert (first.total, second.total, past.total) == (10, 10, 10)
    assert [item.id for item in first.items + list(second.items)] == [
        item.id for item in made
    ]  # newest first
    assert first.has_next and not second.has_next and past.items == ()
    searched = await library.page(session, ids, "en", query="guide", offset=8)
    assert (searched.total, len(searched.items)) == (10, 2)
    assert (await library.page(session, ids, "en", query="nothing-like-this")).total == 0
    member = await record_consent(session, TelegramIdentity(7, None, "Saver"), "en", "UTC", org.id or 0)
    for resource in made[:3]:
        await library.set_saved(session, resource, member.id or 0, True)
    await session.commit()
    saved = await library.page(session, ids, "en", saved_by=member.id or 0, offset=2)
    assert (saved.total, [item.id for item in saved.items]) == (3, [made[2].id])


async def test_members_see_their_organizations_and_the_confederation(session: AsyncSession) -> None:
    ours = await organization(session)
    theirs = Organization(slug="other", name="Other")
    session.add(theirs)
    await session.flush()
    own = await published(session, ours, "Our grants guide")
    foreign = await published(session, theirs, "Their grants guide")
    shared = await published(session, theirs, "Confederation grants guide", scope=ResourceScope.CONFEDERATION)
    draft = await library.create_draft(
        session, ours.id or 0, ResourceKind.RESOURCE, "Draft grants", "en", None
    )
    await session.commit()
    page = await library.page(session, [ours.id or 0], "en", query="grants")
    assert {item.id for item in page.items} == {own.id, shared.id}
    assert await library.visible_resource(session, foreign.id or 0, [ours.id or 0]) is None
    assert await library.visible_resource(session, draft.id or 0, [ours.id or 0]) is None
    assert await library.category_counts(session, [ours.id or 0]) == {"legal_documents": 2}


def test_links_files_and_tags() -> None:
    assert checked_url("https://example.org/guide.pdf") == "https://example.org/guide.pdf"
    assert checked_url("www.example.org") == "https://www.example.org"
    for bad, reason in (
        ("javascript:alert(1)", "not_http"),
        ("ftp://example.org", "not_http"),
        ("https://x", "bad_link"),
    ):
        with pytest.raises(LibraryError) as refused:
            checked_url(bad)
        assert refused.value.reason == reason
    assert looks_like_link("tg://resolve") and not looks_like_link("A guide: read it")
    assert checked_file("photo", 10) == "photo"
    for kind, size, reason in (("video", 1, "bad_file"), ("document", 60 * 1024 * 1024, "file_too_big")):
        with pytest.raises(LibraryError) as refused:
            checked_file(kind, size)
        assert refused.value.reason == reason
    assert parse_tags("Visas, YOUTH،  visas") == ["visas", "youth"]


async def test_digest_once_per_member_and_week_at_local_time(session: AsyncSession) -> None:
    org = await organization(session)
    members = []
    for telegram_id, interests in ((701, ["legal"]), (702, ["health"]), (703, [])):
        member = await record_consent(
            session, TelegramIdentity(telegram_id, None, "M"), "fr", "Europe/Paris", org.id
        )
        await update_profile(session, member, interests=interests)
        members.append(member)
    await session.commit()
    await published(session, org, "Legal aid")
    await published(session, org, "Old news", published_at=MONDAY_10 - timedelta(days=9))

    assert await library.write_digests(session, org, MONDAY_10 - timedelta(minutes=1)) == 0  # 09:59 local
    assert await library.write_digests(session, org, MONDAY_10) == 2  # legal, and no interests
    assert await library.write_digests(session, org, MONDAY_10 + timedelta(minutes=5)) == 0
    await session.commit()
    rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.kind == library.DIGEST_KIND))).all()
    assert sorted(row.chat_id for row in rows) == [701, 703]
    assert all(len(row.payload["resource_ids"]) == 1 for row in rows)

    await library.set_digest(session, members[2].id or 0, False)
    await session.commit()
    next_week = MONDAY_10 + timedelta(days=7)
    await published(session, org, "Legal aid, part two", published_at=next_week - timedelta(hours=1))
    assert await library.write_digests(session, org, next_week) == 1
    assert not await library.digest_on(session, members[2].id or 0)
    count = await session.exec(select(OutboxMessage.id).where(col(OutboxMessage.kind) == library.DIGEST_KIND))
    assert len(count.all()) == 3


async def test_mydata_lists_and_forget_erases_saved_resources(session: AsyncSession) -> None:
    from bot.services.members import export_member_data, forget_member

    org = await organization(session)
    member = await record_consent(session, TelegramIdentity(801, None, "M"), "fr", "UTC", org.id)
    guide = await published(session, org, "Guide")
    await library.set_saved(session, guide, member.id or 0, True)
    await library.vote(session, guide, member.id or 0, True)
    await library.set_digest(session, member.id or 0, False)
    await session.commit()
    exported = await export_member_data(session, member)
    assert exported["saved_resources"][0]["resource_id"] == guide.id
    assert exported["resource_votes"] == [{"resource_id": guide.id, "useful": True}]
    await forget_member(session, member)
    await session.commit()
    usage = await library.usage(session, guide.id or 0)
    assert (usage.saves, usage.useful) == (0, 1)  # the favourite is gone; the anonymous vote still counts
    assert await library.digest_on(session, member.id or 0)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=st.text(max_size=40))
async def test_any_typed_text_is_a_query_never_syntax(session: AsyncSession, query: str) -> None:
    """Whatever a member types (quotes, operators, symbols, any script) is searched as words: the
    full-text engine never sees its syntax, and a text without words finds nothing."""
    org = await organization(session)
    found = await library.page(session, [org.id or 0], "en", query=query)
    assert found.total >= 0


def test_digest_picks_interests_mutes_and_the_members_language_first() -> None:
    from bot.services.library.digest import DIGEST_ITEMS, picks
    from bot.services.library.search import refresh

    def resource(ident: int, category: str, language: str = "en", **fields: object) -> Resource:
        values = {"organization_id": 1} | fields
        item = Resource(id=ident, title="T", category=category, language=language, **values)
        refresh(item)
        return item

    new = [
        resource(1, "health"),
        resource(2, "legal_documents"),
        resource(3, "culture_language", tags=["youth"]),
        resource(4, "legal_documents", "fr"),
        resource(5, "health", scope=ResourceScope.CONFEDERATION, organization_id=9),
        resource(6, "health", organization_id=9),  # another organization's
    ]
    assert picks(new, {1}, ["legal"], [], "fr") == [4, 2]  # French first
    assert picks(new, {1}, ["youth", "health"], ["health"], "en") == [3]  # health muted
    assert picks(new, {1}, [], [], "en") == [1, 2, 3, 5, 4]  # no interests: everything they may see
    many = [resource(index, "health") for index in range(1, 30)]
    assert len(picks(many, {1}, [], [], "en")) == DIGEST_ITEMS


def test_a_long_card_is_cut_before_its_text() -> None:
    from bot.i18n import create_i18n
    from bot.services.text import telegram_length
    from bot.views.library import card_messages

    longest = Resource(
        organization_id=1,
        title="T" * 120,
        summary="S" * 500,
        body="B" * 3500,
        url="https://example.org/" + "x" * 2000,
        tags=["visas"],
        language="en",
    )
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        parts = card_messages(longest, "en", "Org", "https://t.me/bot?start=res_1", "\n\nusage")
        short = Resource(organization_id=1, title="T", summary="S", body="B", language="en")
        assert len(card_messages(short, "en", "Org", None)) == 1
    assert len(parts) == 2 and parts[1].startswith("B") and parts[1].endswith("usage")
    assert all(telegram_length(part) <= 4096 for part in parts)

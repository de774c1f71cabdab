"""Joint positions, the members' side, end to end: /positions and the card in the reader's
language (Arabic, right to left, and French), adding one's name after a consent text that shows
the real name and country, the second tap, withdrawing, share links, what a member of an
organization not asked (or a forged id) gets, the deadline and closed signatures, /mydata,
/forget and the daily purge. Positions are seeded as rows (the drafters' side is another part)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.i18n import format_when
from bot.services.geo import country_name
from bot.services.positions.signatures import PURGE_CHECK_SECONDS
from bot.services.positions.visibility import PAGE_SIZE
from handlers.positions.callbacks import PositionMember
from storage.db import create_session_factory
from storage.models import (
    EndorsementDecision,
    Member,
    Organization,
    Position,
    PositionEndorsement,
    PositionSignature,
    PositionStatus,
    PositionTarget,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import plain
from tests.e2e.org_kit import add_to, member_of, seed_org

TITLE = "Le droit de vote local pour tous les résidents <2027>"
TITLE_AR = "حق التصويت المحلي لجميع المقيمين"
STATEMENT = "Nous, organisations de la diaspora, demandons le droit de vote aux élections locales & plus."
STATEMENT_AR = "نحن منظمات الشتات نطالب بحق التصويت في الانتخابات المحلية."
ADDRESSEE = "Ministère de l'Intérieur"
ZONE = "Europe/Berlin"


async def seed_position(
    harness: Harness,
    drafter: Organization,
    asked: list[tuple[Organization, EndorsementDecision]],
    **fields: Any,
) -> Position:
    """A published position of `drafter`, asked of `asked` (with their answers)."""
    now = utcnow()
    values: dict[str, Any] = {
        "organization_id": drafter.id,
        "status": PositionStatus.OPEN,
        "title": TITLE,
        "statement": STATEMENT,
        "language": "fr",
        "translations": {"ar": {"title": TITLE_AR, "statement": STATEMENT_AR}},
        "addressee": ADDRESSEE,
        "deadline": now + timedelta(days=7),
        "target": PositionTarget.CHOSEN,
        "target_organizations": [organization.id for organization, _ in asked],
        "signatures_open": True,
        "keep_until": now + timedelta(days=90),
        "published_at": now,
    } | fields
    async with create_session_factory(harness.app.engine)() as session:
        position = Position(**values)
        session.add(position)
        await session.flush()
        for number, (organization, decision) in enumerate(asked):
            session.add(
                PositionEndorsement(
                    position_id=position.id or 0,
                    organization_id=organization.id or 0,
                    decision=decision,
                    decided_at=now + timedelta(seconds=number)
                    if decision != EndorsementDecision.PENDING
                    else None,
                )
            )
        await session.commit()
        await session.refresh(position)
        return position


async def living_in(harness: Harness, user: Any, country: str | None, zone: str = ZONE) -> None:
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        member.residence_country = country
        member.timezone = zone
        session.add(member)
        await session.commit()


async def names_under(harness: Harness, position_id: int) -> list[tuple[str, str | None]]:
    async with create_session_factory(harness.app.engine)() as session:
        rows = await session.exec(
            select(PositionSignature).where(PositionSignature.position_id == position_id)
        )
        return sorted((row.display_name, row.country) for row in rows.all())


async def two_organizations(harness: Harness) -> tuple[Organization, Organization]:
    """The drafter (its name translated into Arabic) and a second organization asked."""
    drafter = await seed_org(
        harness, "Forum des associations", translations={"ar": {"name": "منتدى الجمعيات"}}
    )
    second = await seed_org(harness, "Réseau jeunesse")
    return drafter, second


def toast_of(harness: Harness, query_id: str) -> str:
    return harness.emulator.callback_answers[query_id]["text"]


async def test_a_member_reads_and_signs_in_arabic(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    drafter, second = await two_organizations(harness)
    position = await seed_position(
        harness, drafter, [(drafter, EndorsementDecision.ENDORSED), (second, EndorsementDecision.PENDING)]
    )
    amina = await registered("Amina <Said>", "ar")
    await add_to(harness, amina, second)
    await living_in(harness, amina, "DE")

    listing = await harness.send(amina, "/positions")
    deadline = format_when(position.deadline, "ar", ZONE)  # type: ignore[arg-type]
    assert TITLE_AR in listing["text"] and TITLE not in listing["text"]
    assert plain(t("🟢 Open until {when}", "ar", when=deadline)) in listing["text"]
    endorsing = t(
        "✅ {count} organization endorses it", "ar", "✅ {count} organizations endorse it", 1, count=1
    )
    assert endorsing in listing["text"]

    card = await harness.choose(amina, listing, "1")
    assert STATEMENT_AR in card["text"] and ADDRESSEE in card["text"]
    assert "منتدى الجمعيات" in card["text"]  # the endorsing organization, in Arabic
    assert "Réseau jeunesse" not in card["text"]  # asked, but has not endorsed
    assert f"https://t.me/diaspora_bridge_bot?start=pos_{position.id}" in card["text"]
    assert t("✍️ Add my name", "ar") in buttons(card)

    await harness.press(amina, card, t("✍️ Add my name", "ar"))
    consent = await harness.reply(amina)
    assert "Amina <Said>" in consent["text"]  # the real name, escaped and shown as typed
    assert country_name("DE", "ar") in consent["text"]
    assert ADDRESSEE in consent["text"] and "منتدى الجمعيات" in consent["text"]
    kept = format_when(position.keep_until, "ar", ZONE)  # type: ignore[arg-type]
    assert plain(t("Both are kept until {when}, then deleted.", "ar", when=kept)) in consent["text"]
    assert await names_under(harness, position.id or 0) == []  # nothing added before the agreement

    agreed = await harness.press(amina, consent, t("✅ I agree", "ar"))
    assert toast_of(harness, agreed) == t(
        "✅ Your name is added. You can withdraw it until the deadline.", "ar"
    )
    assert await names_under(harness, position.id or 0) == [("Amina <Said>", "DE")]
    answered = harness.message(amina, consent["message_id"])
    assert t("↩️ Withdraw my name", "ar") in buttons(answered)

    # A second tap of ✅ I agree changes nothing, and says so.
    again = await harness.forge(amina, consent, PositionMember(action="consent", id=position.id or 0))
    assert again == t("Your name is already under this position: nothing changed.", "ar")
    assert await names_under(harness, position.id or 0) == [("Amina <Said>", "DE")]

    withdrawn = await harness.press(amina, answered, t("↩️ Withdraw my name", "ar"))
    assert toast_of(harness, withdrawn) == t("↩️ Your name is withdrawn.", "ar")
    assert await names_under(harness, position.id or 0) == []
    assert t("✍️ Add my name", "ar") in buttons(harness.message(amina, consent["message_id"]))


async def test_a_share_link_then_mydata_and_forget_in_french(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    drafter, second = await two_organizations(harness)
    position = await seed_position(
        harness, drafter, [(drafter, EndorsementDecision.ENDORSED), (second, EndorsementDecision.ENDORSED)]
    )
    moussa = await registered("Moussa", "fr")
    await add_to(harness, moussa, drafter)
    await living_in(harness, moussa, None)  # no country given: the consent says so

    card = await harness.send(moussa, f"/start pos_{position.id}")
    assert TITLE in card["text"] and STATEMENT in card["text"]
    assert "Forum des associations" in card["text"] and "Réseau jeunesse" in card["text"]
    consent = await harness.choose(moussa, card, t("✍️ Add my name", "fr"))
    assert "Moussa" in consent["text"] and t("not given", "fr") in consent["text"]
    await harness.press(moussa, consent, t("No, thanks", "fr"))  # declined: nothing added
    declined = await harness.edited(moussa, consent)
    assert declined["text"] == t("Nothing was shared: your name is not added.", "fr")
    assert await names_under(harness, position.id or 0) == []
    consent = await harness.choose(moussa, card, t("✍️ Add my name", "fr"))
    await harness.press(moussa, consent, t("✅ I agree", "fr"))
    assert await names_under(harness, position.id or 0) == [("Moussa", None)]

    document = await harness.send(moussa, "/mydata")
    exported = json.loads(harness.emulator.file_bytes(document["document"]["file_id"]))
    [signed] = exported["position_signatures"]
    assert signed["title"] == TITLE and signed["position_id"] == position.id and signed["signed_at"]

    question = await harness.send(moussa, "/forget")
    await harness.press(moussa, question, t("🗑 Yes, erase my data", "fr"))
    await harness.edited(moussa, question)
    assert await names_under(harness, position.id or 0) == []


async def test_members_of_organizations_not_asked_see_nothing(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    drafter, second = await two_organizations(harness)
    position = await seed_position(harness, drafter, [(second, EndorsementDecision.ENDORSED)])
    draft = await seed_position(
        harness,
        drafter,
        [(second, EndorsementDecision.PENDING)],
        status=PositionStatus.DRAFT,
        title="Brouillon secret",
    )
    olga = await registered("Olga", "ru")  # a member of the bot's own organization only
    outsider = t("No joint position is open to you yet. You will find them here when there is one.", "ru")

    listing = await harness.send(olga, "/positions")
    assert plain(outsider) in listing["text"] and TITLE not in listing["text"]
    for ident in (position.id, draft.id, 999_999):
        linked = await harness.send(olga, f"/start pos_{ident}")
        assert linked["text"] == t(
            "This position is not available to you. Send /positions to see the joint positions.", "ru"
        )
    stale = t("This button is no longer active.", "ru")
    for action in ("open", "sign", "consent", "withdraw", "cancel"):
        for ident in (position.id or 0, draft.id or 0):
            assert await harness.forge(olga, listing, PositionMember(action=action, id=ident)) == stale
        assert await harness.forge(olga, listing, f"pom:{action}:99999999999:0") == stale
    assert await names_under(harness, position.id or 0) == []
    assert all(TITLE not in (item.get("text") or "") for item in harness.emulator.transcript(olga.id))

    # A member of the asked organization does not see the draft either; a position asked of
    # every organization is seen by every registered member.
    everyone = await seed_position(harness, drafter, [], target=PositionTarget.ALL, title="Pour tous")
    listing = await harness.send(olga, "/positions")
    assert "Pour tous" in listing["text"] and TITLE not in listing["text"]
    assert everyone.id


async def test_the_deadline_and_closed_signatures_refuse_names(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    drafter, _second = await two_organizations(harness)
    now = utcnow()
    past = await seed_position(
        harness, drafter, [(drafter, EndorsementDecision.ENDORSED)], deadline=now - timedelta(minutes=1)
    )
    closed = await seed_position(
        harness,
        drafter,
        [(drafter, EndorsementDecision.ENDORSED)],
        signatures_open=False,
        title="Sans signatures",
    )
    ended = await seed_position(
        harness,
        drafter,
        [(drafter, EndorsementDecision.ENDORSED)],
        status=PositionStatus.CLOSED,
        title="Close",
    )
    lina = await registered("Lina", "uk")
    await add_to(harness, lina, drafter)
    async with create_session_factory(harness.app.engine)() as session:  # signed before the deadline
        member_id = (await member_of(harness, lina)).id or 0
        session.add(PositionSignature(position_id=past.id or 0, member_id=member_id, display_name="Lina"))
        await session.commit()

    card = await harness.send(lina, f"/start pos_{past.id}")
    assert t("✍️ Add my name", "uk") not in buttons(card)
    refusals = {
        past.id: t("The deadline has passed: names can no longer be added or withdrawn.", "uk"),
        closed.id: t("This position does not collect members' names.", "uk"),
        ended.id: t("This position is closed: names can no longer be added or withdrawn.", "uk"),
    }
    for ident, refusal in refusals.items():
        before = await names_under(harness, ident or 0)
        assert await harness.forge(lina, card, PositionMember(action="sign", id=ident or 0)) == refusal
        assert await harness.forge(lina, card, PositionMember(action="consent", id=ident or 0)) == refusal
        assert await names_under(harness, ident or 0) == before
    # After the deadline a name given before it stays: it is part of the submission.
    assert t("↩️ Withdraw my name", "uk") not in buttons(card)
    late = await harness.forge(lina, card, PositionMember(action="withdraw", id=past.id or 0))
    assert late == refusals[past.id]
    assert await names_under(harness, past.id or 0) == [("Lina", None)]
    no_button = await harness.send(lina, f"/start pos_{closed.id}")
    assert t("✍️ Add my name", "uk") not in buttons(no_button)
    # Names no longer collected: one given before can still be withdrawn until the deadline.
    async with create_session_factory(harness.app.engine)() as session:
        session.add(PositionSignature(position_id=closed.id or 0, member_id=member_id, display_name="Lina"))
        await session.commit()
    signed = await harness.send(lina, f"/start pos_{closed.id}")
    await harness.press(lina, signed, t("↩️ Withdraw my name", "uk"))
    assert await names_under(harness, closed.id or 0) == []


async def test_long_statements_and_endorser_lists_fit_and_lists_are_paged(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    drafter, _second = await two_organizations(harness)
    paragraph = "Les résidents & leurs familles <participent> à la vie locale. " * 40
    position = await seed_position(
        harness, drafter, [(drafter, EndorsementDecision.ENDORSED)], statement=(paragraph + "\n\n") * 12
    )
    for number in range(PAGE_SIZE):
        await seed_position(
            harness, drafter, [(drafter, EndorsementDecision.ENDORSED)], title=f"Position {number}"
        )
    many = [
        await seed_org(harness, f"Association numéro {number} " + "des amis " * 11, slug=f"assoc-{number}")
        for number in range(40)
    ]
    asked = [(drafter, EndorsementDecision.PENDING)] + [(org, EndorsementDecision.ENDORSED) for org in many]
    crowded = await seed_position(harness, drafter, asked)
    sara = await registered("Sara", "uk")
    await add_to(harness, sara, drafter)
    card = await harness.send(sara, f"/start pos_{crowded.id}")
    assert len(card["text"].encode("utf-16-le")) // 2 <= 4096 and "Association numéro 0 " in card["text"]
    shown = card["text"].count("Association numéro")
    assert 0 < shown < 40 and harness.t("… and {count} more", "uk", count=40 - shown) in card["text"]

    parts = [await harness.send(sara, f"/start pos_{position.id}")]
    while not buttons(parts[-1]):  # the buttons are on the last part
        parts.append(await harness.reply(sara))
    assert 3 <= len(parts) <= 5 and all(len(m["text"].encode("utf-16-le")) // 2 <= 4096 for m in parts)
    assert harness.t("✂️ The statement is too long to show here in full.", "uk") in "".join(
        m["text"] for m in parts
    )
    link = f"https://t.me/diaspora_bridge_bot?start=pos_{position.id}"
    assert link in parts[-1]["text"] and TITLE in parts[0]["text"]

    listing = await harness.send(sara, "/positions")
    assert "▶️" in buttons(listing)
    await harness.press(sara, listing, "▶️")
    following = await harness.edited(sara, listing)
    assert "◀️" in buttons(following) and str(PAGE_SIZE + 1) in buttons(following)
    assert f"{PAGE_SIZE + 1}–{PAGE_SIZE + 2} " in following["text"]


async def test_the_daily_purge_removes_names_kept_long_enough(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    drafter, _second = await two_organizations(harness)
    now = utcnow()
    expired = await seed_position(
        harness,
        drafter,
        [(drafter, EndorsementDecision.ENDORSED)],
        status=PositionStatus.CLOSED,
        keep_until=now - timedelta(hours=1),
    )
    kept = await seed_position(harness, drafter, [(drafter, EndorsementDecision.ENDORSED)])
    nadia = await registered("Nadia", "en")
    member = await member_of(harness, nadia)
    async with create_session_factory(harness.app.engine)() as session:
        for position in (expired, kept):
            session.add(
                PositionSignature(
                    position_id=position.id or 0, member_id=member.id or 0, display_name="Nadia"
                )
            )
        await session.commit()

    job = harness.app.scheduler.get_job("signature_purge")
    assert job.trigger.interval.total_seconds() == PURGE_CHECK_SECONDS
    await job.func()
    assert await names_under(harness, expired.id or 0) == []
    assert await names_under(harness, kept.id or 0) == [("Nadia", None)]
    await job.func()  # idempotent
    assert await names_under(harness, kept.id or 0) == [("Nadia", None)]

"""Joint positions, the staff's side: an admin drafts a position (translated into Russian), asks two
other organizations, and their admins get the request in their own language; one endorses, the
other declines then endorses, and the drafter sees the list of endorsing organizations grow.
Forged presses (a plain member, another organization's admin) change nothing; an answer after the
deadline is refused; asking every organization is the confederation's staff's alone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bot.i18n import format_list
from bot.policy import REFUSALS, STALE, Action
from bot.sandbox import SimUser
from handlers.positions.callbacks import Endorsement, PositionDraft, PositionStaff
from storage.db import create_session_factory
from storage.models import (
    AuditEntry,
    EndorsementDecision,
    Position,
    PositionEndorsement,
    PositionStatus,
    PositionTarget,
    Role,
)
from storage.types import utcnow
from tests.e2e.conftest import SUPER_ADMIN_ID, Harness, buttons
from tests.e2e.helpers import plain
from tests.e2e.reach_kit import add_organization, belongs_to, caught_up, home_id, received

TITLE_FR = "Pour un accès équitable aux visas"
TITLE_RU = "За справедливый доступ к визам"


async def rows(harness: Harness, model: type[Any]) -> list[Any]:
    async with create_session_factory(harness.app.engine)() as session:
        return list((await session.exec(select(model).order_by(col(model.id)))).all())


async def endorsement_of(harness: Harness, organization_id: int) -> PositionEndorsement:
    found = [
        row for row in await rows(harness, PositionEndorsement) if row.organization_id == organization_id
    ]
    assert len(found) == 1, found
    return found[0]


async def arrived(harness: Harness, user: SimUser, fragment: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until the bot has sent `user` `count` messages holding `fragment` (through the outbox)."""
    await harness.emulator.wait_for(lambda _: len(received(harness, user, fragment)) >= count, timeout=15)
    return received(harness, user, fragment)


async def draft_until_targets(harness: Harness, user: SimUser, locale: str, title: str) -> dict[str, Any]:
    """/newposition up to the question of whom to ask (that message)."""
    t = harness.t
    intro = await harness.send(user, "/newposition")
    assert t("Send the title (at most {limit} characters).", locale, limit=200) in plain(intro["text"])
    statement = await harness.send(user, title)
    assert "2500" in statement["text"]
    await harness.send(user, "Nous demandons des délais de visa raisonnables.\nEt des frais justes.")
    await harness.send(user, "Ministère de l'Intérieur — consultation sur les visas")
    deadline = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%d 18:00")
    past = await harness.send(user, "2020-01-01 10:00")
    assert "2020" in past["text"]  # refused, naming the moment read; the step waits
    echo = await harness.send(user, deadline)
    assert t("📅 Deadline: {when}", locale, when="") in echo["text"]
    return await harness.reply(user)


async def test_two_organizations_answer_and_the_drafter_sees_the_list_grow(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    alpha = await add_organization(harness, "Alpha Union")
    beta = await add_organization(harness, "Beta Network")
    gamma = await add_organization(harness, "Gamma Circle")
    fatou = await registered("Fatou", "fr")
    await belongs_to(harness, fatou, home_id(harness), role=Role.ADMIN)
    ivan = await registered("Ivan", "ru")
    await belongs_to(harness, ivan, alpha, role=Role.ADMIN)
    amina = await registered("Amina", "ar")
    await belongs_to(harness, amina, beta, role=Role.ADMIN)
    carl = await registered("Carl", "en")
    await belongs_to(harness, carl, gamma, role=Role.ADMIN)
    plain_member = await registered("Plain", "en")
    await belongs_to(harness, plain_member, alpha)

    targets = await draft_until_targets(harness, fatou, "fr", TITLE_FR)
    assert not any("🌍" in label for label in buttons(targets)), "no 'all organizations' for an admin"
    await harness.press(fatou, targets, "Alpha Union")
    await harness.press(fatou, targets, "Beta Network")
    signatures = await harness.choose(fatou, targets, t("Done", "fr"))
    echoed = harness.message(fatou, targets["message_id"])["text"]
    assert "Alpha Union" in echoed and "Beta Network" in echoed and "Gamma" not in echoed
    await harness.choose(fatou, signatures, t("✍️ Yes, members may sign", "fr"))
    details = await harness.reply(fatou)
    assert t("✍️ Members may add their names.", "fr") in details["text"]

    languages = await harness.choose(fatou, details, t("🌐 Add a translation", "fr"))
    await harness.choose(fatou, languages, "Русский")
    await harness.send(fatou, TITLE_RU)
    await harness.send(fatou, "Мы просим разумных сроков оформления виз.")
    await harness.reply(fatou)  # the statement of the preview again
    details = await harness.reply(fatou)
    published = await harness.choose(fatou, details, t("📤 Publish", "fr"))
    assert TITLE_FR in published["text"]

    # Each admin asked gets the request in their language, naming their organization.
    request_ivan = (await arrived(harness, ivan, TITLE_RU))[0]
    assert "Мы просим" in request_ivan["text"]
    endorse_ru = t("✅ Endorse on behalf of {organization}", "ru", organization="Alpha Union")
    assert buttons(request_ivan) == [endorse_ru, t("❌ Decline", "ru")]
    request_amina = (await arrived(harness, amina, TITLE_FR))[0]
    assert (
        t("Your organization's answer: {answer}", "ar", answer=t("⏳ Not answered yet", "ar"))
        in request_amina["text"]
    )
    assert not received(harness, carl, TITLE_FR) and not received(harness, plain_member, TITLE_FR)
    position = (await rows(harness, Position))[0]
    assert position.status == PositionStatus.OPEN and position.keep_until == position.deadline + timedelta(
        days=90
    )

    # Forged presses: a plain member of Alpha, and Gamma's admin, change nothing.
    before = [repr(row) for row in await rows(harness, PositionEndorsement)], repr(position)
    alpha_row = await endorsement_of(harness, alpha)
    anchor = await harness.send(carl, "/help")
    member_anchor = await harness.send(plain_member, "/help")
    with harness.i18n.context(), harness.i18n.use_locale("en"):
        stale, refused = str(STALE), str(REFUSALS[Action.ADVOCACY])
    for data in (
        Endorsement(action="endorse", id=alpha_row.id or 0),
        Endorsement(action="decline", id=alpha_row.id or 0),
        Endorsement(action="view", id=alpha_row.id or 0),
        PositionStaff(action="close_yes", id=position.id or 0),
        PositionStaff(action="withdraw_yes", id=position.id or 0),
        PositionStaff(action="open", id=position.id or 0),
    ):
        assert await harness.forge(carl, anchor, data) == stale, data
        assert await harness.forge(plain_member, member_anchor, data) == refused, data
    after = (
        [repr(row) for row in await rows(harness, PositionEndorsement)],
        repr((await rows(harness, Position))[0]),
    )
    assert after == before

    # Alpha endorses: the message shows the answer and offers the other; the drafter is told.
    await harness.press(ivan, request_ivan, endorse_ru)
    edited = await harness.edited(ivan, request_ivan)
    assert t("✅ Endorsed", "ru") in edited["text"] and buttons(edited) == [t("❌ Decline", "ru")]
    first = await arrived(
        harness,
        fatou,
        t(
            "✅ {organization} endorses your joint position “{title}”.",
            "fr",
            organization="Alpha Union",
            title=TITLE_FR,
        ),
    )
    so_far_one = t("Endorsed so far by {count} organization: {names}", "fr", count=1, names="Alpha Union")
    assert so_far_one in first[0]["text"]

    # Beta declines, then changes its mind: the drafter's list grows to two.
    await harness.press(amina, request_amina, t("❌ Decline", "ar"))
    declined = await harness.edited(amina, request_amina)
    assert (await endorsement_of(harness, beta)).decision == EndorsementDecision.DECLINED
    await harness.press(
        amina, declined, t("✅ Endorse on behalf of {organization}", "ar", organization="Beta Network")
    )
    endorses = "✅ {organization} endorses your joint position “{title}”."
    grown = await arrived(harness, fatou, t(endorses, "fr", organization="Beta Network", title=TITLE_FR))
    both = format_list(["Alpha Union", "Beta Network"], "fr")
    so_far = "Endorsed so far by {count} organization: {names}"
    assert (
        t(so_far, "fr", so_far.replace("organization:", "organizations:"), 2, count=2, names=both)
        in grown[-1]["text"]
    )
    assert (await endorsement_of(harness, alpha)).decision == EndorsementDecision.ENDORSED
    assert (await endorsement_of(harness, beta)).decision == EndorsementDecision.ENDORSED
    actions = [
        entry.action for entry in await rows(harness, AuditEntry) if entry.action.startswith("position.")
    ]
    assert actions == ["position.published", "position.endorsed", "position.declined", "position.endorsed"]

    # /mypositions: the card counts the answers.
    await caught_up(harness, fatou)
    listing = await harness.send(fatou, "/mypositions")
    card = await harness.choose(fatou, listing, f"1. {TITLE_FR}")
    assert "Alpha Union" in card["text"] and t("📄 Submission", "fr") in buttons(card)

    # After the deadline, nothing changes.
    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(update(Position).values(deadline=utcnow() - timedelta(minutes=1)))  # type: ignore[call-overload]
        await session.commit()
    current = harness.message(ivan, request_ivan["message_id"])
    query = await harness.press(ivan, current, t("❌ Decline", "ru"))
    assert harness.emulator.callback_answers[query]["text"] == t(
        "This position no longer takes answers: its deadline has passed, or it was closed or withdrawn.", "ru"
    )
    assert (await endorsement_of(harness, alpha)).decision == EndorsementDecision.ENDORSED
    assert not harness.apologized(ivan) and not harness.apologized(fatou)


async def test_only_the_confederation_staff_ask_every_organization(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    await add_organization(harness, "Alpha Union")
    carl = await registered("Carl", "fr")
    await belongs_to(harness, carl, home_id(harness), role=Role.ADMIN)
    targets = await draft_until_targets(harness, carl, "fr", TITLE_FR)
    draft = (await rows(harness, Position))[0]
    assert await harness.forge(carl, targets, PositionDraft(action="all", id=draft.id or 0)) == t(
        "This button is no longer active.", "fr"
    )
    assert (await rows(harness, Position))[0].target == PositionTarget.CHOSEN

    # Even with the row saying "all" (forged some other way), Publish refuses it.
    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(update(Position).values(target=PositionTarget.ALL))  # type: ignore[call-overload]
        await session.commit()
    signatures = await harness.choose(carl, targets, t("Done", "fr"))
    await harness.choose(carl, signatures, t("🏢 No, organizations only", "fr"))
    details = await harness.reply(carl)
    refused = await harness.choose(carl, details, t("📤 Publish", "fr"))
    assert refused["text"] == t("Only the confederation's staff can ask every organization.", "fr")
    assert (await rows(harness, Position))[0].status == PositionStatus.DRAFT
    assert await rows(harness, PositionEndorsement) == []

    # The confederation's staff see the choice, and publishing asks every active organization.
    root = harness.emulator.create_user("Root", language_code="en", user_id=SUPER_ADMIN_ID)
    targets = await draft_until_targets(harness, root, "en", "Confederation statement")
    assert any(t("🌍 All organizations", "en") in label for label in buttons(targets))
    await harness.press(root, targets, t("🌍 All organizations", "en"))
    signatures = await harness.choose(root, targets, t("Done", "en"))
    await harness.choose(root, signatures, t("🏢 No, organizations only", "en"))
    details = await harness.reply(root)
    await harness.choose(root, details, t("📤 Publish", "en"))
    published = [row for row in await rows(harness, Position) if row.status == PositionStatus.OPEN]
    assert len(published) == 1 and published[0].target == PositionTarget.ALL
    assert len(await rows(harness, PositionEndorsement)) == 2  # the deployment's own and Alpha

    # The drafter withdraws it from /mypositions, after confirming: nothing more can be answered.
    listing = await harness.send(root, "/mypositions")
    card = await harness.choose(root, listing, "1. Confederation statement")
    assert t("🟢 Open", "en") in card["text"] and t("⏳ Not answered yet", "en") in card["text"]
    await harness.press(root, card, t("↩️ Withdraw", "en"))
    question = await harness.edited(root, card)
    await harness.press(root, question, t("↩️ Yes, withdraw it", "en"))
    withdrawn = await harness.edited(root, question)
    assert t("↩️ Withdrawn", "en") in withdrawn["text"] and buttons(withdrawn) == []
    statuses = [row.status for row in await rows(harness, Position)]
    assert statuses == [PositionStatus.DRAFT, PositionStatus.WITHDRAWN]
    actions = [
        entry.action for entry in await rows(harness, AuditEntry) if entry.action.startswith("position.")
    ]
    assert actions == ["position.published", "position.withdrawn"]

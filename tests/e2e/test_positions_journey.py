"""Issue 18's acceptance journey for joint positions, through the real bot and nothing seeded but
people and organizations: an admin of organization A types a position through /newposition (with
an Arabic translation), asks A and B, lets members sign, and publishes; A's and B's admins get
the request in their languages and endorse; forged presses by a plain member and by organization
C's admin change nothing; three members (one with an Arabic name, one Cyrillic) sign through
/positions → card → consent; the deadline job sends the drafter the PDF, CSV and XLSX, whose text
holds the statement, both organizations and the three signers with their countries."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import update

from bot.i18n import language_name
from bot.policy import REFUSALS, STALE, Action
from bot.sandbox import SimUser
from bot.services import spreadsheets
from bot.services.geo import country_name
from handlers.positions.callbacks import Endorsement, PositionMember, PositionStaff
from storage.db import create_session_factory
from storage.models import (
    AuditEntry,
    EndorsementDecision,
    Position,
    PositionEndorsement,
    PositionSignature,
    PositionStatus,
    Role,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.helpers import plain
from tests.e2e.org_kit import seed_org
from tests.e2e.reach_kit import add_organization, belongs_to, home_id, received
from tests.e2e.test_positions_member import TITLE as TITLE_MEMBER
from tests.e2e.test_positions_member import living_in, seed_position
from tests.e2e.test_positions_staff import arrived, draft_until_targets, rows
from tests.e2e.test_positions_submission import _files as submission_files
from tests.e2e.test_positions_submission import _run_deadline_job as run_deadline_job
from tests.test_position_document import extracted, found

TITLE_FR = "Pour un accès équitable aux visas"
TITLE_AR = "من أجل وصول عادل إلى التأشيرات"
STATEMENT_FR = "Nous demandons des délais de visa raisonnables."  # typed by draft_until_targets
STATEMENT_AR = "نطالب بمواعيد معقولة لمنح التأشيرات."
SIGNERS = (("Moussa Ndiaye", "fr", "FR"), ("ليلى حداد", "ar", "DE"), ("Олена Коваль", "uk", "PL"))


async def sign(harness: Harness, user: SimUser, locale: str) -> None:
    """/positions → the card → ✍️ Add my name → ✅ I agree."""
    t = harness.t
    listing = await harness.send(user, "/positions")
    card = await harness.choose(user, listing, "1")
    consent = await harness.choose(user, card, t("✍️ Add my name", locale))
    query = await harness.press(user, consent, t("✅ I agree", locale))
    assert harness.emulator.callback_answers[query]["text"] == t(
        "✅ Your name is added. You can withdraw it until the deadline.", locale
    )


async def test_a_position_drafted_endorsed_signed_and_submitted(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    alpha, alpha_name = home_id(harness), harness.settings.organization_name
    beta = await add_organization(harness, "Beta Network")
    gamma = await add_organization(harness, "Gamma Circle")
    fatou = await registered("Fatou", "fr")
    await belongs_to(harness, fatou, alpha, role=Role.ADMIN)
    amina = await registered("Amina", "ar")
    await belongs_to(harness, amina, beta, role=Role.ADMIN)
    carl = await registered("Carl", "en")
    await belongs_to(harness, carl, gamma, role=Role.ADMIN)
    plain_member = await registered("Plain", "en")  # of A
    signers = []
    for (name, locale, country), organization in zip(SIGNERS, (alpha, beta, beta), strict=True):
        user = await registered(name, locale)
        await belongs_to(harness, user, organization)
        await living_in(harness, user, country)
        signers.append((user, locale))

    # The drafter types it all: title, statement, addressee, deadline, B asked, members may sign.
    targets = await draft_until_targets(harness, fatou, "fr", TITLE_FR)
    await harness.press(fatou, targets, "Beta Network")
    signatures = await harness.choose(fatou, targets, t("Done", "fr"))
    await harness.choose(fatou, signatures, t("✍️ Yes, members may sign", "fr"))
    details = await harness.reply(fatou)
    languages = await harness.choose(fatou, details, t("🌐 Add a translation", "fr"))
    await harness.choose(fatou, languages, language_name("ar"))
    await harness.send(fatou, TITLE_AR)
    await harness.send(fatou, STATEMENT_AR)
    await harness.reply(fatou)  # the statement of the preview again
    details = await harness.reply(fatou)
    await harness.choose(fatou, details, t("📤 Publish", "fr"))
    [position] = await rows(harness, Position)
    assert position.status == PositionStatus.OPEN and position.signatures_open
    assert position.translations["ar"] == {"title": TITLE_AR, "statement": STATEMENT_AR}

    # A's admin (the drafter) and B's admin get the request, each in their language; C's nothing.
    asks = "📢 <b>{drafting}</b> asks {organization} to endorse a joint position."
    request_fatou = (
        await arrived(harness, fatou, plain(t(asks, "fr", drafting=alpha_name, organization=alpha_name)))
    )[0]
    assert TITLE_FR in request_fatou["text"]
    request_amina = (await arrived(harness, amina, TITLE_AR))[0]
    assert STATEMENT_AR in request_amina["text"] and "Beta Network" in request_amina["text"]
    assert not received(harness, carl, TITLE_FR) and not received(harness, plain_member, TITLE_FR)

    # Forged presses: a plain member of A, and C's admin, change nothing.
    before = [repr(row) for row in await rows(harness, PositionEndorsement)], repr(position)
    with harness.i18n.context(), harness.i18n.use_locale("en"):
        stale, refused = str(STALE), str(REFUSALS[Action.ADVOCACY])
    carl_anchor = await harness.send(carl, "/help")
    member_anchor = await harness.send(plain_member, "/help")
    for endorsement in await rows(harness, PositionEndorsement):
        for action in ("endorse", "decline"):
            data = Endorsement(action=action, id=endorsement.id or 0)
            assert await harness.forge(carl, carl_anchor, data) == stale
            assert await harness.forge(plain_member, member_anchor, data) == refused
    for action in ("close_yes", "withdraw_yes"):
        data = PositionStaff(action=action, id=position.id or 0)
        assert await harness.forge(carl, carl_anchor, data) == stale
    after = (
        [repr(row) for row in await rows(harness, PositionEndorsement)],
        repr((await rows(harness, Position))[0]),
    )
    assert after == before

    # Both endorse, from the request they got.
    await harness.press(
        fatou, request_fatou, t("✅ Endorse on behalf of {organization}", "fr", organization=alpha_name)
    )
    await harness.edited(fatou, request_fatou)
    await harness.press(
        amina, request_amina, t("✅ Endorse on behalf of {organization}", "ar", organization="Beta Network")
    )
    await harness.edited(amina, request_amina)
    decisions = {row.organization_id: row.decision for row in await rows(harness, PositionEndorsement)}
    assert decisions == {alpha: EndorsementDecision.ENDORSED, beta: EndorsementDecision.ENDORSED}

    # Three members sign; C's admin, not asked, cannot.
    for user, locale in signers:
        await sign(harness, user, locale)
    toast = await harness.forge(carl, carl_anchor, PositionMember(action="consent", id=position.id or 0))
    assert toast == stale
    signed = sorted((row.display_name, row.country) for row in await rows(harness, PositionSignature))
    assert signed == sorted((name, country) for name, _locale, country in SIGNERS)

    # The deadline passes: the job closes it and sends the drafter the three files.
    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(update(Position).values(deadline=utcnow() - timedelta(minutes=1)))  # type: ignore[call-overload]
        await session.commit()
    await run_deadline_job(harness)
    files = await submission_files(harness, fatou)
    assert (await rows(harness, Position))[0].status == PositionStatus.CLOSED

    text = extracted(files["pdf"])  # in the position's language: French
    assert found(STATEMENT_FR, text, rtl=False), text
    assert alpha_name in text and "Beta Network" in text and "Gamma" not in text
    for name, _locale, country in SIGNERS:
        assert found(name, text, rtl=name == SIGNERS[1][0]), (name, text)
        assert country_name(country, "fr") in text, (country, text)
    table = spreadsheets.csv_rows(files["csv"])
    cells = [cell for row in table for cell in row]
    assert alpha_name in cells and "Beta Network" in cells
    for name, _locale, country in SIGNERS:
        assert [name, country_name(country, "fr")] in [row[1:] for row in table]
    workbook = load_workbook(io.BytesIO(files["xlsx"]))
    values = [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert all(name in values for name, _locale, _country in SIGNERS)
    assert any(STATEMENT_FR in str(value) for value in values)
    assert not any(harness.apologized(user) for user in (fatou, amina, carl, plain_member))


async def test_withdrawing_deletes_the_names_and_an_organization_without_admin_is_shown(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    t = harness.t
    ours = harness.app.dispatcher["organization"]
    orphan = await seed_org(harness, "Orphan Circle")  # asked, but nobody administers it
    position = await seed_position(
        harness, ours, [(ours, EndorsementDecision.PENDING), (orphan, EndorsementDecision.PENDING)]
    )
    drafter = await registered("Fatou", "fr")
    await belongs_to(harness, drafter, ours.id, role=Role.ADMIN)
    layla = await registered("ليلى حداد", "ar")
    await living_in(harness, layla, "DE")

    card = await harness.send(layla, f"/start pos_{position.id}")
    consent = await harness.choose(layla, card, t("✍️ Add my name", "ar"))
    await harness.press(layla, consent, t("✅ I agree", "ar"))
    assert len(await rows(harness, PositionSignature)) == 1

    listing = await harness.send(drafter, "/mypositions")
    staff_card = await harness.choose(drafter, listing, f"1. {TITLE_MEMBER}")
    no_admin = t("⚠️ No admin to ask (nobody got the request): {names}", "fr", names="Orphan Circle")
    assert no_admin in staff_card["text"]
    assert harness.settings.organization_name not in staff_card["text"].split(no_admin.split(":")[0])[1]
    await harness.press(drafter, staff_card, t("↩️ Withdraw", "fr"))
    question = await harness.edited(drafter, staff_card)
    await harness.press(drafter, question, t("↩️ Yes, withdraw it", "fr"))
    withdrawn = await harness.edited(drafter, question)
    assert t("↩️ Withdrawn", "fr") in withdrawn["text"] and no_admin not in withdrawn["text"]

    # Nothing was submitted: the name is gone now, not at keep_until; the member no longer sees it.
    assert await rows(harness, PositionSignature) == []
    [entry] = [e for e in await rows(harness, AuditEntry) if e.action == "position.withdrawn"]
    assert entry.details["signatures_deleted"] == 1
    listing = await harness.send(layla, "/positions")
    assert TITLE_MEMBER not in listing["text"]
    linked = await harness.send(layla, f"/start pos_{position.id}")
    assert linked["text"] == t(
        "This position is not available to you. Send /positions to see the joint positions.", "ar"
    )
    answered = harness.message(layla, consent["message_id"])
    late = await harness.press(layla, answered, t("↩️ Withdraw my name", "ar"))
    assert harness.emulator.callback_answers[late]["text"] == t("This button is no longer active.", "ar")
    assert not harness.apologized(layla) and not harness.apologized(drafter)

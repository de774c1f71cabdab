"""A joint position's submission through the real bot: at the deadline the job closes the position
and the drafter gets the PDF (its text extracted: the statement in Arabic, the endorsing
organizations in two scripts), the CSV and the XLSX, once however often the job runs and across a
restart; the drafting organization's admin takes it on demand (in the language they choose), while
another organization's admin pressing the same button changes and gets nothing; an attached
confederation-wide consultation's results come with small organizations merged into "Other".

Positions are seeded as rows (the drafting and endorsing dialogs are other parts' work)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from openpyxl import load_workbook
from sqlmodel import col, func, select

from bot.sandbox import SimUser
from bot.services import spreadsheets
from bot.services.positions import submission
from handlers.positions.callbacks import PositionStaff
from storage.db import create_session_factory
from storage.models import (
    AuditEntry,
    EndorsementDecision,
    Member,
    Membership,
    Organization,
    OutboxMessage,
    Position,
    PositionEndorsement,
    PositionSignature,
    PositionStatus,
    QuestionKind,
    ResponseStatus,
    Role,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness, restart_bot
from tests.e2e.helpers import give_role
from tests.e2e.org_kit import add_to, member_of, seed_org
from tests.test_position_document import extracted, found

STATEMENT_AR = "نحن نطالب بقواعد إقامة عادلة للجميع"
STATEMENT_EN = "We call for fair residence rules for everyone"
ARABIC_ORG = "جمعية الجالية السنغالية"
FILES = ("pdf", "csv", "xlsx")


async def _seed(harness: Harness, registered: Any, *, deadline_in: timedelta) -> dict[str, Any]:
    """The bot's organization drafts a position in Arabic (English translation); it and an
    Arabic-named organization endorse it, a third declines; two members signed."""
    drafter = await registered("Awa", "en")
    stranger = await registered("Olek", "en")
    ours = harness.app.dispatcher["organization"]
    endorsing = await seed_org(harness, "Senegal Union", translations={"ar": {"name": ARABIC_ORG}})
    declining = await seed_org(harness, "Declining league")
    other = await seed_org(harness, "Youth network")
    await give_role(harness, drafter, ours.id, Role.ADMIN)
    await add_to(harness, stranger, other, Role.ADMIN)
    member = await member_of(harness, drafter)
    async with create_session_factory(harness.app.engine)() as session:
        position = Position(
            organization_id=ours.id,
            status=PositionStatus.OPEN,
            title="قواعد إقامة عادلة",
            statement=STATEMENT_AR,
            language="ar",
            translations={"en": {"title": "Fair residence rules", "statement": STATEMENT_EN}},
            addressee="Bundestag",
            deadline=utcnow() + deadline_in,
            target_organizations=[endorsing.id, declining.id],
            signatures_open=True,
            created_by=member.id,
            published_at=utcnow() - timedelta(days=3),
        )
        session.add(position)
        await session.flush()
        for organization, decision in (
            (ours, EndorsementDecision.ENDORSED),
            (endorsing, EndorsementDecision.ENDORSED),
            (declining, EndorsementDecision.DECLINED),
        ):
            session.add(
                PositionEndorsement(
                    position_id=position.id,
                    organization_id=organization.id,
                    decision=decision,
                    decided_at=utcnow(),
                )
            )
        session.add(
            PositionSignature(
                position_id=position.id, member_id=member.id, display_name="Awa Ndiaye", country="DE"
            )
        )
        session.add(
            PositionSignature(
                position_id=position.id,
                member_id=(await member_of(harness, stranger)).id,
                display_name="Olek",
                country="PL",
            )
        )
        await session.commit()
        return {"drafter": drafter, "stranger": stranger, "position": position.id, "ours": ours}


def _documents(harness: Harness, user: SimUser) -> list[dict[str, Any]]:
    return [m for m in harness.emulator.transcript(user.id) if m["outgoing"] and m.get("document")]


async def _files(harness: Harness, user: SimUser, count: int = 3) -> dict[str, bytes]:
    await harness.emulator.wait_for(lambda _: len(_documents(harness, user)) >= count, timeout=30)
    documents = _documents(harness, user)[-3:]
    names = [d["document"]["file_name"].rsplit(".", 1)[-1] for d in documents]
    assert sorted(names) == sorted(FILES), names
    return {
        name: harness.emulator.file_bytes(d["document"]["file_id"])
        for name, d in zip(names, documents, strict=True)
    }


async def _run_deadline_job(harness: Harness) -> None:
    job = harness.app.scheduler.get_job("position_deadlines")
    assert job is not None
    await job.func()


async def test_the_deadline_closes_the_position_and_the_drafter_gets_the_files_once(
    harness: Harness, registered: Any
) -> None:
    seeded = await _seed(harness, registered, deadline_in=timedelta(seconds=-5))
    drafter = seeded["drafter"]
    await _run_deadline_job(harness)
    files = await _files(harness, drafter)

    text = extracted(files["pdf"])
    assert found(STATEMENT_AR, text, rtl=True), text
    assert found(ARABIC_ORG, text, rtl=True), text  # the endorsing organization's Arabic name
    assert harness.settings.organization_name in text  # and ours, untranslated: Latin script
    assert "Declining league" not in text and "Youth network" not in text
    assert "Awa Ndiaye" in text and "Olek" in text
    assert "Bundestag" in text
    pdf_message = next(d for d in _documents(harness, drafter) if d["document"]["file_name"].endswith(".pdf"))
    assert "قواعد إقامة عادلة" in pdf_message["caption"] and "2" in pdf_message["caption"]

    rows = spreadsheets.csv_rows(files["csv"])
    assert [row[1] for row in rows[1:3]] == [harness.settings.organization_name, ARABIC_ORG]
    assert ["Awa Ndiaye", "ألمانيا"] in [row[1:] for row in rows]  # Germany, in the PDF's language
    workbook = load_workbook(io.BytesIO(files["xlsx"]))
    cells = [cell.value for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert STATEMENT_AR in cells and ARABIC_ORG in cells and "Olek" in cells

    async with create_session_factory(harness.app.engine)() as session:
        position = await session.get(Position, seeded["position"])
        assert position is not None and position.status == PositionStatus.CLOSED
        closed = (await session.exec(select(AuditEntry).where(AuditEntry.action == "position.closed"))).all()
        assert [entry.details["position_id"] for entry in closed] == [seeded["position"]]
        assert "statement" not in str(closed[0].details)

    # Run again, restart, run again: nothing more is queued nor sent.
    await _run_deadline_job(harness)
    await restart_bot(harness)
    await _run_deadline_job(harness)
    async with create_session_factory(harness.app.engine)() as session:
        rows_queued = (
            await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(col(OutboxMessage.kind).startswith("position_submission"))
            )
        ).one()
        assert rows_queued == 3
        closed = (await session.exec(select(AuditEntry).where(AuditEntry.action == "position.closed"))).all()
        assert len(closed) == 1
    await harness.send(drafter, "/help")  # the bot is alive and has had time to send anything left
    assert len(_documents(harness, drafter)) == 3


async def test_a_position_before_its_deadline_is_left_open(harness: Harness, registered: Any) -> None:
    seeded = await _seed(harness, registered, deadline_in=timedelta(days=2))
    await _run_deadline_job(harness)
    async with create_session_factory(harness.app.engine)() as session:
        position = await session.get(Position, seeded["position"])
        assert position is not None and position.status == PositionStatus.OPEN
        assert (await session.exec(select(func.count()).select_from(OutboxMessage))).one() == 0


async def test_the_drafting_admin_takes_the_submission_on_demand_and_a_stranger_gets_nothing(
    harness: Harness, registered: Any
) -> None:
    seeded = await _seed(harness, registered, deadline_in=timedelta(days=2))
    drafter, stranger, position_id = seeded["drafter"], seeded["stranger"], seeded["position"]

    # Another organization's admin forges the drafter's button: refused, nothing sent nor changed.
    anywhere = await harness.send(stranger, "/help")
    for action in ("submission", "consult"):
        toast = await harness.forge(stranger, anywhere, PositionStaff(action=action, id=position_id))
        assert toast == "This button is no longer active."
    toast = await harness.forge(stranger, anywhere, PositionStaff(action="lang", id=position_id, value="en"))
    assert toast == "This button is no longer active."
    await harness.send(stranger, "/help")
    assert _documents(harness, stranger) == []

    # The drafter: the language first (the position is translated), then the three files in English.
    anywhere = await harness.send(drafter, "/help")
    await harness.forge(drafter, anywhere, PositionStaff(action="submission", id=position_id))
    choice = await harness.reply(drafter)
    assert "language" in choice["text"]
    await harness.press(drafter, choice, "English")
    files = await _files(harness, drafter)
    text = extracted(files["pdf"])
    assert found(STATEMENT_EN, text, rtl=False), text
    assert "Senegal Union" in text and "Endorsed by" in text  # the names and words in English now

    async with create_session_factory(harness.app.engine)() as session:
        position = await session.get(Position, position_id)
        assert position is not None and position.status == PositionStatus.OPEN
        assert position.submission_language == "en"
        exports = (await session.exec(select(AuditEntry).where(AuditEntry.action == "export.position"))).all()
        assert [(e.details["position_id"], e.details["language"], e.actor_telegram_id) for e in exports] == [
            (position_id, "en", drafter.id)
        ]


async def _respondents(
    session: Any, survey: Survey, question: SurveyQuestion, organization: Organization, yes: int, no: int
) -> None:
    for index in range(yes + no):
        member = Member(display_name=f"{organization.name} {index}", consent_at=utcnow())
        session.add(member)
        await session.flush()
        session.add(Membership(organization_id=organization.id, member_id=member.id))
        response = SurveyResponse(
            survey_id=survey.id,
            member_id=member.id,
            respondent_key=f"m{member.id}",
            status=ResponseStatus.SUBMITTED,
        )
        session.add(response)
        await session.flush()
        session.add(SurveyAnswer(response_id=response.id, question_id=question.id, value=index < yes))


async def test_an_attached_consultation_comes_with_small_groups_merged(
    harness: Harness, registered: Any
) -> None:
    seeded = await _seed(harness, registered, deadline_in=timedelta(days=2))
    drafter, position_id = seeded["drafter"], seeded["position"]
    large = await seed_org(harness, "Large association")
    middle = await seed_org(harness, "Middle club")
    tiny = await seed_org(harness, "Tiny circle")
    async with create_session_factory(harness.app.engine)() as session:
        survey = Survey(
            organization_id=seeded["ours"].id,
            title="Residence consultation",
            audience={"reach": {"all": True}},
            status=SurveyStatus.CLOSED,
        )
        session.add(survey)
        await session.flush()
        question = SurveyQuestion(
            survey_id=survey.id, position=0, kind=QuestionKind.YES_NO, text="Do you agree?"
        )
        session.add(question)
        await session.flush()
        await _respondents(session, survey, question, large, yes=5, no=2)
        await _respondents(session, survey, question, middle, yes=4, no=2)
        await _respondents(session, survey, question, tiny, yes=2, no=0)
        await session.commit()
        survey_id = survey.id

    # The drafter attaches it through the button that lists the surveys.
    async with create_session_factory(harness.app.engine)() as session:
        foreign = Survey(
            organization_id=tiny.id, title="Tiny circle's own survey", status=SurveyStatus.CLOSED
        )
        session.add(foreign)
        await session.commit()
        foreign_id = foreign.id
    anywhere = await harness.send(drafter, "/help")
    await harness.forge(drafter, anywhere, PositionStaff(action="consult", id=position_id))
    listing = await harness.reply(drafter)
    assert "Tiny circle's own survey" not in str(listing["reply_markup"])  # another organization's
    # Its id forged into the button: refused, nothing attached.
    toast = await harness.forge(
        drafter, listing, PositionStaff(action="attach", id=position_id, value=str(foreign_id))
    )
    assert toast == "This button is no longer active."
    attached = await harness.choose(drafter, listing, "Residence consultation")
    assert "consultation" in attached["text"]

    async with create_session_factory(harness.app.engine)() as session:
        position = await session.get(Position, position_id)
        assert position is not None and position.survey_id == survey_id
        position.submission_language = "en"
        session.add(position)
        await session.commit()

    await harness.forge(drafter, anywhere, PositionStaff(action="lang", id=position_id, value="en"))
    files = await _files(harness, drafter)
    text = " ".join(extracted(files["pdf"]).split())  # a table cell's text may wrap
    assert "Consultation results" in text and "Do you agree?" in text
    assert "Everyone (15)" in text and "Large association (7)" in text
    # Tiny circle (2) is hidden, and with it the smallest other group (6): together "Other (8)".
    assert "Tiny circle" not in text and "Middle club" not in text and "Other (8)" in text
    sheet = load_workbook(io.BytesIO(files["xlsx"]))["Consultation results"]
    cells = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "Tiny circle (2)" not in cells and "Other (8)" in cells and 11 in cells  # 5 + 4 + 2 yes


async def test_closing_early_is_the_deadlines_closing_once(harness: Harness, registered: Any) -> None:
    """What the drafter's "close now" calls (`close_now`): closed once however often, files sent."""
    seeded = await _seed(harness, registered, deadline_in=timedelta(days=2))
    sessions = create_session_factory(harness.app.engine)
    for attempt in range(2):
        async with sessions() as session:
            position = await session.get(Position, seeded["position"])
            assert position is not None
            assert await submission.close_now(session, position, utcnow(), seeded["drafter"].id) is (
                attempt == 0
            )
            await session.commit()
    harness.app.delivery.wake()
    files = await _files(harness, seeded["drafter"])
    assert found(STATEMENT_AR, extracted(files["pdf"]), rtl=True)
    async with sessions() as session:
        closed = (await session.exec(select(AuditEntry).where(AuditEntry.action == "position.closed"))).all()
        assert [(e.actor_telegram_id, e.details["reason"]) for e in closed] == [
            (seeded["drafter"].id, "drafter")
        ]

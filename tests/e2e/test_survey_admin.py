"""The coordinator's side of surveys, through the emulator: /poll and /newsurvey (bad input at every
step it can go wrong), publishing, /results (exact counts, charts, written answers page by page,
breakdowns, CSV and XLSX), closing early, extending, duplicating, and refusals of members and of
forged buttons."""

from __future__ import annotations

import csv
import io
import struct
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import col, select

from bot.charts import chart_size
from bot.i18n import format_when
from bot.services import surveys as service
from bot.services.roles import Actor, grant_role, revoke_role
from handlers.surveys.callbacks import SurveyDialog, SurveyManage
from handlers.surveys.steps import BUTTON_STEPS
from storage.db import create_session_factory
from storage.models import (
    Member,
    Organization,
    OutboxMessage,
    QuestionKind,
    Role,
    Survey,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import (
    Question,
    answered_before,
    opened_survey,
    plain,
    refuses_unreadable_and_past_times,
)


async def make_coordinator(harness: Harness, registered, language: str, role: Role = Role.COORDINATOR):  # type: ignore[no-untyped-def]
    user = await registered("Awa", language, username="awa_coord")
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        await grant_role(session, Actor(1, True), harness.app.dispatcher["organization"].id, member, role)
        await session.commit()
    return user


def closing_day(days: int = 3) -> tuple[str, datetime]:
    day = (utcnow() + timedelta(days=days)).date()
    return f"{day.isoformat()} 18:00", datetime.combine(day, time(18, 0), tzinfo=UTC)


async def toast_of(harness: Harness, query: str) -> str:
    await harness.emulator.wait_for(lambda emu: emu.callback_answers.get(query) is not None)
    return harness.emulator.callback_answers[query]["text"]


async def surveys(harness: Harness) -> list[Survey]:
    async with create_session_factory(harness.app.engine)() as session:
        return list((await session.exec(select(Survey).order_by(col(Survey.id)))).all())


async def questions(harness: Harness, survey_id: int) -> list[SurveyQuestion]:
    async with create_session_factory(harness.app.engine)() as session:
        return await service.questions_of(session, survey_id)


async def invitations(harness: Harness, survey_id: int) -> int:
    async with create_session_factory(harness.app.engine)() as session:
        query = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == service.KIND, OutboxMessage.ref_id == survey_id)
        )
        return int((await session.exec(query)).one())


async def database_state(harness: Harness) -> tuple[list[dict[str, Any]], list[int]]:
    """Every survey as stored, and how many questions, responses and outbox rows there are."""
    async with create_session_factory(harness.app.engine)() as session:
        stored = (await session.exec(select(Survey).order_by(col(Survey.id)))).all()
        columns = [column.name for column in Survey.__table__.columns]  # type: ignore[attr-defined]
        rows = [{name: getattr(survey, name) for name in columns} for survey in stored]
        counts = [
            int((await session.exec(select(func.count()).select_from(model))).one())
            for model in (SurveyQuestion, SurveyResponse, OutboxMessage)
        ]
    return rows, counts


def written_answers_per_page(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """/results shows `count` written answers a page (so a few answers make several pages)."""
    import handlers.surveys.written_answers

    monkeypatch.setattr(handlers.surveys.written_answers, "TEXTS_PAGE", count)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_poll_dialog_with_bad_input_at_every_step_then_published(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "en")
    await registered("Kofi", "en")
    await registered("Amina", "ar")
    t = harness.t

    def said(
        message: dict[str, Any], msgid: str, plural: str | None = None, n: int = 1, **values: Any
    ) -> None:
        assert message["text"] == plain(t(msgid, "en", plural, n, **values)), message["text"]

    prompt = await harness.send(coordinator, "/poll")
    said(
        prompt,
        "📊 <b>New quick poll</b>\n\nSend the question (at most {limit} characters). Send /cancel to stop.",
        limit=300,
    )
    said(
        await harness.send(coordinator, "Q" * 301),
        "That question is too long: at most {limit} characters. Please send a shorter one.",
        limit=300,
    )
    options_prompt = await harness.send(coordinator, "Where & when <should> we meet?")
    assert buttons(options_prompt) == ["Done"]
    so_far = await harness.send(coordinator, "Paris")
    assert so_far["text"].startswith(
        t("{count} answer option so far:", "en", "{count} answer options so far:", 1, count=1)
    )
    query = await harness.press(coordinator, so_far, "Done")  # one option is not enough
    assert await toast_of(harness, query) == t(
        "A question needs from {low} to {high} answer options.", "en", low=2, high=12
    )
    said(
        await harness.send(coordinator, "\n".join(f"Option {n}" for n in range(12))),  # 1 + 12 = 13
        "A question needs from {low} to {high} answer options.",
        low=2,
        high=12,
    )
    said(
        await harness.send(coordinator, "L" * 101),
        "An answer option can have at most {limit} characters. Please send that message again with shorter options.",
        limit=100,
    )
    said(
        await harness.send(coordinator, "paris"),
        "Each answer option must be different. Please send that message again.",
    )
    so_far = await harness.send(coordinator, "Lyon\nDakar")
    assert so_far["text"].splitlines()[1:4] == ["1. Paris", "2. Lyon", "3. Dakar"]
    multiple = await harness.choose(coordinator, so_far, "Done")
    said(multiple, "May members choose one answer, or several?")
    said(
        await harness.send(coordinator, "several"),
        "Please choose with the buttons above, or send /cancel to stop.",
    )
    anonymous = await harness.choose(coordinator, multiple, "Several answers")
    closes = await harness.choose(coordinator, anonymous, t("👤 With names", "en"))
    assert "(UTC)" in closes["text"]
    await refuses_unreadable_and_past_times(harness, coordinator, "en")
    typed, moment = closing_day()
    confirm = await harness.send(coordinator, typed)
    said(confirm, "It closes on {when}. Is that right?", when=format_when(moment, "en", "UTC", "words"))
    audience = await harness.choose(coordinator, confirm, t("✅ Correct", "en"))
    await harness.press(coordinator, audience, "Everyone")
    said(
        await harness.reply(coordinator),
        "👁 Preview: nothing is sent until you press Publish. Members get it in their language.",
    )
    card = await harness.reply(coordinator)
    assert "Where & when <should> we meet?" in card["text"]
    assert (
        plain(t("It reaches <b>{count}</b> member.", "en", "It reaches <b>{count}</b> members.", 3, count=3))
        in card["text"]
    )
    assert [s.status for s in await surveys(harness)] == [SurveyStatus.DRAFT]

    published = await harness.choose(coordinator, card, t("📤 Publish", "en"))
    assert published["text"].startswith(
        plain(
            t(
                "📤 Published: {count} member is invited.",
                "en",
                "📤 Published: {count} members are invited.",
                3,
                count=3,
            )
        )
    )
    (poll,) = await surveys(harness)
    assert (poll.native_poll, poll.status, poll.anonymous, poll.closes_at) == (
        True,
        SurveyStatus.OPEN,
        False,
        moment,
    )
    assert poll.title == "Where & when <should> we meet?"
    (question,) = await questions(harness, poll.id or 0)
    assert (question.kind, question.options) == (QuestionKind.MULTIPLE, ["Paris", "Lyon", "Dakar"])
    assert await invitations(harness, poll.id or 0) == 3
    # The published card's buttons are gone; pressing Publish again (forged) changes nothing.
    publish_again = SurveyDialog(action="publish", id=poll.id or 0)
    assert await harness.forge(coordinator, card, publish_again) == "This button is no longer active."
    assert await invitations(harness, poll.id or 0) == 3


async def test_newsurvey_in_french_every_kind_translation_and_publish(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "fr")
    await registered("Kofi", "en")
    await registered("Amina", "ar")
    t = harness.t

    def said(message: dict[str, Any], msgid: str, **values: Any) -> None:
        assert message["text"] == plain(t(msgid, "fr", **values)), message["text"]

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        await harness.press(coordinator, message, t(label, "fr"))
        return await harness.reply(coordinator)

    prompt = await harness.send(coordinator, "/newsurvey")
    said(
        prompt,
        "📋 <b>New survey</b>\n\nWhat is the survey called? Send its title (at most {limit} characters). "
        "Send /cancel to stop.",
        limit=300,
    )
    said(await harness.send(coordinator, "   "), "That looks empty. Please type your answer.")
    kind = await harness.send(coordinator, "Besoins de la communauté")
    said(kind, "<b>Question {number}</b>: what kind of answer?", number=1)

    # 1. One choice.
    await pick(kind, "🔘 One choice")
    options = await harness.send(coordinator, "Dans quelle ville vivez-vous ?")
    said(
        await harness.send(coordinator, "Paris\n" + "V" * 101),
        "An answer option can have at most {limit} characters. Please send that message again with shorter options.",
        limit=100,
    )
    so_far = await harness.send(coordinator, "Paris\nLyon\nAutre")
    assert options["text"] != so_far["text"]
    optional = await pick(so_far, "Done")
    more = await pick(optional, "Required")
    said(more, "✅ Question {number} is added. Add another one?", number=1)
    # 2. Several choices, optional.
    kind = await pick(more, "➕ Another question")
    await pick(kind, "☑️ Several choices")
    await harness.send(coordinator, "Quels sujets vous intéressent ?")
    so_far = await harness.send(coordinator, "Emploi")
    so_far = await harness.send(coordinator, "Santé")
    more = await pick(await pick(so_far, "Done"), "Optional (can be skipped)")
    # 3. Rating 0-10.
    kind = await pick(more, "➕ Another question")
    await harness.choose(coordinator, kind, t("⭐ Rating {low}–{high}", "fr").format(low=0, high=10))
    optional = await harness.send(coordinator, "Votre satisfaction ?")
    more = await pick(optional, "Required")
    # 4. A number with bounds (bad bounds first).
    kind = await pick(more, "➕ Another question")
    await pick(kind, "🔢 Number")
    bounds = await harness.send(coordinator, "Combien d'enfants ?")
    bad_bounds = (
        "Please send the lowest and the highest number allowed, for example 0 100 (a dash leaves one side "
        "open: - 100), or press Skip."
    )
    said(await harness.send(coordinator, "10 0"), bad_bounds)
    said(await harness.send(coordinator, "beaucoup"), bad_bounds)
    assert bounds["text"]
    more = await pick(await harness.send(coordinator, "0 20"), "Required")
    # 5. Free text, length limit (bad one first).
    kind = await pick(more, "➕ Another question")
    await pick(kind, "✍️ Free text")
    await harness.send(coordinator, "Une idée pour nous ?")
    said(await harness.send(coordinator, "5000"), "Please send a whole number from 1 to {limit}.", limit=1000)
    more = await pick(await harness.send(coordinator, "200"), "Optional (can be skipped)")
    # 6. Yes / no.
    kind = await pick(more, "➕ Another question")
    await pick(kind, "👍 Yes / no")
    more = await pick(await harness.send(coordinator, "Viendrez-vous à la fête ?"), "Required")

    anonymous = await pick(more, "✅ That's all")
    audience = await pick(anonymous, "🙈 Anonymous")
    await harness.press(coordinator, audience, t("Choose…", "fr"))
    picker = harness.message(coordinator, audience["message_id"])
    await harness.press(coordinator, picker, "▫️ English")
    await harness.press(coordinator, harness.message(coordinator, audience["message_id"]), "▫️ Français")
    opens = await pick(harness.message(coordinator, audience["message_id"]), "Done")
    await harness.choose(coordinator, opens, t("Later…", "fr"))
    opening, opens_at = closing_day(1)
    await pick(await harness.send(coordinator, opening), "✅ Correct")  # the closing question comes next
    confirm = await harness.send(coordinator, opening)  # closing when it opens: refused once confirmed
    said(confirm, "It closes on {when}. Is that right?", when=format_when(opens_at, "fr", "UTC", "words"))
    said(
        await pick(confirm, "✅ Correct"),
        "The closing time must be in the future and after the opening time. Please send a later time.",
    )
    await harness.reply(coordinator)  # the closing question again
    closing, closes_at = closing_day(5)
    reminder = await pick(await harness.send(coordinator, closing), "✅ Correct")
    await harness.choose(coordinator, reminder, t("2 hours before", "fr"))  # preview notice
    card = await harness.reply(coordinator)
    assert "Besoins de la communauté" in card["text"] and "Viendrez-vous à la fête ?" in card["text"]
    assert (
        plain(t("It reaches <b>{count}</b> member.", "fr", "It reaches <b>{count}</b> members.", 2, count=2))
        in card["text"]
    )

    (survey,) = await surveys(harness)
    stored = await questions(harness, survey.id or 0)
    assert [(q.kind, q.optional) for q in stored] == [
        (QuestionKind.SINGLE, False),
        (QuestionKind.MULTIPLE, True),
        (QuestionKind.RATING, False),
        (QuestionKind.NUMBER, False),
        (QuestionKind.TEXT, True),
        (QuestionKind.YES_NO, False),
    ]
    assert (stored[2].min_value, stored[2].max_value, stored[3].min_value, stored[3].max_value) == (
        0,
        10,
        0,
        20,
    )
    assert stored[4].max_length == 200 and stored[0].options == ["Paris", "Lyon", "Autre"]
    assert (survey.anonymous, survey.audience, survey.reminder_before_minutes) == (
        True,
        {"languages": ["en", "fr"]},
        120,
    )
    assert (survey.opens_at, survey.closes_at, survey.language) == (opens_at, closes_at, "fr")

    # A translation into English: the title, then each question and each of its options, one per
    # message (several lines answer as many options, never more than the question has left).
    languages = await harness.choose(coordinator, card, t("🌐 Add a translation", "fr"))
    await harness.choose(coordinator, languages, "English")
    await harness.send(coordinator, "Community needs")

    def option_asked(reply: dict[str, Any], option: int, original: str) -> None:
        prompt = "Answer option {option} of question {number} in {language}. The original: {original}"
        said(reply, prompt, option=option, number=1, language="English", original=original)

    option_asked(await harness.send(coordinator, "Which city do you live in?"), 1, "Paris")
    assert (await harness.send(coordinator, "Paris\nLyon\nOther\nNice"))["text"] == t(
        "Only {count} answer option of question {number} is left to translate. "
        "Please send that message again.",
        "fr",
        "Only {count} answer options of question {number} are left to translate. "
        "Please send that message again.",
        3,
        count=3,
        number=1,
    )
    option_asked(await harness.send(coordinator, "Paris\nLyon"), 3, "Autre")
    said(
        await harness.send(coordinator, "lyon"),
        "Each answer option must be different. Please send that message again.",
    )
    for answer in [
        "Other",
        "Which topics interest you?",
        "Jobs",
        "Health",
        "How satisfied are you?",
        "How many children?",
        "An idea for us?",
    ]:
        await harness.send(coordinator, answer)
    said(
        await harness.send(coordinator, "Will you come to the party?"),
        "✅ Translation saved: {language}.",
        language="English",
    )
    card = await harness.reply(coordinator)
    stored = await questions(harness, survey.id or 0)
    assert stored[0].translations == {
        "en": {"text": "Which city do you live in?", "options": ["Paris", "Lyon", "Other"]}
    }
    assert stored[5].translations == {"en": {"text": "Will you come to the party?"}}
    assert (await surveys(harness))[0].translations == {"en": "Community needs"}

    await harness.choose(coordinator, card, t("📤 Publish", "fr"))
    (survey,) = await surveys(harness)
    assert survey.status == SurveyStatus.OPEN and survey.remind_at == closes_at - timedelta(hours=2)
    assert await invitations(harness, survey.id or 0) == 2  # the English and French speakers


async def test_cancel_and_forged_or_foreign_buttons_change_nothing(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "en")
    member = await registered("Kofi", "en")
    t = harness.t
    refusal = t("Sorry, only coordinators and organizers can run surveys.", "en")
    for command in ("/poll", "/newsurvey", "/results"):
        assert (await harness.send(member, command))["text"] == refusal

    now = utcnow()
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, harness.app.dispatcher["organization"].id)
        other = Organization(slug="other", name="Other", default_language="en", timezone="UTC")
        session.add(other)
        await session.flush()
        foreign = await service.create_survey(
            session, other.id or 0, "Foreign", now, closes_at=now + timedelta(days=2)
        )
        await service.add_question(session, foreign, "yes_no", "Ok?")
        await service.open_survey(session, foreign, other, now)
        ours = await service.create_survey(
            session, organization.id or 0, "Ours", now, closes_at=now + timedelta(days=2)
        )
        await service.add_question(session, ours, "yes_no", "Ok?")
        written = await service.add_question(session, ours, "text", "Why?", optional=True)
        await service.open_survey(session, ours, organization, now)
        draft = await service.create_survey(
            session, organization.id or 0, "Draft", now, closes_at=now + timedelta(days=2)
        )
        await service.add_question(session, draft, "yes_no", "Ok?")
        await session.commit()
        foreign_id, ours_id, draft_id, written_id = (
            foreign.id or 0,
            ours.id or 0,
            draft.id or 0,
            written.id or 0,
        )
    await invited(harness, coordinator, member)

    # A member forges every coordinator button (the draft card's, the dialog's steps, /results'):
    # each is refused by the policy before any handler runs, and nothing changes.
    draft_buttons = [
        SurveyDialog(action="publish", id=draft_id),
        SurveyDialog(action="discard", id=draft_id),
        SurveyDialog(action="translate", id=draft_id),
        SurveyDialog(action="tr_lang", id=draft_id, value="fr"),
    ]
    step_buttons = [SurveyDialog(action=action, value="yes") for action in BUTTON_STEPS]
    results_buttons = [
        SurveyManage(action="page", id=0),
        SurveyManage(action="open", id=ours_id),
        SurveyManage(action="open", id=draft_id),
        SurveyManage(action="texts", id=ours_id, question=written_id),
        SurveyManage(action="texts", id=ours_id, question=written_id, page=8),
        *(SurveyManage(action="by", id=ours_id, value=code) for code in ("lang", "res", "orig")),
        *(
            SurveyManage(action=action, id=ours_id)
            for action in ("csv", "xlsx", "close", "close_yes", "keep", "extend", "duplicate")
        ),
    ]
    before = await database_state(harness)
    last = await harness.send(member, "/help")
    sent = len(harness.emulator.transcript(member.id))
    published = SurveyDialog(action="publish", id=ours_id)
    for data in (published, *draft_buttons, *step_buttons, *results_buttons):
        assert await harness.forge(member, last, data) == refusal, data
    assert await database_state(harness) == before
    assert len(harness.emulator.transcript(member.id)) == sent  # no file, no results, no question

    last = await harness.send(coordinator, "/help")
    stale = "This button is no longer active."
    missing = draft_id + 1000  # no such survey: every button naming it is stale
    vanished = [
        type(button)(**{**button.model_dump(), "id": missing})
        for button in (*draft_buttons, *results_buttons)
        if button.action != "page"
    ]
    for data in (
        SurveyManage(action="close_yes", id=foreign_id),
        SurveyManage(action="csv", id=foreign_id),
        SurveyManage(action="texts", id=ours_id, question=999),
        SurveyManage(action="by", id=ours_id, value="nope"),
        SurveyDialog(action="anon", value="yes"),  # no dialog is waiting for it
        SurveyDialog(action="publish", id=foreign_id),
        *vanished,
    ):
        assert await harness.forge(coordinator, last, data) == stale, data
    assert [s.status for s in await surveys(harness)] == [
        SurveyStatus.OPEN,
        SurveyStatus.OPEN,
        SurveyStatus.DRAFT,
    ]
    assert await database_state(harness) == before

    # A dialog's buttons belong to their step; /cancel ends the dialog and its buttons.
    await harness.send(coordinator, "/poll")
    options = await harness.send(coordinator, "Lunch or dinner?")
    assert await harness.forge(coordinator, options, SurveyDialog(action="multiple", value="yes")) == stale
    assert await harness.forge(coordinator, options, SurveyDialog(action="kind", value="bogus")) == stale
    await harness.send(coordinator, "Lunch\nDinner")
    assert (await harness.send(coordinator, "/cancel"))["text"] == t(
        "Cancelled. Nothing else was changed.", "en"
    )
    query = await harness.press(coordinator, options, "Done")
    assert await toast_of(harness, query) == stale
    assert len(await surveys(harness)) == 3


async def invited(harness: Harness, *users: Any) -> None:
    """Wait for each user's invitation to an opened survey (so later replies are not mixed up with it)."""
    harness.app.delivery.wake()
    for user in users:
        assert len(buttons(await harness.reply(user, timeout=15))) == 1  # Start, in their language


async def respond(harness: Harness, user: Any, survey_id: int, values: list[Any]) -> None:
    """A member answers every question (None skips an optional one) and submits, through the service."""
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        survey = await service.get_survey(session, survey_id)
        response, question = await service.start_or_resume(session, survey, member, utcnow())
        for value in values:
            assert question is not None
            question = await service.answer(session, response, question, value, utcnow())
        await service.submit(session, response, utcnow())
        await session.commit()


ANSWERS = [  # city, topics, rating, children, idea, coming
    [0, [0], 5, 0, "Un marché", True],
    [0, [0, 1], 4, 1, '=HYPERLINK("x")', True],
    [0, [1], 4, 2, "Des cours", False],
    [1, [0, 2], 3, 2, None, True],
    [1, [0], 5, 3, "Du sport", True],
    [2, [2], 5, 10, "Une fête", False],
    [0, [0, 1], 1, 1, "Rien", True],
]


async def attributed_survey(harness: Harness) -> int:
    fr = {"fr": {"text": "Ville ?", "options": ["Paris", "Lyon", "Autre"]}}
    questions: list[Question] = [
        ("single", "City?", {"options": ["Paris", "Lyon", "Other"], "translations": fr}),
        ("multiple", "Topics?", {"options": ["Jobs", "Health", "Housing"]}),
        ("rating", "Satisfied?", {}),
        ("number", "Children?", {"min_value": 0, "max_value": 20}),
        ("text", "Idea?", {"optional": True}),
        ("yes_no", "Coming?", {}),
    ]
    return (await opened_survey(harness, "Needs", questions, language="en")).id or 0


async def test_results_counts_charts_texts_breakdown_exports_close_extend_duplicate(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    from handlers.surveys.texts import percent

    written_answers_per_page(monkeypatch, 3)
    coordinator = await make_coordinator(harness, registered, "fr")
    people = [await registered(f"P{n}", "en" if n < 5 else "fr") for n in range(7)]
    survey_id = await attributed_survey(harness)
    await invited(harness, coordinator)
    for person, values in zip(people, ANSWERS, strict=True):
        await respond(harness, person, survey_id, values)
    t = harness.t

    listing = await harness.send(coordinator, "/results")
    assert f"#{survey_id} Needs" in listing["text"]
    since = len(harness.emulator.calls)
    text = (await harness.choose(coordinator, listing, f"#{survey_id} Needs"))["text"]
    lines = text.splitlines()
    assert plain(t("<b>{count}</b> response", "fr", "<b>{count}</b> responses", 7, count=7)) in lines

    def block(title: str, rows: list[tuple[str, int, float]]) -> list[str]:
        return [title, *(f"• {label} — {count} ({percent(share, 'fr')})" for label, count, share in rows)]

    def follows(expected: list[str]) -> None:
        start = lines.index(expected[0])
        assert lines[start : start + len(expected)] == expected

    answered = t(
        "{count} person answered this question.", "fr", "{count} people answered this question.", 7, count=7
    )
    follows([*block("1. Ville ?", [("Paris", 4, 57.1), ("Lyon", 2, 28.6), ("Autre", 1, 14.3)]), answered])
    follows(block("2. Topics?", [("Jobs", 5, 71.4), ("Health", 3, 42.9), ("Housing", 2, 28.6)]))
    follows(
        block(
            "3. Satisfied?", [("1", 1, 14.3), ("2", 0, 0.0), ("3", 1, 14.3), ("4", 2, 28.6), ("5", 3, 42.9)]
        )
    )
    follows(
        [
            "4. Children?",
            t("Average: {average} (from {low} to {high})", "fr", average="2,71", low="0", high="10"),
        ]
    )
    yes, no = t("Yes", "fr"), t("No", "fr")
    follows(block("6. Coming?", [(yes, 5, 71.4), (no, 2, 28.6)]))
    assert (
        t(
            "{count} written answer: press 📝 below to read it.",
            "fr",
            "{count} written answers: press 📝 below to read them.",
            6,
            count=6,
        )
        in lines
    )

    # One chart per choice or rating question: a PNG of the expected size, drawn after the press
    # was answered (drawing takes seconds: the button stops spinning first).
    charts = [await harness.reply(coordinator) for _ in range(4)]
    pressed = next(
        str(call.params["callback_query_id"])
        for call in harness.emulator.calls[since:]
        if call.method == "answerCallbackQuery"
    )
    assert answered_before(harness.emulator, since, pressed, "sendPhoto")
    sizes = [len(labels) for labels in (["Paris", "Lyon", "Autre"], [1, 2, 3], range(5), [yes, no])]
    for message, bars in zip(charts, sizes, strict=True):
        data = harness.emulator.file_bytes(message["photo"][-1]["file_id"])
        assert png_size(data) == chart_size(bars)
    assert [message["caption"] for message in charts] == [
        "1. Ville ?",
        "2. Topics?",
        "3. Satisfied?",
        "6. Coming?",
    ]

    # The buttons are under the last text before the charts (message ids count across every
    # private chat, as Telegram's do: another member's message may come in between).
    summary = [
        message
        for message in harness.emulator.transcript(coordinator)
        if message["outgoing"] and "text" in message and message["message_id"] < charts[0]["message_id"]
    ][-1]
    page = await harness.choose(coordinator, summary, t("📝 Answers to {number}", "fr", number=5))
    assert t("Answers {first}–{last} of {total}", "fr", first=1, last=3, total=6) in page["text"]
    await harness.press(coordinator, page, t("Next ▶️", "fr"))
    page = await harness.edited(coordinator, page)
    assert t("Answers {first}–{last} of {total}", "fr", first=4, last=6, total=6) in page["text"]
    shown = [line[2:] for line in page["text"].splitlines() if line.startswith("• ")]
    assert len(shown) == 3 and set(shown) <= {
        "Un marché",
        '=HYPERLINK("x")',
        "Des cours",
        "Du sport",
        "Une fête",
        "Rien",
    }
    await harness.press(coordinator, page, t("◀️ Previous", "fr"))
    assert (
        t("Answers {first}–{last} of {total}", "fr", first=1, last=3, total=6)
        in (await harness.edited(coordinator, page))["text"]
    )

    # By language: the 2 French speakers are a group too small to show, and the 5 English speakers
    # are merged with them (the overall results minus theirs would be the French speakers' answers):
    # one "Other" of both, and why.
    breakdown = (await harness.choose(coordinator, summary, t("👥 By language", "fr")))["text"]
    assert "English" not in breakdown and "Français" not in breakdown
    other = t("Other ({count} smaller group)", "fr", "Other ({count} smaller groups)", 2, count=2)
    responses = t("{count} response", "fr", "{count} responses", 7, count=7)
    assert f"{other} — {responses}" in breakdown
    why = t(
        "🔒 Groups with fewer than {min} responses are shown together as “Other”, so that "
        "nobody's answers can be worked out.",
        "fr",
        min=5,
    )
    assert why in breakdown

    # CSV and XLSX: one row per response, the answers given.
    document = (await harness.choose(coordinator, summary, "📄 CSV"))["document"]
    rows = list(csv.reader(io.StringIO(harness.emulator.file_bytes(document["file_id"]).decode("utf-8-sig"))))
    assert rows[0][:3] == ["response", "member_id", "name"] and len(rows) == 8
    by_name = {row[2]: row for row in rows[1:]}
    assert by_name["P1"][4:] == ["Paris", "Jobs; Health", "4", "1", '\'=HYPERLINK("x")', "yes"]
    assert by_name["P3"][4:] == ["Lyon", "Jobs; Housing", "3", "2", "", "yes"]
    document = (await harness.choose(coordinator, summary, t("📗 Excel (XLSX)", "fr")))["document"]
    assert document["file_name"] == f"survey-{survey_id}.xlsx"
    workbook = load_workbook(io.BytesIO(harness.emulator.file_bytes(document["file_id"])))
    sheet_rows = [
        [cell if cell is not None else "" for cell in row]
        for row in workbook["Responses"].iter_rows(values_only=True)
    ]
    assert [[str(cell) for cell in row] for row in sheet_rows] == rows
    summary_rows = list(workbook["Summary"].iter_rows(values_only=True))
    assert (None, "Autre", 1, 0.143) in summary_rows and (None, yes, 5, 0.714) in summary_rows

    # Extend, then close early; a duplicate is a new draft with the same questions.
    await harness.choose(coordinator, summary, t("🕒 Extend", "fr"))
    typed, moment = closing_day(9)
    confirm = await harness.send(coordinator, typed)
    assert (await harness.choose(coordinator, confirm, t("✅ Correct", "fr")))["text"] == t(
        "🕒 Survey #{id} now closes on {when}.",
        "fr",
        id=survey_id,
        when=format_when(moment, "fr", "UTC", "words"),
    )
    confirm = await harness.choose(coordinator, summary, t("⏹ Close now", "fr"))
    await harness.press(coordinator, confirm, t("⏹ Yes, close it", "fr"))
    closed = await harness.edited(coordinator, confirm)
    assert closed["text"] == t("🔒 Survey #{id} is closed. The final results:", "fr", id=survey_id)
    final = await harness.reply(coordinator)
    assert final["text"].splitlines()[1].startswith(t("🔒 Closed on {when}", "fr", when=""))
    for _ in range(4):
        assert "photo" in await harness.reply(coordinator)
    (survey,) = await surveys(harness)
    assert (survey.status, survey.closes_at) == (SurveyStatus.CLOSED, moment)
    query = await harness.press(coordinator, summary, t("⏹ Close now", "fr"))
    assert await toast_of(harness, query) == t("This survey is closed.", "fr")

    assert (await harness.choose(coordinator, summary, t("📑 Duplicate", "fr")))["text"] == t(
        "📑 A copy is ready as draft #{id}.", "fr", id=survey_id + 1
    )
    await harness.reply(coordinator)  # its closing time
    confirm = await harness.send(coordinator, typed)
    card = await harness.choose(coordinator, confirm, t("✅ Correct", "fr"))
    labels = ("📤 Publish", "✏️ Edit", "🌐 Add a translation", "🗑 Discard")
    assert buttons(card) == [t(label, "fr") for label in labels]
    copy = (await surveys(harness))[1]
    assert (copy.status, copy.closes_at, copy.title) == (SurveyStatus.DRAFT, moment, "Needs")
    assert [q.text for q in await questions(harness, copy.id or 0)] == [
        "City?",
        "Topics?",
        "Satisfied?",
        "Children?",
        "Idea?",
        "Coming?",
    ]
    await harness.press(coordinator, card, t("🗑 Discard", "fr"))
    await harness.edited(coordinator, card)
    assert len(await surveys(harness)) == 1


async def test_coordinators_and_organizers_see_the_survey_commands_members_do_not(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "ru")
    member = await registered("Kofi", "en")
    t = harness.t
    lines = (await harness.send(coordinator, "/help"))["text"].splitlines()
    for command, description in (
        ("poll", "Ask a quick poll"),
        ("newsurvey", "Create a survey"),
        ("results", "Survey results"),
    ):
        assert f"/{command} — {t(description, 'ru')}" in lines
    assert not any(line.startswith("/newevent") for line in lines)  # an organizer's command
    member_lines = (await harness.send(member, "/help"))["text"].splitlines()
    assert not any(line.startswith(("/poll", "/newsurvey", "/results")) for line in member_lines)


async def test_a_coordinator_who_loses_the_role_mid_dialog_is_refused_and_the_dialog_ends(
    harness: Harness, registered
) -> None:  # type: ignore[no-untyped-def]
    """Every typed step is authorized, not only the command: the refusal also ends the dialog, so
    what they type next is no longer taken as an answer."""
    coordinator = await make_coordinator(harness, registered, "en")
    t = harness.t
    await harness.send(coordinator, "/newsurvey")
    kind = await harness.send(coordinator, "Community needs")
    await harness.choose(coordinator, kind, t("🔘 One choice", "en"))
    await harness.send(coordinator, "Which city?")  # its options are asked next
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == coordinator.id))).one()
        await revoke_role(session, Actor(1, True), harness.app.dispatcher["organization"].id, member)
        await session.commit()
    refused = await harness.send(coordinator, "Paris\nLyon")
    assert refused["text"] == t("Sorry, only coordinators and organizers can run surveys.", "en")
    after = await harness.send(coordinator, "Paris\nLyon")
    assert after["text"] == t("I'm not sure what you mean. Send /help to see what I can do.", "en")
    assert await surveys(harness) == []


async def test_no_reminder_means_none_for_surveys_and_quick_polls(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    """ "No reminder" is kept as chosen: the preview says so and no reminder is stored; a quick poll
    (no reminder step) gets none either."""
    coordinator = await make_coordinator(harness, registered, "en")
    await registered("Kofi", "en")
    t = harness.t

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        await harness.press(coordinator, message, t(label, "en"))
        return await harness.reply(coordinator)

    await harness.send(coordinator, "/newsurvey")
    kind = await harness.send(coordinator, "Short check-in")
    await harness.choose(coordinator, kind, t("👍 Yes / no", "en"))
    more = await pick(await harness.send(coordinator, "All good?"), "Required")
    anonymous = await pick(more, "✅ That's all")
    audience = await pick(anonymous, "👤 With names")
    opens = await pick(audience, "Everyone")
    closes = await pick(opens, "When I publish it")
    typed, _ = closing_day(5)
    reminder = await pick(await harness.send(coordinator, typed), "✅ Correct")
    await harness.choose(coordinator, reminder, t("No reminder", "en"))  # the preview notice
    card = await harness.reply(coordinator)
    assert closes["text"]
    assert t("24 hours before", "en") not in card["text"]
    (survey,) = await surveys(harness)
    assert survey.reminder_before_minutes is None

    await harness.send(coordinator, "/poll")
    options = await harness.send(coordinator, "Tea or coffee?")
    await harness.send(coordinator, "Tea\nCoffee")
    multiple = await pick(harness.message(coordinator, options["message_id"] + 2), "Done")
    anonymous = await pick(multiple, "One answer")
    closes = await pick(anonymous, "👤 With names")
    confirm = await harness.send(coordinator, closing_day(3)[0])
    audience = await pick(confirm, "✅ Correct")
    await harness.choose(coordinator, audience, "Everyone")
    await harness.reply(coordinator)
    poll = next(s for s in await surveys(harness) if s.native_poll)
    assert poll.reminder_before_minutes is None


async def test_invisible_text_is_refused_at_every_typed_step(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    """Zero-width characters only ("\u200b\u2060\u200b") look like nothing: every typed step of /poll,
    /newsurvey and of a translation says so and waits for a real answer (the composer kit's check)."""
    coordinator = await make_coordinator(harness, registered, "en")
    t = harness.t
    invisible = "\u200b\u2060\u200b"
    empty = t("That looks empty. Please type your answer.", "en")

    async def refused_then(answer: str) -> dict[str, Any]:
        """The invisible text is refused; `answer` is taken: the bot's next message."""
        assert (await harness.send(coordinator, invisible))["text"] == empty
        return await harness.send(coordinator, answer)

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        await harness.press(coordinator, message, t(label, "en"))
        return await harness.reply(coordinator)

    await harness.send(coordinator, "/poll")
    await refused_then("Tea or coffee?")  # the question
    so_far = await refused_then("Tea\nCoffee")  # the options
    assert so_far["text"].splitlines()[1:3] == ["1. Tea", "2. Coffee"]
    assert (await harness.send(coordinator, "/cancel"))["text"] == t(
        "Cancelled. Nothing else was changed.", "en"
    )

    await harness.send(coordinator, "/newsurvey")
    kind = await refused_then("Community needs")  # the title
    await pick(kind, "🔢 Number")
    bounds = await refused_then("How many children?")  # a question's text
    more = await pick(await refused_then("0 20"), "Required")  # a number's bounds
    assert bounds["text"]
    kind = await pick(more, "➕ Another question")
    await pick(kind, "✍️ Free text")
    await harness.send(coordinator, "An idea for us?")
    more = await pick(await refused_then("200"), "Optional (can be skipped)")  # a text's length
    audience = await pick(await pick(more, "✅ That's all"), "👤 With names")
    opens = await pick(audience, "Everyone")
    await pick(opens, "Later…")
    opening, _ = closing_day(1)
    closes = await pick(await refused_then(opening), "✅ Correct")  # the opening time
    assert closes["text"]
    reminder = await pick(await refused_then(closing_day(5)[0]), "✅ Correct")  # the closing time
    await harness.choose(coordinator, reminder, t("No reminder", "en"))  # the preview notice
    card = await harness.reply(coordinator)

    languages = await pick(card, "🌐 Add a translation")
    await pick(languages, "Français")
    await refused_then("Besoins")  # a translation's title
    await refused_then("Combien d'enfants ?")  # a translated question
    saved = await refused_then("Une idée ?")
    assert saved["text"] == t("✅ Translation saved: {language}.", "en", language="Français")
    (survey,) = await surveys(harness)
    assert (survey.title, survey.translations) == ("Community needs", {"fr": "Besoins"})
    assert [q.text for q in await questions(harness, survey.id or 0)] == [
        "How many children?",
        "An idea for us?",
    ]

"""Survey rules against a real database: building, answering every kind, resume, anonymity,
closing, native polls, results, CSV, reminders and concurrent answering."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import surveys as service
from bot.services.surveys import SurveyError
from storage.db import create_session_factory
from storage.models import (
    Member,
    Membership,
    Organization,
    OutboxMessage,
    PollVote,
    QuestionKind,
    ResponseStatus,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)
from tests.helpers import organization

NOW = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
CLOSES = NOW + timedelta(days=3)


async def add_members(
    session: AsyncSession,
    org: Organization,
    count: int,
    *,
    first_tg: int = 1000,
    language: str = "en",
    country: str | None = None,
) -> list[Member]:
    members = [
        Member(
            telegram_id=first_tg + i,
            display_name=f"P{first_tg + i}",
            language=language,
            residence_country=country,
            consent_at=NOW,
        )
        for i in range(count)
    ]
    session.add_all(members)
    await session.flush()
    session.add_all(Membership(organization_id=org.id or 0, member_id=m.id or 0) for m in members)
    await session.commit()
    return members


async def six_questions(session: AsyncSession, org: Organization, **fields: Any) -> Survey:
    survey = await service.create_survey(
        session, org.id or 0, "Community needs", NOW, language="en", closes_at=CLOSES, **fields
    )
    fr = {"fr": {"text": "Ville ?", "options": ["Paris", "Lyon", "Autre"]}}
    await service.add_question(
        session, survey, "single", "City?", options=["Paris", "Lyon", "Other"], translations=fr
    )
    await service.add_question(
        session, survey, "multiple", "Interests?", options=["Jobs", "Culture", "Language"]
    )
    await service.add_question(session, survey, "rating", "Satisfaction?", min_value=0, max_value=10)
    await service.add_question(session, survey, "number", "Years abroad?", min_value=0, max_value=80)
    await service.add_question(session, survey, "text", "Ideas?", max_length=50, optional=True)
    await service.add_question(session, survey, "yes_no", "Volunteer?")
    await session.commit()
    return survey


async def survey_open_to(session: AsyncSession, count: int, **fields: Any) -> tuple[Survey, list[Member]]:
    """Given `count` members of a French-speaking organization, and the six-question survey open to
    them: the survey, and the members."""
    org = await organization(session, "fr")
    members = await add_members(session, org, count)
    survey = await six_questions(session, org, **fields)
    await service.open_survey(session, survey, org, NOW)
    await session.commit()
    return survey, members


ANSWERS: list[Any] = [1, [2, 0], "8", "3,5", '=HYPERLINK("x")', "yes"]
STORED: list[Any] = [1, [0, 2], 8, 3.5, '=HYPERLINK("x")', True]


async def answer_all(
    session: AsyncSession, survey: Survey, member: Member, answers: list[Any] = ANSWERS
) -> SurveyResponse:
    response, question = await service.start_or_resume(session, survey, member, NOW)
    for raw in answers:
        assert question is not None
        question = await service.answer(session, response, question, raw, NOW)
    assert question is None
    await service.submit(session, response, NOW)
    await session.commit()
    return response


async def undo(session: AsyncSession, *objects: Any) -> None:
    """Roll back a refused operation (as the unit of work does) and reload what the test holds."""
    await session.rollback()
    for item in objects:
        for one in item if isinstance(item, list) else [item]:
            await session.refresh(one)


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int((await session.exec(select(func.count()).select_from(model).where(*where))).one())


# -- a full survey ---------------------------------------------------------------------------------


async def test_six_questions_every_kind_resumed_after_restart_and_submitted(engine: AsyncEngine) -> None:
    factory = create_session_factory(engine)
    async with factory() as session:
        org = await organization(session, "fr")
        (alice,) = await add_members(session, org, 1, language="fr")
        await add_members(session, org, 2, first_tg=2000, language="en")
        survey = await six_questions(session, org)
        assert await service.open_survey(session, survey, org, NOW) == 3
        await session.commit()
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.chat_id)))).all()
        assert [(r.kind, r.ref_id, r.language) for r in rows] == [("survey", survey.id, "en")] * 3
        # the survey title has no French version: everyone gets the original
        response, question = await service.start_or_resume(session, survey, alice, NOW)
        assert question is not None and question.position == 0
        assert service.question_text(question, "fr") == ("Ville ?", ["Paris", "Lyon", "Autre"])
        for raw in ANSWERS[:3]:
            question = await service.answer(session, response, question, raw, NOW)  # type: ignore[arg-type]
        await session.commit()

    async with factory() as session:  # the bot restarted
        survey = await service.get_survey(session, survey.id or 0)
        alice = (await session.exec(select(Member).where(Member.id == alice.id))).one()
        response, question = await service.start_or_resume(session, survey, alice, NOW)
        assert question is not None and question.kind == QuestionKind.NUMBER and response.position == 3
        question = await service.back(session, response, NOW)
        assert question.kind == QuestionKind.RATING
        question = await service.answer(session, response, question, 8, NOW)
        for raw in ANSWERS[3:]:
            assert question is not None
            question = await service.answer(session, response, question, raw, NOW)
        assert question is None
        first = await service.submit(session, response, NOW)
        await session.commit()
        questions = await service.questions_of(session, survey.id or 0)
        assert not first.already
        assert first.answers == {q.id: value for q, value in zip(questions, STORED, strict=True)}

        again = await service.submit(session, response, NOW)
        assert again.already and again.answers == first.answers
        with pytest.raises(SurveyError) as error:
            await service.start_or_resume(session, survey, alice, NOW)
        assert error.value.reason == "submitted"
        assert await service.submitted_answers(session, survey, alice) == first.answers
        assert await service.open_surveys_for(session, alice, NOW) == []
        # a submitted answer cannot be changed
        with pytest.raises(SurveyError) as error:
            await service.answer(session, response, questions[0], 0, NOW)
        assert error.value.reason == "submitted"
        await undo(session, response, survey, alice, questions)
        assert await count(session, SurveyAnswer) == 6


async def test_skipping_an_optional_question_and_incomplete_submit(session: AsyncSession) -> None:
    survey, (member,) = await survey_open_to(session, 1)
    response, question = await service.start_or_resume(session, survey, member, NOW)
    await session.commit()
    with pytest.raises(SurveyError) as error:
        await service.submit(session, response, NOW)
    assert error.value.reason == "incomplete"
    await undo(session, response, question)
    for raw in [0, [1], 5, 2, None, False]:  # None: skip the optional text question
        question = await service.answer(session, response, question, raw, NOW)  # type: ignore[arg-type]
    result = await service.submit(session, response, NOW)
    await session.commit()
    assert len(result.answers) == 5 and False in result.answers.values()


# -- validation ----------------------------------------------------------------------------------


def q(kind: str, **fields: Any) -> SurveyQuestion:
    cleaned = service.validate_question(kind, "Question?", **fields)
    return SurveyQuestion(id=1, survey_id=1, position=0, **cleaned)


BAD_ANSWERS: list[tuple[SurveyQuestion, Any, str]] = [
    (q("single", options=["a", "b"]), 2, "bad_option"),
    (q("single", options=["a", "b"]), "-1", "bad_option"),
    (q("single", options=["a", "b"]), [0, 1], "choose_one"),
    (q("single", options=["a", "b"]), "x", "bad_option"),
    (q("single", options=["a", "b"]), None, "required"),
    (q("multiple", options=["a", "b"]), [0, 5], "bad_option"),
    (q("multiple", options=["a", "b"]), [], "required"),
    (q("rating"), 6, "out_of_range"),
    (q("rating"), 0, "out_of_range"),
    (q("rating", min_value=0, max_value=10), 11, "out_of_range"),
    (q("rating"), 2.5, "not_whole"),
    (q("number", min_value=0, max_value=120), "121", "out_of_range"),
    (q("number", min_value=0, max_value=120), "-1", "out_of_range"),
    (q("number"), "abc", "not_a_number"),
    (q("number"), "nan", "not_a_number"),
    (q("number"), "1e400", "not_a_number"),
    (q("number"), True, "not_a_number"),
    (q("text", max_length=10), "x" * 11, "text_too_long"),
    (q("text", max_length=10), "🎉" * 6, "text_too_long"),  # Telegram counts an emoji as two
    (q("text"), "\u200b\u200e", "text_empty"),
    (q("text"), "   ", "required"),
    (q("yes_no"), "maybe", "not_yes_no"),
]


@pytest.mark.parametrize(("question", "raw", "reason"), BAD_ANSWERS)
def test_bad_answers_are_refused(question: SurveyQuestion, raw: Any, reason: str) -> None:
    with pytest.raises(SurveyError) as error:
        service.clean_answer(question, raw)
    assert error.value.reason == reason


def test_good_answers_are_normalized() -> None:
    assert service.clean_answer(q("single", options=["a", "b"]), "1") == 1
    assert service.clean_answer(q("multiple", options=["a", "b", "c"]), {2, 0}) == [0, 2]
    assert service.clean_answer(q("rating", min_value=0, max_value=10), "0") == 0
    assert service.clean_answer(q("number", min_value=-5, max_value=5), " -2,5 ") == -2.5
    assert service.clean_answer(q("number"), "1 200") == 1200
    assert service.clean_answer(q("text"), "  Salut\nà tous ") == "Salut\nà tous"
    assert service.clean_answer(q("yes_no"), "Да") is True
    assert service.clean_answer(q("yes_no"), False) is False


BAD_QUESTIONS: list[tuple[str, dict[str, Any], str]] = [
    ("single", {"options": ["only one"]}, "options_count"),
    ("single", {"options": [str(i) for i in range(13)]}, "options_count"),
    ("single", {"options": ["a", "x" * 101]}, "option_too_long"),
    ("single", {"options": ["a", "A"]}, "options_duplicate"),
    ("multiple", {"options": ["a", " "]}, "option_empty"),
    ("rating", {"min_value": 1, "max_value": 10}, "bad_scale"),
    ("rating", {"min_value": 2, "max_value": 5}, "bad_scale"),
    ("number", {"min_value": 5, "max_value": 1}, "bad_bounds"),
    ("text", {"max_length": 1001}, "bad_max_length"),
    ("text", {"max_length": 0}, "bad_max_length"),
    ("dropdown", {}, "bad_kind"),
    ("yes_no", {"options": ["a", "b"]}, "bad_kind"),
    (
        "single",
        {"options": ["a", "b"], "translations": {"fr": {"text": "Q", "options": ["a"]}}},
        "options_count",
    ),
]


@pytest.mark.parametrize(("kind", "fields", "reason"), BAD_QUESTIONS)
def test_bad_questions_are_refused(kind: str, fields: dict[str, Any], reason: str) -> None:
    with pytest.raises(SurveyError) as error:
        service.validate_question(kind, "Question?", **fields)
    assert error.value.reason == reason


def test_question_text_limit() -> None:
    service.validate_question("yes_no", "x" * 300)
    with pytest.raises(SurveyError) as error:
        service.validate_question("yes_no", "x" * 301)
    assert error.value.reason == "question_too_long"


async def test_building_rules(session: AsyncSession) -> None:
    org = await organization(session, "fr")
    with pytest.raises(SurveyError) as error:
        await service.create_survey(session, org.id or 0, "T", NOW, closes_at=NOW - timedelta(hours=1))
    assert error.value.reason == "bad_times"
    poll = await service.create_survey(session, org.id or 0, "Poll", NOW, native_poll=True)
    with pytest.raises(SurveyError) as error:
        await service.add_question(session, poll, "text", "Why?")
    assert error.value.reason == "not_a_poll"
    await service.add_question(session, poll, "single", "Which?", options=["a", "b"])
    with pytest.raises(SurveyError) as error:
        await service.add_question(session, poll, "single", "Another?", options=["a", "b"])
    assert error.value.reason == "too_many_questions"
    empty = await service.create_survey(session, org.id or 0, "Empty", NOW)
    with pytest.raises(SurveyError) as error:
        await service.open_survey(session, empty, org, NOW)
    assert error.value.reason == "no_questions"


# -- anonymity, closing, stale buttons -----------------------------------------------------------


async def test_anonymous_survey_stores_no_link_between_member_and_answers(session: AsyncSession) -> None:
    survey, members = await survey_open_to(session, 3, anonymous=True)
    for member in members[:2]:
        await answer_all(session, survey, member)
    # the third stops halfway: their token links them to partial answers until the survey closes
    response, question = await service.start_or_resume(session, survey, members[2], NOW)
    await service.answer(session, response, question, 0, NOW)  # type: ignore[arg-type]
    await session.commit()
    resumed, _ = await service.start_or_resume(session, survey, members[2], NOW)
    assert resumed.id == response.id

    responses = (await session.exec(select(SurveyResponse))).all()
    assert len(responses) == 3
    assert all(r.member_id is None and r.started_at is None for r in responses)
    submitted = [r for r in responses if r.status == ResponseStatus.SUBMITTED]
    assert all(r.submitted_at == NOW.replace(hour=0) for r in submitted)
    ids = {str(m.id) for m in members} | {str(m.telegram_id) for m in members}
    assert not any(r.respondent_key in ids or r.respondent_key.startswith("m") for r in responses)
    participations = (await session.exec(select(SurveyParticipation))).all()
    tokens = {p.member_id: p.progress_token for p in participations}
    assert tokens == {members[0].id: None, members[1].id: None, members[2].id: response.respondent_key}
    assert sorted(p.submitted for p in participations) == [False, True, True]
    # nothing in the answers table points at a member either
    columns = (await session.exec(text("SELECT * FROM survey_answers"))).keys()  # type: ignore[call-overload]
    assert "member_id" not in set(columns)
    with pytest.raises(SurveyError) as error:
        await service.results(session, survey, breakdown="language")
    assert error.value.reason == "anonymous"

    await service.close_survey(session, survey, NOW + timedelta(hours=1))
    await session.commit()
    fresh = select(SurveyParticipation).execution_options(populate_existing=True)
    assert all(p.progress_token is None for p in (await session.exec(fresh)).all())
    csv_text = (await service.export_csv(session, survey)).decode("utf-8-sig")
    assert "member_id" not in csv_text.splitlines()[0]
    assert all(f"P{m.telegram_id}" not in csv_text for m in members)


async def test_late_stale_and_forged_answers_are_refused(session: AsyncSession) -> None:
    org = await organization(session, "fr")
    member, other = await add_members(session, org, 2)
    survey = await six_questions(session, org)
    second = await six_questions(session, org)
    await service.open_survey(session, survey, org, NOW)
    await service.open_survey(session, second, org, NOW)
    await session.commit()
    response, _ = await service.start_or_resume(session, survey, member, NOW)
    await session.commit()
    foreign = (await service.questions_of(session, second.id or 0))[0]
    questions = await service.questions_of(session, survey.id or 0)
    for forged in (foreign, questions[3]):  # another survey's question, a question not yet reached
        with pytest.raises(SurveyError) as error:
            await service.answer(session, response, forged, 0, NOW)
        assert error.value.reason == "stale_question"
        await undo(session, response, survey, foreign, questions, member, other)
    await service.answer(session, response, questions[0], 0, NOW)
    await session.commit()
    with pytest.raises(SurveyError) as error:  # the old button of question 1
        await service.answer(session, response, questions[0], 1, NOW)
    assert error.value.reason == "stale_question"
    await undo(session, response, survey, questions, member, other)
    assert await service.answers_of(session, response.id or 0) == {questions[0].id: 0}

    with pytest.raises(SurveyError) as error:  # after the closing time, even before the job ran
        await service.answer(session, response, questions[1], [0], CLOSES)
    assert error.value.reason == "closed"
    await undo(session, response, survey, questions, member, other)
    await service.close_survey(session, survey, NOW + timedelta(hours=2))
    await session.commit()
    later = NOW + timedelta(hours=3)
    for call in (
        lambda: service.answer(session, response, questions[1], [0], later),
        lambda: service.submit(session, response, later),
        lambda: service.start_or_resume(session, survey, other, later),
    ):
        with pytest.raises(SurveyError) as error:
            await call()
        assert error.value.reason == "closed"
        await undo(session, response, survey, questions, member, other)
    assert await count(session, SurveyAnswer, col(SurveyAnswer.response_id) == response.id) == 1


async def test_close_extend_duplicate(session: AsyncSession) -> None:
    org = await organization(session, "fr")
    await add_members(session, org, 2)
    survey = await six_questions(session, org)
    await service.open_survey(session, survey, org, NOW)
    assert survey.remind_at == CLOSES - timedelta(days=1)
    await service.extend(session, survey, CLOSES + timedelta(days=1), NOW)
    assert survey.remind_at == CLOSES
    with pytest.raises(SurveyError) as error:
        await service.extend(session, survey, CLOSES, NOW)
    assert error.value.reason == "bad_times"
    await service.close_survey(session, survey, NOW)
    await session.commit()
    cancelled = await count(
        session, OutboxMessage, OutboxMessage.kind == "survey", OutboxMessage.status == "cancelled"
    )
    assert cancelled == 2
    copy = await service.duplicate(session, survey, NOW)
    await session.commit()
    assert copy.status == "draft" and copy.id != survey.id and copy.closes_at is None
    original = await service.questions_of(session, survey.id or 0)
    copied = await service.questions_of(session, copy.id or 0)
    assert [(x.kind, x.text, x.options, x.translations) for x in copied] == [
        (x.kind, x.text, x.options, x.translations) for x in original
    ]


# -- native polls ----------------------------------------------------------------------------------


async def test_native_poll_votes_from_many_copies_merge_and_a_changed_vote_replaces(
    session: AsyncSession,
) -> None:
    org = await organization(session, "fr")
    members = await add_members(session, org, 4)
    poll = await service.create_survey(
        session, org.id or 0, "Picnic day?", NOW, closes_at=CLOSES, native_poll=True
    )
    await service.add_question(session, poll, "multiple", "Picnic day?", options=["Sat", "Sun", "Mon"])
    assert await service.open_survey(session, poll, org, NOW) == 4
    payloads = (await session.exec(select(OutboxMessage.payload))).all()
    assert all(p["native_poll"] and p["question_id"] for p in payloads)
    for index, member in enumerate(members):
        await service.record_poll_delivery(session, poll, f"poll-{index}", member.telegram_id or 0)
    await session.commit()
    votes = [(0, [0]), (1, [0, 1]), (2, [1]), (3, [2])]
    for index, options in votes:
        assert await service.record_poll_vote(session, f"poll-{index}", members[index].id or 0, options, NOW)
    await service.record_poll_vote(session, "poll-2", members[2].id or 0, [0], NOW)  # changed their mind
    await service.record_poll_vote(session, "poll-3", members[3].id or 0, [], NOW)  # withdrew
    await session.commit()
    assert await count(session, PollVote) == 3
    result = await service.results(session, poll)
    (question,) = result.questions
    assert result.respondents == 3
    assert question.counts == [3, 1, 0]
    assert question.percentages == [100.0, 33.3, 0.0]
    with pytest.raises(SurveyError) as error:
        await service.record_poll_vote(session, "poll-0", members[0].id or 0, [7], NOW)
    assert error.value.reason == "bad_option"
    await undo(session, poll, members)
    with pytest.raises(SurveyError) as error:
        await service.record_poll_vote(session, "unknown", members[0].id or 0, [0], NOW)
    assert error.value.reason == "not_found"
    await service.close_survey(session, poll, NOW)
    await session.commit()
    assert not await service.record_poll_vote(session, "poll-0", members[0].id or 0, [1], NOW)


async def test_anonymous_native_poll_sums_the_copies(session: AsyncSession) -> None:
    org = await organization(session, "fr")
    await add_members(session, org, 2)
    poll = await service.create_survey(
        session, org.id or 0, "Q", NOW, closes_at=CLOSES, native_poll=True, anonymous=True
    )
    await service.add_question(session, poll, "single", "Which?", options=["A", "B"])
    await service.open_survey(session, poll, org, NOW)
    assert poll.remind_at is None  # nobody can be told apart: no reminder
    for chat in (1, 2):
        await service.record_poll_delivery(session, poll, f"p{chat}", chat)
    await service.record_poll_counts(session, "p1", [1, 0], 1)
    await service.record_poll_counts(session, "p1", [0, 1], 1)  # a copy's latest totals replace
    await service.record_poll_counts(session, "p2", [1, 0], 1)
    await session.commit()
    result = await service.results(session, poll)
    assert result.respondents == 2 and result.questions[0].counts == [1, 1]


# -- results, CSV, reminders -----------------------------------------------------------------------


async def test_results_percentages_and_small_group_suppression(session: AsyncSession) -> None:
    org = await organization(session, "fr")
    french = await add_members(session, org, 5, first_tg=1000, country="FR")
    german = await add_members(session, org, 2, first_tg=2000, country="DE")
    survey = await six_questions(session, org)
    await service.open_survey(session, survey, org, NOW)
    await session.commit()
    for i, member in enumerate(french + german):
        await answer_all(
            session, survey, member, [i % 2, [0], str(i), 10, f"idea {i}" if i < 3 else None, i < 4]
        )
    result = await service.results(session, survey, language="fr")
    city, interests, rating, years, ideas, volunteer = result.questions
    assert result.respondents == 7
    assert city.text == "Ville ?" and city.labels == ["Paris", "Lyon", "Autre"]
    assert city.counts == [4, 3, 0] and city.percentages == [57.1, 42.9, 0.0]
    assert interests.counts == [7, 0, 0]
    assert rating.counts[:7] == [1] * 7 and rating.average == 3.0 and len(rating.labels) == 11
    assert years.average == 10.0
    assert ideas.answered == 3 and sorted(ideas.texts) == ["idea 0", "idea 1", "idea 2"]
    assert volunteer.counts == [4, 3]
    text_question = (await service.questions_of(session, survey.id or 0))[4]
    page, total = await service.text_answers(session, text_question, 0, 10)
    assert total == 3 and sorted(page) == ["idea 0", "idea 1", "idea 2"]
    assert len((await service.text_answers(session, text_question, 2, 10))[0]) == 1

    # Germany (2) is under the threshold; France (5) is hidden too, or the overall results minus
    # France's would be the two Germans' answers.
    by_country = await service.results(session, survey, breakdown="residence_country")
    assert by_country.groups == {}
    assert by_country.suppressed_groups == 2 and by_country.suppressed_respondents == 7
    assert by_country.other is not None and by_country.other.respondents == 7  # all, together
    spain = await add_members(session, org, 3, first_tg=3000, country="ES")
    for i, member in enumerate(spain):
        await answer_all(session, survey, member, [0, [1], str(i), 5, None, True])
    # Germany and Spain (2 + 3) are hidden together: what they add up to is a group of 5.
    by_country = await service.results(session, survey, breakdown="residence_country")
    assert set(by_country.groups) == {"FR"}
    assert by_country.suppressed_groups == 2 and by_country.suppressed_respondents == 5
    fr = by_country.groups["FR"]
    assert fr.respondents == 5 and fr.questions[0].counts == [3, 2, 0] and fr.questions[4].texts == []
    other = by_country.other  # Germany and Spain shown together: the overall results minus France's
    assert other is not None and other.respondents == 5 and other.questions[4].texts == []
    assert other.questions[0].counts == [1 + 3, 1, 0]  # Germany's Paris and Lyon, Spain's three Paris
    assert set(
        (await service.results(session, survey, breakdown="residence_country", min_group=2)).groups
    ) == {"FR", "DE", "ES"}


async def test_csv_matches_the_answers(session: AsyncSession) -> None:
    survey, members = await survey_open_to(session, 2)
    await answer_all(session, survey, members[0])
    await answer_all(session, survey, members[1], [2, [1], 0, 12, None, "no"])
    rows = list(csv.reader(io.StringIO((await service.export_csv(session, survey)).decode("utf-8-sig"))))
    assert rows[0][:4] == ["response", "member_id", "name", "submitted_at"]
    assert rows[0][4:] == [
        "Q1. City?",
        "Q2. Interests?",
        "Q3. Satisfaction?",
        "Q4. Years abroad?",
        "Q5. Ideas?",
        "Q6. Volunteer?",
    ]
    assert len(rows) == 3
    by_member = {row[1]: row for row in rows[1:]}
    first, second = by_member[str(members[0].id)], by_member[str(members[1].id)]
    assert first[2] == f"P{members[0].telegram_id}"
    assert first[4:] == ["Lyon", "Jobs; Language", "8", "3.5", '\'=HYPERLINK("x")', "yes"]
    assert second[4:] == ["Other", "Culture", "0", "12", "", "no"]


async def test_reminder_once_to_those_who_have_not_submitted(session: AsyncSession) -> None:
    survey, members = await survey_open_to(session, 3, reminder_before_minutes=60)
    await answer_all(session, survey, members[0])
    await service.start_or_resume(session, survey, members[1], NOW)  # halfway: reminded
    await session.commit()
    assert await service.due_survey_reminders(session, CLOSES - timedelta(minutes=61)) == 0
    assert await service.due_survey_reminders(session, CLOSES - timedelta(minutes=59)) == 2
    await session.commit()
    assert await service.due_survey_reminders(session, CLOSES - timedelta(minutes=30)) == 0
    await service.extend(session, survey, CLOSES + timedelta(days=2), NOW)  # reminded once only
    assert await service.due_survey_reminders(session, CLOSES + timedelta(days=2, minutes=-30)) == 0
    await session.commit()
    reminded = (
        await session.exec(select(OutboxMessage.member_id).where(OutboxMessage.kind == "survey_reminder"))
    ).all()
    assert sorted(reminded) == sorted([members[1].id, members[2].id])


# -- concurrency -----------------------------------------------------------------------------------


async def test_fifty_members_answering_at_once_lose_nothing(engine: AsyncEngine) -> None:
    factory = create_session_factory(engine)
    async with factory() as session:
        org = await organization(session, "fr")
        members = await add_members(session, org, 50)
        survey = await six_questions(session, org, anonymous=True)
        await service.open_survey(session, survey, org, NOW)
        await session.commit()

    async def respond(member: Member, index: int) -> None:
        answers = [index % 3, [index % 3], index % 11, index % 80, f"t{index}", index % 2 == 0]
        async with factory() as session:
            response, question = await service.start_or_resume(session, survey, member, NOW)
            await session.commit()
            for raw in answers:
                assert question is not None
                question = await service.answer(session, response, question, raw, NOW)
                await session.commit()
            await service.submit(session, response, NOW)
            await session.commit()

    async def double_tap(member: Member) -> None:  # the same member's second device, at once
        async with factory() as session:
            try:
                await service.start_or_resume(session, survey, member, NOW)
                await session.commit()
            except SurveyError:
                await session.rollback()

    await asyncio.gather(*(respond(m, i) for i, m in enumerate(members)), double_tap(members[0]))
    async with factory() as session:
        assert await count(session, SurveyResponse, SurveyResponse.status == ResponseStatus.SUBMITTED) == 50
        assert await count(session, SurveyResponse) == 50
        assert await count(session, SurveyAnswer) == 300
        result = await service.results(session, survey)
        assert result.respondents == 50 and result.questions[0].counts == [17, 17, 16]


async def test_a_poll_copy_sent_while_closing_is_stopped_and_every_sent_copy_gets_a_stop(
    session: AsyncSession,
) -> None:
    org = await organization(session, "fr")
    members = await add_members(session, org, 3)
    poll = await service.create_survey(session, org.id or 0, "Day?", NOW, closes_at=CLOSES, native_poll=True)
    await service.add_question(session, poll, "single", "Day?", options=["Sat", "Sun"])
    await service.open_survey(session, poll, org, NOW)
    await session.commit()
    rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    # The first copy went out before the close; the second is in flight; the third never left.
    await service.poll_sent(session, rows[0].id or 0, poll.id or 0, rows[0].chat_id, 11, "p-0", NOW)
    await session.commit()
    await (await session.connection()).execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == rows[1].id).values(status="sending")
    )
    await service.close_survey(session, await service.get_survey(session, poll.id or 0), NOW)
    await session.commit()
    await service.poll_sent(session, rows[1].id or 0, poll.id or 0, rows[1].chat_id, 12, "p-1", NOW)
    await session.commit()
    stops = (
        await session.exec(select(OutboxMessage).where(OutboxMessage.kind == service.POLL_STOP_KIND))
    ).all()
    assert sorted((row.chat_id, row.payload["message_id"]) for row in stops) == [
        (members[0].telegram_id, 11),
        (members[1].telegram_id, 12),
    ]
    await session.refresh(rows[2])
    assert rows[2].status == "cancelled"  # never left: cancelled, nothing to stop


async def test_forgetting_erases_attributed_answers_and_unsubmitted_anonymous_ones(
    session: AsyncSession,
) -> None:
    org = await organization(session, "fr")
    member, other = await add_members(session, org, 2)
    attributed = await six_questions(session, org)
    anonymous = await six_questions(session, org, anonymous=True)
    for survey in (attributed, anonymous):
        await service.open_survey(session, survey, org, NOW)
    for who, survey in ((member, attributed), (member, anonymous), (other, anonymous)):
        response, question = await service.start_or_resume(session, survey, who, NOW)
        assert question is not None
        await service.answer(session, response, question, 0, NOW)
    await session.commit()
    exported = await service.member_survey_data(session, member.id or 0)
    assert [entry["status"] for entry in exported["survey_answers"]] == ["in_progress"]
    assert exported["anonymous_surveys"] == [{"survey": "Community needs", "submitted": False}]
    await service.erase_member_surveys(session, member.id or 0)
    await session.commit()
    responses = (await session.exec(select(SurveyResponse))).all()
    assert len(responses) == 1 and responses[0].survey_id == anonymous.id  # the other member's
    assert await count(session, SurveyAnswer) == 1
    assert [p.member_id for p in (await session.exec(select(SurveyParticipation))).all()] == [other.id]


async def test_no_reminder_with_or_before_the_invitation(session: AsyncSession) -> None:
    """A survey open for less than its reminder's lead time gets no reminder: it would arrive right
    after the invitation (or, for a survey opening later, before it)."""
    org = await organization(session, "fr")
    await add_members(session, org, 2)
    short = await service.create_survey(
        session, org.id or 0, "Short", NOW, closes_at=NOW + timedelta(hours=10), reminder_before_minutes=1440
    )
    await service.add_question(session, short, "yes_no", "Coming?")
    await service.open_survey(session, short, org, NOW)
    later = await service.create_survey(
        session,
        org.id or 0,
        "Later",
        NOW,
        opens_at=NOW + timedelta(days=2),
        closes_at=NOW + timedelta(days=2, hours=12),
        reminder_before_minutes=1440,
    )
    await service.add_question(session, later, "yes_no", "Coming?")
    await service.open_survey(session, later, org, NOW)
    await session.commit()
    assert (short.remind_at, later.remind_at) == (None, None)
    assert await service.due_survey_reminders(session, NOW + timedelta(minutes=1)) == 0
    assert await service.due_survey_reminders(session, NOW + timedelta(days=2, hours=1)) == 0
    # Extended far enough, the reminder comes back (24 hours before the new closing time).
    await service.extend(session, short, NOW + timedelta(days=3), NOW)
    assert short.remind_at == NOW + timedelta(days=2)


async def test_publishing_twice_at_once_invites_once(engine: AsyncEngine) -> None:
    """Two Publish taps handled side by side: both read the draft, only the first opens it."""
    factory = create_session_factory(engine)
    async with factory() as session:
        org = await organization(session, "fr")
        await add_members(session, org, 3)
        survey = await six_questions(session, org)
        await session.commit()
        survey_id = survey.id or 0
    async with factory() as first, factory() as second:
        mine = await first.get(Survey, survey_id)
        theirs = await second.get(Survey, survey_id)
        first_org = await first.get(Organization, org.id)
        second_org = await second.get(Organization, org.id)
        assert mine and theirs and first_org and second_org
        assert mine.status == theirs.status == "draft"
        assert await service.open_survey(first, mine, first_org, NOW) == 3
        await first.commit()
        with pytest.raises(SurveyError) as error:
            await service.open_survey(second, theirs, second_org, NOW)
        assert error.value.reason == "not_editable"
        await second.rollback()
    async with factory() as session:
        assert await count(session, OutboxMessage, col(OutboxMessage.kind) == service.KIND) == 3

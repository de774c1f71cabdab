"""Surveys at Telegram's limits and under forged input, through the emulator (which refuses a message
over 4096 characters, as TDLib counts them; the bot measures in UTF-16 units, stricter still): long multiple-choice answers in the member's review,
written answers made of emoji in the coordinator's list, results of many long options split into
messages that each fit, and buttons of a survey the member never started."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import select

from bot.services import surveys as service
from bot.services.events import telegram_length
from bot.views.surveys import SurveyAction
from handlers.surveys.callbacks import SurveyDialog, SurveyManage
from storage.db import create_session_factory
from storage.models import Member
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import opened_survey
from tests.e2e.test_survey_admin import (
    ANSWERS,
    attributed_survey,
    invited,
    make_coordinator,
    respond,
    written_answers_per_page,
)
from tests.e2e.test_surveys_member import make_survey, member_invited, stored

MESSAGE_MAX = 4096


def emoji_options(count: int, prefix: str) -> list[str]:
    """`count` options of exactly 100 UTF-16 code units each (an emoji counts two)."""
    return [f"{prefix}{index:02d}" + "🌍" * ((100 - len(prefix) - 2) // 2) for index in range(count)]


async def long_choice_survey(harness: Harness, kind: str, questions: int) -> int:
    """An attributed survey of `questions` questions of `kind` with 12 options of 100 code units."""
    survey = await opened_survey(
        harness,
        "Long",
        [(kind, f"Question {n}?", {"options": emoji_options(12, f"Q{n}")}) for n in range(questions)],
    )
    return survey.id or 0


async def test_forged_buttons_of_a_survey_never_started_store_nothing(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    amina, survey, invitation = await member_invited(harness, registered, "Amina", "fr")
    async with create_session_factory(harness.app.engine)() as session:
        first = (await service.questions_of(session, survey.id or 0))[0]
    for forged in (
        {"action": "answer", "question": first.id, "value": 0},
        {"action": "submit"},
        {"action": "back", "question": first.id},
        {"action": "skip", "question": first.id},
    ):
        data = SurveyAction(survey=survey.id or 0, **forged).pack()
        assert await harness.forge(amina, invitation, data) == harness.t(
            "This button is no longer active.", "fr"
        )
    assert await stored(harness, survey) == (0, 0)  # not even an empty response
    listing = await harness.send(amina, "/surveys")
    assert buttons(listing) == [harness.t("▶️ Start: {title}", "fr", title="Besoins de la communauté")]


async def test_review_of_long_multiple_choice_answers_shows_every_question(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    kofi = await registered("Kofi", "en")
    survey_id = await long_choice_survey(harness, "multiple", 4)
    invitation = await harness.reply(kofi)
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == kofi.id))).one()
        survey = await service.get_survey(session, survey_id)
        response, question = await service.start_or_resume(session, survey, member, utcnow())
        while question is not None:  # every option of every question ticked
            question = await service.answer(session, response, question, list(range(12)), utcnow())
        await session.commit()
    review = await harness.choose(kofi, invitation, harness.t("▶️ Start", "en"))
    assert buttons(review) == [harness.t("✅ Submit", "en"), harness.t("◀ Back", "en")]
    assert telegram_length(review["text"]) <= MESSAGE_MAX
    answers = [line for line in review["text"].splitlines() if line.lstrip().startswith("→")]
    assert len(answers) == 4 and all(line.strip().startswith("→ Q") for line in answers)


async def test_written_answers_of_emoji_fit_one_page(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "en")
    people = [await registered(f"P{n}", "en") for n in range(8)]
    survey_id = (await opened_survey(harness, "Ideas", [("text", "Your idea?", {})])).id or 0
    await invited(harness, coordinator, *people)
    answer = "🎉" * 500  # 1000 code units: the longest written answer allowed
    for person in people:
        await respond(harness, person, survey_id, [answer])
    listing = await harness.send(coordinator, "/results")
    summary = await harness.choose(coordinator, listing, f"#{survey_id} Ideas")
    page = await harness.choose(coordinator, summary, harness.t("📝 Answers to {number}", "en", number=1))
    assert harness.t("Answers {first}–{last} of {total}", "en", first=1, last=8, total=8) in page["text"]
    shown = [line for line in page["text"].splitlines() if line.startswith("• ")]
    assert len(shown) == 8 and all(line.endswith("…") and "🎉" in line for line in shown)
    assert telegram_length(page["text"]) <= MESSAGE_MAX


async def test_results_of_many_long_options_are_split_into_messages_that_fit(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    coordinator = await make_coordinator(harness, registered, "en")
    survey_id = await long_choice_survey(harness, "single", 3)
    await invited(harness, coordinator)
    listing = await harness.send(coordinator, "/results")
    # Answered once the results and their three charts are drawn and sent: seconds each, far more
    # on a busy machine (this bound only guards against a hang).
    await harness.press(coordinator, listing, f"#{survey_id} Long", timeout=120)
    messages: list[dict[str, Any]] = []
    while not messages or not buttons(messages[-1]):  # the buttons come under the last part
        messages.append(await harness.reply(coordinator))
    assert len(messages) >= 2 and all(telegram_length(m["text"]) <= MESSAGE_MAX for m in messages)
    options = [line for m in messages for line in m["text"].splitlines() if line.startswith("• Q")]
    assert len(options) == 36
    for _ in range(3):
        assert "photo" in await harness.reply(coordinator, timeout=30)


async def test_a_double_tap_on_a_multiple_choice_option_is_answered_quietly(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    """Both taps carry the same selection: the second finds the keyboard already showing it (Telegram
    refuses an edit that changes nothing). The tap is answered; no apology, nothing stored."""
    amina, survey, invitation = await member_invited(harness, registered, "Amina", "en")
    first = await harness.choose(amina, invitation, harness.t("▶️ Start", "en"))
    await harness.press(amina, first, "Paris")
    second = await harness.edited(amina, first)
    assert "2/6" in second["text"]
    async with create_session_factory(harness.app.engine)() as session:
        question = (await service.questions_of(session, survey.id or 0))[1]
    data = SurveyAction(action="toggle", survey=survey.id or 0, question=question.id or 0, value=1).pack()
    for _ in range(2):
        await harness.forge(amina, second, data)
    assert buttons(harness.message(amina, second["message_id"]))[:3] == ["☑️ Jobs", "⬜ Housing", "⬜ Culture"]
    await asyncio.sleep(1)
    assert not harness.apologized(amina)
    assert await stored(harness, survey) == (1, 1)


async def test_double_taps_on_the_coordinators_page_buttons_are_answered_quietly(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    written_answers_per_page(monkeypatch, 2)
    coordinator = await make_coordinator(harness, registered, "en")
    people = [await registered(f"P{n}", "en") for n in range(3)]
    survey_id = (await opened_survey(harness, "Ideas", [("text", "Your idea?", {})])).id or 0
    async with create_session_factory(harness.app.engine)() as session:
        (question,) = await service.questions_of(session, survey_id)
    question_id = question.id or 0
    await invited(harness, coordinator, *people)
    for number, person in enumerate(people):
        await respond(harness, person, survey_id, [f"idea {number}"])
    listing = await harness.send(coordinator, "/results")
    summary = await harness.choose(coordinator, listing, f"#{survey_id} Ideas")
    page = await harness.choose(coordinator, summary, harness.t("📝 Answers to {number}", "en", number=1))
    for data in (
        SurveyManage(action="texts", id=survey_id, question=question_id, page=2).pack(),
        SurveyManage(action="page", id=0).pack(),
    ):
        target = page if data.startswith("svr:texts") else listing
        for _ in range(2):
            await harness.forge(coordinator, target, data)
    last_page = harness.t("Answers {first}–{last} of {total}", "en", first=3, last=3, total=3)
    await harness.emulator.wait_for(
        lambda _: last_page in harness.message(coordinator, page["message_id"])["text"], timeout=10
    )
    assert not harness.apologized(coordinator)


async def test_forged_ids_beyond_the_databases_integers_are_stale_buttons(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    """PostgreSQL refuses an integer key over 2³¹ − 1 and SQLite one over 2⁶³ − 1: such forged ids
    get the stale-button notice, not an error."""
    coordinator = await make_coordinator(harness, registered, "en")
    survey = await make_survey(harness)
    invitation = await harness.reply(coordinator)
    async with create_session_factory(harness.app.engine)() as session:
        question_id = (await service.questions_of(session, survey.id or 0))[4].id or 0
    stale = harness.t("This button is no longer active.", "en")
    gone = harness.t("This survey no longer exists.", "en")
    for huge in (2**31, 2**63):
        for data, expected in (
            (SurveyAction(action="start", survey=huge).pack(), gone),
            (SurveyManage(action="open", id=huge).pack(), stale),
            (SurveyManage(action="texts", id=survey.id or 0, question=huge).pack(), stale),
            (SurveyDialog(action="publish", id=huge).pack(), stale),
        ):
            assert await harness.forge(coordinator, invitation, data) == expected, data
    # A page far beyond the written answers shows the first page.
    data = SurveyManage(action="texts", id=survey.id or 0, question=question_id, page=2**63).pack()
    await harness.emulator.press_button(coordinator, invitation, callback_data=data, forge=True)
    page = await harness.reply(coordinator)
    assert page["text"].startswith("📝 5. Any suggestion?")
    await asyncio.sleep(0.5)
    assert not harness.apologized(coordinator)


async def test_an_overlong_written_answer_is_measured_as_it_is_limited(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    """The limit counts an emoji as two (as Telegram does): so does the count the member is told."""
    kofi, survey, invitation = await member_invited(harness, registered, "Kofi", "en")
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == kofi.id))).one()
        current = await service.get_survey(session, survey.id or 0)
        response, question = await service.start_or_resume(session, current, member, utcnow())
        for value in (0, [1], 7, 3):
            assert question is not None
            question = await service.answer(session, response, question, value, utcnow())
        await session.commit()
    assert "Any suggestion?" in (await harness.choose(kofi, invitation, harness.t("▶️ Start", "en")))["text"]
    refused = await harness.send(kofi, "🎉" * 21)  # 42 code units, over the question's 40
    assert refused["text"] == harness.t(
        "That is too long: {limit} characters at most (yours has {length}).", "en", limit=40, length=42
    )


async def test_the_breakdown_threshold_is_a_setting(harness: Harness, registered) -> None:  # type: ignore[no-untyped-def]
    coordinator = await make_coordinator(harness, registered, "en")
    people = [await registered(f"P{n}", "en" if n < 2 else "fr") for n in range(4)]
    survey_id = await attributed_survey(harness)
    await invited(harness, coordinator, *people)
    for person, values in zip(people, ANSWERS, strict=False):
        await respond(harness, person, survey_id, values)
    listing = await harness.send(coordinator, "/results")
    summary = await harness.choose(coordinator, listing, f"#{survey_id} Needs")
    for _ in range(4):
        assert "photo" in await harness.reply(coordinator, timeout=30)
    by_language = harness.t("👥 By language", "en")
    two = harness.t("{count} response", "en", "{count} responses", 2, count=2)
    breakdown = (await harness.choose(coordinator, summary, by_language))["text"]
    assert "English — " + two not in breakdown  # the default: 5
    harness.settings.survey_min_group = 2
    breakdown = (await harness.choose(coordinator, summary, by_language))["text"]
    assert "English — " + two in breakdown and "Français — " + two in breakdown

"""Native quick polls through the emulator: one copy per member in their language, votes from every
copy merged into one result (`poll_answer`), a withdrawn vote, anonymous polls summed from each
copy's counts (`poll`), and every copy stopped when the poll closes (early or on time)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.i18n import language_name
from bot.sandbox import SimUser
from bot.services import surveys as service
from storage.db import create_session_factory
from storage.models import DeliveryStatus, OutboxMessage, PollDelivery, Survey
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import opened_survey, plain
from tests.e2e.test_survey_admin import closing_day, make_coordinator


async def make_poll(
    harness: Harness, *, anonymous: bool, multiple: bool, closes_in: timedelta = timedelta(days=1)
) -> Survey:
    french = {"text": "Quel jour vous convient ?", "options": ["Samedi", "Dimanche", "En semaine"]}
    question = {"options": ["Saturday", "Sunday", "A weekday"], "translations": {"fr": french}}
    return await opened_survey(
        harness,
        "Meeting day",
        [("multiple" if multiple else "single", "Which day suits you? <3 & more", question)],
        anonymous=anonymous,
        native_poll=True,
        closes_at=utcnow() + closes_in,
    )


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait until an async database check holds (updates are handled concurrently)."""
    async with asyncio.timeout(timeout):
        for _ in iter(int, 1):  # until it holds (or the timeout)
            if await check():
                return
            await asyncio.sleep(0.05)


async def copies(harness: Harness, survey: Survey, count: int) -> None:
    """Wait until every copy's poll id is stored (the engine's after-send hook)."""

    async def stored() -> bool:
        async with create_session_factory(harness.app.engine)() as session:
            rows = (await session.exec(select(PollDelivery).where(PollDelivery.survey_id == survey.id))).all()
        return len(rows) == count

    await eventually(stored)


async def results(harness: Harness, survey: Survey) -> service.SurveyResults:
    async with create_session_factory(harness.app.engine)() as session:
        return await service.results(session, await service.get_survey(session, survey.id or 0))


async def counted(harness: Harness, survey: Survey, counts: list[int], voters: int) -> None:
    async def matches() -> bool:
        outcome = await results(harness, survey)
        return outcome.questions[0].counts == counts and outcome.respondents == voters

    try:
        await eventually(matches)
    except TimeoutError:
        outcome = await results(harness, survey)
        raise AssertionError((outcome.questions[0].counts, outcome.respondents)) from None


async def polls_closed(harness: Harness, users: list[SimUser], messages: list[dict[str, Any]]) -> None:
    def closed(_: Any) -> bool:
        return all(
            harness.message(user, message["message_id"])["poll"]["is_closed"]
            for user, message in zip(users, messages, strict=True)
        )

    await harness.emulator.wait_for(closed, timeout=15)


async def test_votes_from_every_copy_merge_into_one_result_and_closing_stops_them(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    users = [await registered("Awa", "fr"), await registered("Ben", "en"), await registered("Chen", "en")]
    survey = await make_poll(harness, anonymous=False, multiple=True)
    messages = [await harness.reply(user) for user in users]
    french, english = messages[0]["poll"], messages[1]["poll"]
    assert french["question"] == "Quel jour vous convient ?"
    assert [option["text"] for option in french["options"]] == ["Samedi", "Dimanche", "En semaine"]
    assert english["question"] == "Which day suits you? <3 & more"  # plain text, not HTML
    assert english["allows_multiple_answers"] is True and english["is_anonymous"] is False
    await copies(harness, survey, 3)

    await harness.emulator.answer_poll(users[0], messages[0], [0, 1])
    await harness.emulator.answer_poll(users[1], messages[1], [1])
    await harness.emulator.answer_poll(users[2], messages[2], [1, 2])
    await counted(harness, survey, [1, 3, 1], 3)
    # Ben changes his vote, Chen withdraws his.
    await harness.emulator.answer_poll(users[1], messages[1], [0])
    await harness.emulator.answer_poll(users[2], messages[2], [])
    await counted(harness, survey, [2, 1, 0], 2)
    assert (await results(harness, survey)).questions[0].percentages == [100.0, 50.0, 0.0]

    # Closed early by a coordinator (/results, Close now): every copy is stopped through the outbox.
    coordinator = await make_coordinator(harness, registered, "en")
    listing = await harness.send(coordinator, "/results")
    summary = await harness.choose(coordinator, listing, f"#{survey.id} ")
    assert "photo" in await harness.reply(coordinator)  # the chart of the only question
    confirm = await harness.choose(coordinator, summary, "⏹ Close now")
    await harness.press(coordinator, confirm, "⏹ Yes, close it")
    await polls_closed(harness, users, messages)
    with pytest.raises(ValueError, match="closed"):
        await harness.emulator.answer_poll(users[2], messages[2], [2])

    async def stopped() -> bool:
        async with create_session_factory(harness.app.engine)() as session:
            rows = (
                await session.exec(select(OutboxMessage).where(OutboxMessage.kind == service.POLL_STOP_KIND))
            ).all()
        assert sorted(row.chat_id for row in rows) == sorted(user.id for user in users)
        return {row.status for row in rows} == {DeliveryStatus.SENT}

    await eventually(stopped)
    await counted(harness, survey, [2, 1, 0], 2)


async def test_anonymous_poll_sums_every_copy_and_closes_on_time(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    users = [await registered(f"Member {i}", "en") for i in range(4)]
    survey = await make_poll(harness, anonymous=True, multiple=False, closes_in=timedelta(seconds=3))
    messages = [await harness.reply(user) for user in users]
    assert messages[0]["poll"]["is_anonymous"] is True
    assert messages[0]["poll"]["allows_multiple_answers"] is False
    await copies(harness, survey, 4)
    for user, message, choice in zip(users, messages, [2, 2, 0, 1], strict=True):
        await harness.emulator.answer_poll(user, message, [choice])
    await counted(harness, survey, [1, 1, 2], 4)
    await harness.emulator.answer_poll(users[3], messages[3], [])  # withdrawn
    await counted(harness, survey, [1, 0, 2], 3)

    await asyncio.sleep(3.2)
    await harness.app.scheduler.get_job("survey_closing").func()
    await polls_closed(harness, users, messages)
    async with create_session_factory(harness.app.engine)() as session:
        assert (await service.get_survey(session, survey.id or 0)).status == "closed"
        # A private chat's copy counts one member's vote: no copy of an anonymous poll names its chat.
        stored = (await session.exec(select(PollDelivery).where(PollDelivery.survey_id == survey.id))).all()
        assert len(stored) == 4 and {copy.chat_id for copy in stored} == {0}
    await counted(harness, survey, [1, 0, 2], 3)


async def test_a_ukrainian_poll_translated_reaches_each_member_in_their_language(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 16: a quick poll gets the translation step (its question, then each option, one per
    message or several lines at once): an Arabic member votes in Arabic, a French one in French, and
    a Russian one, with no version of their own, gets the original (Ukrainian)."""
    coordinator = await make_coordinator(harness, registered, "uk")
    members = {language: await registered(f"Member {language}", language) for language in ("ar", "fr", "ru")}

    def t(msgid: str, **values: Any) -> str:
        return harness.t(msgid, "uk", **values)

    async def pick(message: dict[str, Any], label: str) -> dict[str, Any]:
        await harness.press(coordinator, message, t(label))
        return await harness.reply(coordinator)

    await harness.send(coordinator, "/poll")
    await harness.send(coordinator, "Коли зустрічаємося?")
    so_far = await harness.send(coordinator, "Субота\nНеділя")
    anonymous = await pick(await pick(so_far, "Done"), "One answer")
    await pick(anonymous, "👤 With names")  # the closing time is asked next
    confirm = await harness.send(coordinator, closing_day(3)[0])
    audience = await pick(confirm, "✅ Correct")
    await harness.choose(coordinator, audience, t("Everyone"))  # the preview notice
    card = await harness.reply(coordinator)
    assert buttons(card) == [t("📤 Publish"), t("✏️ Edit"), t("🌐 Add a translation"), t("🗑 Discard")]

    for language, question, options in (
        ("ar", "متى نلتقي؟", ["السبت", "الأحد"]),  # one option per message
        ("fr", "Quand nous retrouvons-nous ?", ["Samedi\nDimanche"]),  # both in one message
    ):
        languages = await pick(card, "🌐 Add a translation")
        prompt = await pick(languages, language_name(language))
        assert "Коли зустрічаємося?" in prompt["text"]
        option = await harness.send(coordinator, question)
        assert option["text"] == plain(
            t(
                "Answer option {option} of question {number} in {language}. The original: {original}",
                option=1,
                number=1,
                language=language_name(language),
                original="Субота",
            )
        )
        for answer in options:
            saved = await harness.send(coordinator, answer)
        assert saved["text"] == t("✅ Translation saved: {language}.", language=language_name(language))
        card = await harness.reply(coordinator)
    assert ", ".join(language_name(code) for code in ("uk", "ar", "fr")) in card["text"]

    await harness.press(coordinator, card, t("📤 Publish"))
    polls = {language: (await harness.reply(user))["poll"] for language, user in members.items()}
    assert {language: poll["question"] for language, poll in polls.items()} == {
        "ar": "متى نلتقي؟",
        "fr": "Quand nous retrouvons-nous ?",
        "ru": "Коли зустрічаємося?",
    }
    assert {language: [option["text"] for option in poll["options"]] for language, poll in polls.items()} == {
        "ar": ["السبت", "الأحد"],
        "fr": ["Samedi", "Dimanche"],
        "ru": ["Субота", "Неділя"],
    }
    async with create_session_factory(harness.app.engine)() as session:
        (poll,) = (await session.exec(select(Survey))).all()
    assert (poll.native_poll, poll.language, poll.translations) == (
        True,
        "uk",
        {"ar": "متى نلتقي؟", "fr": "Quand nous retrouvons-nous ?"},
    )

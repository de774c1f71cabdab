"""A survey's question on screen twice: an invitation sent twice (a crash between sending it and
recording it), ▶️ Start pressed on both copies, or pressed again while the bot was restarting. The
member is never asked again a question they answered: the message that showed the question before
loses its buttons, a second Start resumes where they are, and a tap on an older copy stores
nothing and turns that message into the current question (the crash set's survey scenario once
stalled there: every copy left showed question 1, and its taps were only told "not current")."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlmodel import col, select, update

from bot.sandbox import SimUser
from bot.views.surveys import SurveyAction
from storage.db import create_session_factory
from storage.models import DeliveryStatus, OutboxMessage, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from tests.e2e.conftest import Harness, buttons
from tests.e2e.helpers import opened_survey

STALE = "This question is not the current one: here is where you are."


async def doubly_invited(harness: Harness, registered: Any) -> tuple[SimUser, Survey, list[dict[str, Any]]]:
    """A member, a two-question survey, and its invitation delivered twice (the outbox row sent,
    then found unrecorded after a crash and sent again)."""
    member = await registered("Kofi", "en")
    survey = await opened_survey(
        harness, "Picnic", [("yes_no", "Coming to the picnic?", {}), ("yes_no", "Bringing food?", {})]
    )
    first = await harness.reply(member)
    mine = col(OutboxMessage.chat_id) == member.id
    sessions = create_session_factory(harness.app.engine)
    for _ in range(200):  # the engine records the send just after Telegram took it
        async with sessions() as session:
            if (await session.exec(select(OutboxMessage.status).where(mine))).one() == DeliveryStatus.SENT:
                break
        await asyncio.sleep(0.05)
    async with sessions() as session:
        await session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(mine)
            .values(status=DeliveryStatus.PENDING, sent_at=None, telegram_message_id=None, claimed_by=None)
        )
        await session.commit()
    harness.app.delivery.wake()
    second = await harness.reply(member)
    assert second["text"] == first["text"] and buttons(second) == buttons(first) == ["▶️ Start"]
    return member, survey, [first, second]


async def kept(harness: Harness, survey: Survey) -> list[Any]:
    """The stored answers' values, in question order."""
    async with create_session_factory(harness.app.engine)() as session:
        rows = await session.exec(
            select(SurveyAnswer.value)
            .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
            .join(SurveyQuestion, col(SurveyQuestion.id) == col(SurveyAnswer.question_id))
            .where(SurveyResponse.survey_id == survey.id)
            .order_by(col(SurveyQuestion.position))
        )
        return list(rows.all())


async def test_start_on_the_second_invitation_resumes_where_the_member_is(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    kofi, survey, (first, second) = await doubly_invited(harness, registered)
    question = await harness.choose(kofi, first, "▶️ Start")
    assert "1/2" in question["text"] and "Coming to the picnic?" in question["text"]
    await harness.press(kofi, question, "Yes")
    assert "2/2" in harness.message(kofi, question["message_id"])["text"]

    resumed = await harness.choose(kofi, second, "▶️ Start")
    assert "2/2" in resumed["text"] and "Bringing food?" in resumed["text"]
    assert not harness.message(kofi, question["message_id"]).get("reply_markup")  # one question on screen
    await harness.press(kofi, resumed, "No")
    review = harness.message(kofi, resumed["message_id"])
    assert "✅ Submit" in buttons(review)
    await harness.press(kofi, review, "✅ Submit")
    assert await kept(harness, survey) == [True, False]


async def test_a_tap_on_an_older_copy_of_a_question_shows_where_the_member_is(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    """Start pressed on both invitations before answering: question 1 twice. The first copy loses its
    buttons when the second comes, but a tap made on it just before still counts (it is the
    current question). The second copy is older then: its tap is answered with where Kofi is
    (question 2, in that message), and question 1 is neither asked nor stored again."""
    kofi, survey, (first, second) = await doubly_invited(harness, registered)
    copy_one = await harness.choose(kofi, first, "▶️ Start")
    copy_two = await harness.choose(kofi, second, "▶️ Start")
    assert "1/2" in copy_one["text"] and "1/2" in copy_two["text"]
    assert not harness.message(kofi, copy_one["message_id"]).get("reply_markup")

    yes = SurveyAction.unpack(copy_one["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    assert await harness.forge(kofi, copy_one, yes) != STALE  # tapped before its buttons went
    assert "2/2" in harness.message(kofi, copy_one["message_id"])["text"]
    assert not harness.message(kofi, copy_two["message_id"]).get("reply_markup")

    no = copy_two["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    assert await harness.forge(kofi, copy_two, no) == STALE  # Telegram had not removed it yet
    now = harness.message(kofi, copy_two["message_id"])
    assert "2/2" in now["text"] and "Bringing food?" in now["text"]
    assert buttons(now) == ["Yes", "No", "◀ Back"]
    assert not harness.message(kofi, copy_one["message_id"]).get("reply_markup")
    assert await kept(harness, survey) == [True]  # question 1 kept as first answered

    await harness.press(kofi, now, "No")
    await harness.press(kofi, harness.message(kofi, now["message_id"]), "✅ Submit")
    assert await kept(harness, survey) == [True, False]
    assert not harness.apologized(kofi) and harness.emulator.errors == []

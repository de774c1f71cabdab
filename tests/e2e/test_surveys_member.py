"""Members answering a survey through the emulator: the invitation in their language, one question at
a time with buttons, multi-select, typed numbers and texts (refused when out of bounds or too long),
Back, Skip, stale and forged buttons, resume after a restart, Submit, a second attempt, a late tap
after closing, /surveys, reminders only to those who have not answered, and /mydata and /forget."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlmodel import col, func, select

from bot.sandbox import SimUser
from bot.services import surveys as service
from bot.views.surveys import SurveyAction
from storage.db import create_session_factory
from storage.models import (
    Member,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyResponse,
)
from storage.types import utcnow
from tests.e2e.conftest import Harness, buttons, restart_bot
from tests.e2e.helpers import opened_survey, plain

FR_TITLE = "Besoins de la communauté"


async def make_survey(
    harness: Harness, *, anonymous: bool = False, closes_in: timedelta | None = None
) -> Survey:
    """A six-question survey in English with a French translation, opened to everyone."""
    questions: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
        ("single", "Which city?", {"options": ["Paris", "Lyon", "Other"]},
         {"text": "Quelle ville ?", "options": ["Paris", "Lyon", "Autre"]}),
        ("multiple", "Which topics?", {"options": ["Jobs", "Housing", "Culture"]},
         {"text": "Quels sujets ?", "options": ["Emploi", "Logement", "Culture"]}),
        ("rating", "How satisfied are you?", {"min_value": 0, "max_value": 10},
         {"text": "Êtes-vous satisfait ?"}),
        ("number", "How many years here?", {"min_value": 0, "max_value": 80},
         {"text": "Depuis combien d'années ?"}),
        ("text", "Any suggestion?", {"max_length": 40, "optional": True},
         {"text": "Une suggestion ?"}),
        ("yes_no", "Would you volunteer?", {}, {"text": "Seriez-vous bénévole ?"}),
    ]  # fmt: skip
    return await opened_survey(
        harness,
        "Community needs",
        [(kind, text, fields | {"translations": {"fr": french}}) for kind, text, fields, french in questions],
        language="en",
        translations={"fr": FR_TITLE},
        anonymous=anonymous,
        closes_at=utcnow() + (closes_in or timedelta(days=3)),
    )


async def member_invited(
    harness: Harness, registered: Any, name: str, language: str
) -> tuple[SimUser, Survey, dict[str, Any]]:
    """Given `name`, a member writing `language`, and the six-question survey opened to everyone: the
    member, the survey, and the invitation that reached their chat."""
    member = await registered(name, language)
    survey = await make_survey(harness)
    return member, survey, await harness.reply(member)


async def tap(harness: Harness, user: SimUser, message: dict[str, Any], label: str) -> dict[str, Any]:
    """Press a button that edits its message; the message after the edit."""
    before = harness.message(user, message["message_id"])
    await harness.press(user, message, label)

    def changed(_: Any) -> bool:
        return harness.message(user, message["message_id"]) != before

    await harness.emulator.wait_for(changed, timeout=10)
    return harness.message(user, message["message_id"])


def _names_survey(message: dict[str, Any], survey_id: int) -> bool:
    """Whether an invitation's Start button is for this survey."""
    data = [
        button.get("callback_data", "")
        for row in message["reply_markup"]["inline_keyboard"]
        for button in row
    ]
    return any(SurveyAction.unpack(item).survey == survey_id for item in data if item)


async def toast_of(harness: Harness, user: SimUser, message: dict[str, Any], **forged: Any) -> str | None:
    """Press with (possibly forged) callback data; the toast the bot answered with."""
    return await harness.forge(user, message, SurveyAction(**forged))


async def stored(harness: Harness, survey: Survey) -> tuple[int, int]:
    """(responses, answers) stored for the survey."""
    async with create_session_factory(harness.app.engine)() as session:
        responses = (
            await session.exec(
                select(func.count()).select_from(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
            )
        ).one()
        answers = (
            await session.exec(
                select(func.count())
                .select_from(SurveyAnswer)
                .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
                .where(SurveyResponse.survey_id == survey.id)
            )
        ).one()
    return int(responses), int(answers)


async def results(harness: Harness, survey: Survey) -> service.SurveyResults:
    async with create_session_factory(harness.app.engine)() as session:
        return await service.results(session, await service.get_survey(session, survey.id or 0))


async def test_six_questions_in_two_languages_with_back_skip_restart_and_submit(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    amina = await registered("Amina", "fr")
    kofi = await registered("Kofi", "en")
    survey = await make_survey(harness)
    other = await make_survey(harness)  # another open survey: its ids are used for forged buttons

    # Both invitations arrive (in either order: the delivery engine sends them side by side).
    invitations = [await harness.reply(amina), await harness.reply(amina)]
    invitation = next(m for m in invitations if _names_survey(m, survey.id or 0))
    assert invitation["text"].startswith(
        plain(harness.t("📋 <b>New survey:</b> {title}", "fr", title=FR_TITLE))
    )
    assert harness.t("{count} question.", "fr", "{count} questions.", 6, count=6) in invitation["text"]
    assert buttons(invitation) == [harness.t("▶️ Start", "fr")]
    kofi_invitation = await harness.reply(kofi)
    assert "Community needs" in kofi_invitation["text"]
    await harness.reply(kofi)

    # Question 1 (single choice), in French, with progress.
    first = await harness.choose(amina, invitation, harness.t("▶️ Start", "fr"))
    assert first["text"].startswith(f"📋 {FR_TITLE} · 1/6") and "Quelle ville ?" in first["text"]
    assert buttons(first) == ["Paris", "Lyon", "Autre"]
    # A forged button: another survey's question, a question of this survey that is not current.
    survey_questions = await questions(harness, survey)
    other_questions = await questions(harness, other)
    stale = harness.t("This question is not the current one: here is where you are.", "fr")
    assert (
        await toast_of(
            harness, amina, first, action="answer", survey=survey.id, question=other_questions[0], value=0
        )
        == stale
    )
    assert (
        await toast_of(
            harness, amina, first, action="answer", survey=survey.id, question=survey_questions[2], value=3
        )
        == stale
    )
    assert await toast_of(harness, amina, first, action="submit", survey=survey.id) == stale
    assert await stored(harness, survey) == (1, 0)

    second = await tap(harness, amina, first, "Lyon")
    assert "2/6" in second["text"] and "Quels sujets ?" in second["text"]
    # Multi-select: toggled in place, then Done.
    second = await tap(harness, amina, second, "Emploi")
    second = await tap(harness, amina, second, "Culture")
    second = await tap(harness, amina, second, "Emploi")
    assert buttons(second)[:3] == ["⬜ Emploi", "⬜ Logement", "☑️ Culture"]
    third = await tap(harness, amina, second, harness.t("Done ✔️", "fr"))
    assert "3/6" in third["text"] and [b for b in buttons(third) if b.isdigit()] == [
        str(v) for v in range(11)
    ]
    # Back to question 2: the stored choice is shown, then answered again.
    second = await tap(harness, amina, third, harness.t("◀ Back", "fr"))
    assert "2/6" in second["text"] and buttons(second)[2] == "☑️ Culture"
    third = await tap(harness, amina, second, harness.t("Done ✔️", "fr"))
    # The first question's old message is stale now.
    assert (
        await toast_of(
            harness, amina, first, action="answer", survey=survey.id, question=survey_questions[0], value=0
        )
        == stale
    )
    fourth = await tap(harness, amina, third, "8")
    assert "4/6" in fourth["text"]
    assert plain(harness.t("Type a number from {min} to {max}.", "fr", min=0, max=80)) in fourth["text"]

    # The bot restarts in the middle: the typed answer still reaches question 4.
    await restart_bot(harness)
    refused = await harness.send(amina, "120")
    number_hint = harness.t("Type a number from {min} to {max}.", "fr", min=0, max=80)
    assert refused["text"] == harness.t("That number is out of range.", "fr") + " " + number_hint
    refused = await harness.send(amina, "beaucoup")
    assert refused["text"] == harness.t("That is not a number.", "fr") + " " + number_hint
    fifth = await harness.send(amina, "12")
    assert "5/6" in fifth["text"] and "Une suggestion ?" in fifth["text"]
    too_long = await harness.send(amina, "x" * 41)
    assert too_long["text"] == harness.t(
        "That is too long: {limit} characters at most (yours has {length}).", "fr", limit=40, length=41
    )
    sixth = await tap(harness, amina, fifth, harness.t("Skip ⏭", "fr"))
    assert "6/6" in sixth["text"] and buttons(sixth) == [
        harness.t("Yes", "fr"),
        harness.t("No", "fr"),
        harness.t("◀ Back", "fr"),
    ]
    review = await tap(harness, amina, sixth, harness.t("Yes", "fr"))
    assert (
        plain(harness.t("Please check your answers, then tap Submit. Answers are final after that.", "fr"))
        in (review["text"])
    )
    assert "→ Lyon" in review["text"] and "→ Culture" in review["text"] and "→ 8" in review["text"]
    assert "→ " + harness.t("(skipped)", "fr") in review["text"]
    done = await tap(harness, amina, review, harness.t("✅ Submit", "fr"))
    assert done["text"] == plain(
        harness.t("🙏 Thank you! Your answers to <b>{title}</b> are saved.", "fr", title=FR_TITLE)
    )

    # A second attempt shows the submitted answers and changes nothing.
    again = await harness.choose(amina, invitation, harness.t("▶️ Start", "fr"))
    assert again["text"].startswith(
        plain(
            harness.t(
                "You have already answered the survey <b>{title}</b>. Your answers:", "fr", title=FR_TITLE
            )
        )
    )
    assert "→ Lyon" in again["text"]

    # Kofi answers everything in English, typed text included.
    message = await harness.choose(kofi, kofi_invitation, harness.t("▶️ Start", "en"))
    assert "Which city?" in message["text"]
    message = await tap(harness, kofi, message, "Paris")
    message = await tap(harness, kofi, message, "⬜ Jobs")
    message = await tap(harness, kofi, message, "⬜ Housing")
    message = await tap(harness, kofi, message, "Done ✔️")
    message = await tap(harness, kofi, message, "10")
    message = await harness.send(kofi, "3,5")
    assert "How many years here?" not in message["text"] and "Any suggestion?" in message["text"]
    message = await harness.send(kofi, "More <b>evening</b> events")
    message = await tap(harness, kofi, message, "No")
    assert "→ More <b>evening</b> events" in message["text"]  # typed text is shown as text
    await tap(harness, kofi, message, "✅ Submit")

    outcome = await results(harness, survey)
    assert outcome.respondents == 2
    city, topics, rating, years, suggestion, volunteer = outcome.questions
    assert city.counts == [1, 1, 0] and topics.counts == [1, 1, 1]
    assert rating.counts == [0] * 8 + [1, 0, 1] and years.average == 7.75
    assert suggestion.texts == ["More <b>evening</b> events"] and volunteer.counts == [1, 1]
    assert await stored(harness, survey) == (2, 11)


async def questions(harness: Harness, survey: Survey) -> list[int]:
    async with create_session_factory(harness.app.engine)() as session:
        return [question.id or 0 for question in await service.questions_of(session, survey.id or 0)]


async def test_late_taps_after_closing_are_refused_and_surveys_lists_what_is_left(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    fatou, survey, invitation = await member_invited(harness, registered, "Fatou", "fr")
    listing = await harness.send(fatou, "/surveys")
    assert buttons(listing) == [harness.t("▶️ Start: {title}", "fr", title=FR_TITLE)]
    first = await harness.choose(fatou, invitation, harness.t("▶️ Start", "fr"))
    second = await tap(harness, fatou, first, "Paris")
    listing = await harness.send(fatou, "/surveys")
    assert buttons(listing) == [harness.t("↪️ Continue: {title}", "fr", title=FR_TITLE)]
    # Continuing from the list shows the question where Fatou stopped.
    resumed = await harness.choose(fatou, listing, harness.t("↪️ Continue: {title}", "fr", title=FR_TITLE))
    assert "2/6" in resumed["text"]
    assert not harness.message(fatou, second["message_id"]).get("reply_markup")  # one question on screen

    async with create_session_factory(harness.app.engine)() as session:
        await service.close_survey(session, await service.get_survey(session, survey.id or 0), utcnow())
        await session.commit()
    closed = harness.t(
        "This survey is closed, sorry: answers are no longer accepted. Thank you anyway!", "fr"
    )
    late = await harness.send(fatou, "12")  # typed after closing: refused, not stored
    assert late["text"] == closed
    query = await harness.press(fatou, resumed, "⬜ Emploi")
    assert harness.emulator.callback_answers[query] == {
        **harness.emulator.callback_answers[query],
        "text": closed,
    }
    assert harness.emulator.callback_answers[query]["show_alert"] is True
    assert (await harness.send(fatou, "/surveys"))["text"] == harness.t(
        "No open surveys for you right now. You'll hear from me when there is one!", "fr"
    )
    assert await stored(harness, survey) == (1, 1)


async def test_reminders_go_only_to_those_who_have_not_submitted(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    users = [await registered(name, "en") for name in ("Ada", "Bola", "Chidi")]
    survey = await make_survey(harness, closes_in=timedelta(hours=30))  # reminded 24 hours before
    invitations = [await harness.reply(user) for user in users]
    async with create_session_factory(harness.app.engine)() as session:
        due = await service.get_survey(session, survey.id or 0)
        assert due.remind_at == (due.closes_at or utcnow()) - timedelta(hours=24)
        due.remind_at = utcnow()  # six hours later: the reminder is due
        session.add(due)
        member = (await session.exec(select(Member).where(Member.telegram_id == users[0].id))).one()
        response, question = await service.start_or_resume(session, survey, member, utcnow())
        for raw in (0, [1], 5, 3, None, True):
            assert question is not None
            question = await service.answer(session, response, question, raw, utcnow())
        await service.submit(session, response, utcnow())
        await session.commit()
    await harness.app.scheduler.get_job("survey_reminders").func()
    reminder = await harness.reply(users[1])
    assert reminder["text"].startswith(
        plain(harness.t("⏰ <b>Reminder:</b> the survey <b>{title}</b> is waiting for your answers.", "en",
                        title="Community needs"))
    )  # fmt: skip
    assert buttons(reminder) == [harness.t("▶️ Start", "en")]
    await harness.reply(users[2])
    await harness.app.scheduler.get_job("survey_reminders").func()  # once only
    await harness.emulator.wait_for(lambda emu: True)
    assert [m for m in harness.emulator.transcript(users[0].id) if m["outgoing"]] == [
        harness.message(users[0], invitations[0]["message_id"])
    ]
    assert len([m for m in harness.emulator.transcript(users[1].id) if m["outgoing"]]) == 2


async def test_mydata_lists_survey_answers_and_forget_erases_them(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    musa = await registered("Musa", "en")
    attributed = await make_survey(harness)
    anonymous = await make_survey(harness, anonymous=True)
    await harness.reply(musa)
    await harness.reply(musa)
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == musa.id))).one()
        for survey in (attributed, anonymous):
            response, question = await service.start_or_resume(session, survey, member, utcnow())
            for raw in (2, [0, 2], 7, 4, "Secret idea", False):
                assert question is not None
                question = await service.answer(session, response, question, raw, utcnow())
            await service.submit(session, response, utcnow())
        await session.commit()
    document = await harness.send(musa, "/mydata")
    exported = json.loads(harness.emulator.file_bytes(document["document"]["file_id"]))["surveys"]
    [answered] = exported["survey_answers"]
    assert answered["survey"] == "Community needs" and answered["status"] == "submitted"
    assert answered["answers"][0] == {"question": "Which city?", "answer": "Other"}
    assert answered["answers"][4] == {"question": "Any suggestion?", "answer": "Secret idea"}
    assert exported["anonymous_surveys"] == [{"survey": "Community needs", "submitted": True}]
    assert "Secret idea" not in json.dumps(exported["anonymous_surveys"])

    question = await harness.send(musa, "/forget")
    await harness.press(musa, question, harness.t("🗑 Yes, erase my data", "en"))
    await harness.edited(musa, question)
    assert await stored(harness, attributed) == (0, 0)
    assert await stored(harness, anonymous) == (1, 6)  # no one's: it stays in the results
    async with create_session_factory(harness.app.engine)() as session:
        left = (await session.exec(select(SurveyParticipation))).all()
    assert left == []


async def test_a_survey_link_opens_its_invitation_or_says_why_not(
    harness: Harness,
    registered,  # type: ignore[no-untyped-def]
) -> None:
    fatou, survey, _invitation = await member_invited(harness, registered, "Fatou", "fr")  # via the outbox
    linked = await harness.send(fatou, f"/start survey_{survey.id}")
    assert plain(linked["text"]).startswith(
        plain(harness.t("📋 <b>New survey:</b> {title}", "fr", title=FR_TITLE))
    )
    assert "1/6" in (await harness.choose(fatou, linked, harness.t("▶️ Start", "fr")))["text"]
    unknown = await harness.send(fatou, "/start survey_999")
    assert unknown["text"] == harness.t("This survey no longer exists.", "fr")
    async with create_session_factory(harness.app.engine)() as session:
        await service.close_survey(session, await service.get_survey(session, survey.id or 0), utcnow())
        await session.commit()
    closed = await harness.send(fatou, f"/start survey_{survey.id}")
    assert closed["text"] == harness.t(
        "This survey is closed, sorry: answers are no longer accepted. Thank you anyway!", "fr"
    )


def test_dialog_states_keep_the_names_stored_in_the_database() -> None:
    """Dialog states are stored by name (`storage/fsm.py`): whoever is in the middle of answering a
    survey or of the coordinator's dialogs keeps their place only if the names never change."""
    from handlers.surveys.states import AnsweringStates, SurveyDialogStates

    assert AnsweringStates.answering.state == "SurveyStates:answering"
    steps = "question title kind text options bounds max_length optional more multiple anonymous audience"
    names = [*steps.split(), "opens", "closes", "reminder", "translation", "edit_value"]
    assert [state.state for state in SurveyDialogStates] == [f"SurveyStates:{name}" for name in names]

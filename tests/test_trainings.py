"""Training rules against a real database (SQLite, and PostgreSQL with TEST_DATABASE_URL): creation
and publishing, sign-ups with seats and a waitlist under concurrency, promotion, deadlines, sessions
as events (reminders only to confirmed participants), attendance, completion and feedback."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import events as event_service
from bot.services import surveys as survey_service
from bot.services import trainings as service
from bot.services.events import EventError, reminders
from bot.services.trainings import SessionInput, TrainingError
from storage.models import (
    EventStatus,
    Member,
    Organization,
    OutboxMessage,
    Rsvp,
    RsvpStatus,
    SignupStatus,
    Survey,
    SurveyStatus,
    Training,
    TrainingNotice,
    TrainingSignup,
    TrainingStatus,
)
from tests.helpers import concurrently, grant_writing, notice_recipients, organization, two_sessions
from tests.test_events import NOW, add_members

CONFIRMED, WAITLISTED, CANCELLED = SignupStatus.CONFIRMED, SignupStatus.WAITLISTED, SignupStatus.CANCELLED
FIRST = NOW + timedelta(days=10)  # the first session
QUESTIONS = [
    {"text": "Which organization are you with?", "options": []},
    {"text": "Level?", "options": ["New", "Some"]},
]
ANSWERS = ["Lyon Sénégal", "new"]


async def draft(session: AsyncSession, org: Organization, **fields: Any) -> Training:
    values: dict[str, Any] = grant_writing(FIRST) | {
        "description": "For associations",
        "capacity": 2,
        "signup_deadline": FIRST - timedelta(days=1),
        "questions": QUESTIONS,
        "translations": {"fr": {"title": "Rédiger une demande de subvention"}},
        "audience": {},
        "now": NOW,
    }
    training = await service.create_training(session, org, None, **(values | fields))
    await session.commit()
    return training


async def opened(session: AsyncSession, org: Organization, **fields: Any) -> Training:
    training = await draft(session, org, **fields)
    await service.publish_training(session, training, org, NOW)
    await session.commit()
    return training


async def signed_up(
    session: AsyncSession, count: int, capacity: int, answers: list[str] = ANSWERS
) -> tuple[Training, list[int]]:
    """Given `count` members who signed up in turn for an open training of `capacity` seats: the
    training, and the members in the order they signed up."""
    org = await organization(session)
    people = await add_members(session, org, count)
    training = await opened(session, org, capacity=capacity)
    for member in people:
        await service.sign_up(session, training.id or 0, member, answers, NOW)
    return training, people


async def signups(session: AsyncSession, training_id: int) -> dict[int, TrainingSignup]:
    rows = await session.exec(
        select(TrainingSignup)
        .where(TrainingSignup.training_id == training_id)
        .execution_options(populate_existing=True)
    )
    return {row.member_id: row for row in rows.all()}


async def notices(session: AsyncSession, training_id: int, kind: str) -> list[int]:
    """Member ids told by the training's notices of `kind`, in notice order."""
    return await notice_recipients(
        session,
        TrainingNotice,
        service.NOTICE_KIND,
        TrainingNotice.training_id == training_id,
        TrainingNotice.kind == kind,
    )


async def going(session: AsyncSession, training_id: int) -> dict[int, set[int]]:
    """Session event id → members with a Going RSVP."""
    result: dict[int, set[int]] = {}
    for event in await service.sessions_of(session, training_id):
        rows = await session.exec(
            select(Rsvp.member_id).where(Rsvp.event_id == event.id, Rsvp.status == RsvpStatus.GOING)
        )
        result[event.id or 0] = set(rows.all())
    return result


# -- creating and publishing -----------------------------------------------------------------------


async def test_create_and_publish(session: AsyncSession) -> None:
    org = await organization(session)
    people = await add_members(session, org, 3)
    training = await draft(session, org)
    events = await service.sessions_of(session, training.id or 0)
    assert [(e.status, e.training_id, e.capacity) for e in events] == [
        (EventStatus.DRAFT, training.id, None)
    ] * 2
    assert events[0].ends_at == FIRST + timedelta(minutes=120) and events[1].online_url
    assert events[0].translations == {"fr": {"title": "Rédiger une demande de subvention"}}
    assert training.questions == [QUESTIONS[0], {"text": "Level?", "options": ["New", "Some"]}]

    assert await service.publish_training(session, training, org, NOW) == 3
    await session.commit()
    assert training.status == TrainingStatus.OPEN
    events = await service.sessions_of(session, training.id or 0)
    assert {e.status for e in events} == {EventStatus.PUBLISHED}
    assert sorted(await notices(session, training.id or 0, "published")) == sorted(people)
    with pytest.raises(TrainingError, match="not_editable"):
        await service.publish_training(session, training, org, NOW)
    # Sessions stay out of /events and get no event notice of their own.
    page = await event_service.upcoming_events(session, org.id, None, NOW, include_drafts=True)
    assert page.total == 0
    rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.kind == "event_notice"))).all()
    assert rows == []
    # Without a deadline, sign-ups close when the first session starts.
    other = await draft(session, org, signup_deadline=None)
    assert other.signup_deadline == FIRST


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": "  "}, "title_empty"),
        ({"capacity": 0}, "capacity_invalid"),
        ({"capacity": "many"}, "capacity_invalid"),
        ({"sessions": []}, "no_sessions"),
        ({"sessions": [SessionInput(NOW - timedelta(hours=1), 60)]}, "session_past"),
        (
            {"sessions": [SessionInput(FIRST, 60), SessionInput(FIRST + timedelta(minutes=30), 60)]},
            "sessions_overlap",
        ),
        ({"sessions": [SessionInput(FIRST, 0)]}, "duration_invalid"),
        ({"sessions": [SessionInput(FIRST, 60, online_url="not a link")]}, "bad_url"),
        ({"signup_deadline": FIRST + timedelta(hours=1)}, "deadline_after_start"),
        ({"signup_deadline": NOW - timedelta(hours=1)}, "deadline_in_past"),
        ({"questions": [{"text": "q", "options": []}] * 6}, "too_many_questions"),
        ({"questions": [{"text": "q", "options": ["only one"]}]}, "options_count"),
        ({"questions": [{"text": "q", "options": ["A", "a"]}]}, "options_duplicate"),
        ({"questions": [{"text": "x" * 201}]}, "question_too_long"),
        ({"trainer": "x" * 201}, "trainer_too_long"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    session: AsyncSession, fields: dict[str, Any], reason: str
) -> None:
    org = await organization(session)
    with pytest.raises(TrainingError) as raised:
        await draft(session, org, **fields)
    assert raised.value.reason == reason
    await session.rollback()
    assert (await session.exec(select(Training))).all() == []


# -- sign-ups --------------------------------------------------------------------------------------


async def test_sign_up_confirmed_then_waitlisted_with_positions(session: AsyncSession) -> None:
    org = await organization(session)
    a, b, c, d = await add_members(session, org, 4)
    training = await opened(session, org)
    tid = training.id or 0
    assert await service.sign_up(session, tid, a, ANSWERS, NOW) == service.SignupResult(CONFIRMED, True)
    assert (await service.sign_up(session, tid, b, ["X", "2"], NOW)).status == CONFIRMED
    third = await service.sign_up(session, tid, c, ["Y", "Some"], NOW)
    fourth = await service.sign_up(session, tid, d, ["Z", "1"], NOW)
    await session.commit()
    assert (third.status, third.position, fourth.position) == (WAITLISTED, 1, 2)
    state = await signups(session, tid)
    assert state[a].answers == ["Lyon Sénégal", "New"] and state[b].answers == ["X", "Some"]
    assert state[d].answers == ["Z", "New"]
    # Confirmed participants are Going on every session; the waitlist is not.
    assert list((await going(session, tid)).values()) == [{a, b}, {a, b}]
    assert await service.waitlist_position(session, tid, d) == 2
    assert await service.seats_left(session, training) == 0


async def test_refused_sign_ups_change_nothing(session: AsyncSession) -> None:
    org = await organization(session)
    a, b = await add_members(session, org, 2)
    training = await opened(session, org)
    tid = training.id or 0
    await service.sign_up(session, tid, a, ANSWERS, NOW)
    await session.commit()
    before = {m: (s.status, s.seq, s.answers) for m, s in (await signups(session, tid)).items()}
    cases = [
        (a, ANSWERS, NOW, "already_signed_up"),
        (b, ["only one"], NOW, "answers_count"),
        (b, ["Org", "Expert"], NOW, "bad_option"),
        (b, ["  ", "New"], NOW, "answer_empty"),
        (b, ANSWERS, FIRST - timedelta(days=1), "deadline_passed"),
        (b, ANSWERS, FIRST + timedelta(days=1), "deadline_passed"),
    ]
    for member, answers, now, reason in cases:
        with pytest.raises(TrainingError) as raised:
            await service.sign_up(session, tid, member, answers, now)
        assert raised.value.reason == reason
        await session.rollback()
    with pytest.raises(TrainingError, match="not_found"):
        await service.sign_up(session, 999_999, b, ANSWERS, NOW)
    await session.refresh(org)  # expired by the rollbacks
    await session.refresh(training)
    unpublished = await draft(session, org)
    with pytest.raises(TrainingError, match="not_found"):
        await service.sign_up(session, unpublished.id or 0, b, ANSWERS, NOW)
    await service.cancel_training(session, training, NOW)
    await session.commit()
    with pytest.raises(TrainingError, match="cancelled"):
        await service.sign_up(session, tid, b, ANSWERS, NOW)
    await session.rollback()
    after = {m: (s.status, s.seq, s.answers) for m, s in (await signups(session, tid)).items()}
    assert after == before


async def test_100_members_at_once_for_10_seats(engine: AsyncEngine, session: AsyncSession) -> None:
    org = await organization(session)
    people = await add_members(session, org, 100)
    training = await opened(session, org, capacity=10)
    tid = training.id or 0
    results = await concurrently(
        engine, [lambda s, m=m: service.sign_up(s, tid, m, ANSWERS, NOW) for m in people], TrainingError
    )
    assert not [r for r in results if isinstance(r, Exception)]
    rows = sorted((await signups(session, tid)).values(), key=lambda row: row.seq)
    assert [row.seq for row in rows] == list(range(1, 101))  # every sign-up got its own place
    assert [row.status for row in rows] == [CONFIRMED] * 10 + [WAITLISTED] * 90  # in tap order
    assert sorted(r.position for r in results if r.status == WAITLISTED) == list(range(1, 91))
    confirmed = {row.member_id for row in rows[:10]}
    assert list((await going(session, tid)).values()) == [confirmed, confirmed]


async def test_cancellation_promotes_exactly_the_next_in_line(
    engine: AsyncEngine, session: AsyncSession
) -> None:
    training, people = await signed_up(session, 8, capacity=3)
    tid = training.id or 0
    await session.commit()
    left = await service.cancel_signup(session, tid, people[1], NOW)
    await session.commit()
    assert (left.status, left.promoted) == (CANCELLED, (people[3],))
    assert await notices(session, tid, "promoted") == [people[3]]
    assert next(iter((await going(session, tid)).values())) == {people[0], people[2], people[3]}
    # Leaving the waitlist frees no seat; positions close up.
    assert (await service.cancel_signup(session, tid, people[5], NOW)).promoted == ()
    assert await service.waitlist_position(session, tid, people[6]) == 2
    # Three confirmed leave at the same moment: the next three in line, each told once.
    confirmed = [people[0], people[2], people[3]]
    await session.commit()
    results = await concurrently(
        engine, [lambda s, m=m: service.cancel_signup(s, tid, m, NOW) for m in confirmed], TrainingError
    )
    assert sorted(p for r in results for p in r.promoted) == sorted([people[4], people[6], people[7]])
    state = await signups(session, tid)
    assert sorted(m for m, s in state.items() if s.status == CONFIRMED) == sorted(
        [people[4], people[6], people[7]]
    )
    assert await notices(session, tid, "promoted") == [people[3], *sorted([people[4], people[6], people[7]])]
    # The one who left comes back: at the end of the line.
    back = await service.sign_up(session, tid, people[1], ANSWERS, NOW)
    assert (back.status, back.position) == (WAITLISTED, 1)
    with pytest.raises(TrainingError, match="not_signed_up"):
        await service.cancel_signup(session, tid, people[5], NOW)
    await session.rollback()
    # After the deadline a seat can no longer be given up.
    with pytest.raises(TrainingError, match="deadline_passed"):
        await service.cancel_signup(session, tid, people[4], FIRST - timedelta(hours=1))


async def test_promotion_close_to_a_session_says_so(session: AsyncSession) -> None:
    org = await organization(session)
    a, b = await add_members(session, org, 2)
    soon = NOW + timedelta(hours=30)
    training = await opened(session, org, capacity=1, sessions=two_sessions(soon), signup_deadline=None)
    tid = training.id or 0
    await service.sign_up(session, tid, a, ANSWERS, NOW)
    await service.sign_up(session, tid, b, ANSWERS, NOW)
    await service.cancel_signup(session, tid, a, NOW)
    await service.sign_up(session, tid, a, ANSWERS, NOW)
    await service.cancel_signup(session, tid, b, soon - timedelta(hours=10))
    await session.commit()
    rows = (
        await session.exec(
            select(TrainingNotice.details)
            .where(TrainingNotice.kind == "promoted")
            .order_by(col(TrainingNotice.id))
        )
    ).all()
    assert [(d["member_id"], d["soon"]) for d in rows] == [(b, False), (a, True)]


async def test_set_capacity_promotes_in_order_and_removal_tells_the_member(session: AsyncSession) -> None:
    training, people = await signed_up(session, 6, capacity=1)
    tid = training.id or 0
    assert await service.set_capacity(session, training, 3, NOW) == people[1:3]
    await session.commit()
    assert await notices(session, tid, "promoted") == people[1:3]
    assert await service.set_capacity(session, training, 1, NOW) == []  # fewer take no seat back
    await session.commit()
    state = await signups(session, tid)
    assert [state[m].status for m in people] == [CONFIRMED] * 3 + [WAITLISTED] * 3
    with pytest.raises(TrainingError, match="capacity_invalid"):
        await service.set_capacity(session, training, -1, NOW)
    # A coordinator removes one: the seat is not given (3 confirmed for 1 seat), the member is told.
    removed = await service.remove_participant(session, training, people[0], NOW)
    await session.commit()
    assert removed.promoted == () and await notices(session, tid, "removed") == [people[0]]
    roster = await service.roster(session, tid)
    assert [e.member.id for e in roster.confirmed] == people[1:3]
    assert [(e.member.id, e.position) for e in roster.waitlisted] == [
        (m, i) for i, m in enumerate(people[3:], 1)
    ]
    assert [e.member.id for e in roster.cancelled] == [people[0]]


async def test_event_rsvp_and_listings_leave_sessions_alone(session: AsyncSession) -> None:
    org = await organization(session)
    (a,) = await add_members(session, org, 1)
    training = await opened(session, org, capacity=1)
    first = (await service.sessions_of(session, training.id or 0))[0]
    with pytest.raises(EventError, match="not_found"):
        await event_service.rsvp(session, first.id or 0, a, RsvpStatus.GOING, NOW)
    assert (await event_service.upcoming_events(session, org.id, None, NOW)).total == 0


async def test_reminders_go_to_confirmed_participants_only(session: AsyncSession) -> None:
    training, (a, b, c) = await signed_up(session, 3, capacity=2)
    tid = training.id or 0
    await service.cancel_signup(session, tid, b, NOW)  # c is promoted
    await service.sign_up(session, tid, b, ANSWERS, NOW)  # b waits
    await session.commit()
    released = await reminders.release_reminders(session, FIRST - timedelta(hours=23))
    assert released.sent == 1
    rows = (await session.exec(select(OutboxMessage.member_id).where(OutboxMessage.kind == "reminder"))).all()
    assert sorted(rows) == sorted([a, c])


async def test_close_cancel_and_messages(session: AsyncSession) -> None:
    training, (a, b, c) = await signed_up(session, 3, capacity=1)
    tid = training.id or 0
    assert await service.message_participants(session, training, "Bring a laptop <b>", NOW) == 1
    with pytest.raises(TrainingError, match="message_empty"):
        await service.message_participants(session, training, "  ", NOW)
    assert await service.close_training(session, training, NOW) == 2
    await session.commit()
    assert await notices(session, tid, "message") == [a]
    assert await notices(session, tid, "closed") == [b, c]
    with pytest.raises(TrainingError, match="closed"):
        await service.sign_up(session, tid, b, ANSWERS, NOW)
    await session.rollback()
    assert await service.cancel_training(session, training, NOW) == 1  # a, the one confirmed
    await session.commit()
    assert await notices(session, tid, "cancelled") == [a]
    assert {e.status for e in await service.sessions_of(session, tid)} == {EventStatus.CANCELLED}
    assert (await reminders.release_reminders(session, FIRST - timedelta(hours=23))).messages == 0
    with pytest.raises(TrainingError, match="not_editable"):
        await service.cancel_training(session, training, NOW)


async def test_attendance_completion_exports_and_feedback(session: AsyncSession) -> None:
    training, (a, b, c) = await signed_up(session, 3, capacity=2, answers=["=cmd()", "Some"])
    tid = training.id or 0
    first, second = await service.sessions_of(session, tid)
    await service.mark_attendance(session, training, first.id or 0, a, True, NOW)
    await service.mark_attendance(session, training, second.id or 0, a, True, NOW)
    await service.mark_attendance(session, training, first.id or 0, b, True, NOW)
    await service.mark_attendance(session, training, first.id or 0, b, False, NOW)
    with pytest.raises(TrainingError, match="not_signed_up"):
        await service.mark_attendance(session, training, first.id or 0, 999_999, True, NOW)
    await session.commit()
    assert await service.completion(session, tid, a) == (2, 2)
    assert await service.completion(session, tid, b) == (0, 2)
    assert (await service.attendance(session, tid))[(a, first.id or 0)] is True
    mine = await service.my_trainings(session, c, NOW)
    assert [(t.id, s.status, done) for t, s, done in mine] == [(tid, WAITLISTED, (0, 2))]
    roster_rows = list(
        csv.reader(io.StringIO((await service.export_roster_csv(session, training)).decode("utf-8-sig")))
    )
    assert roster_rows[0][-2:] == ["Which organization are you with?", "Level?"]
    assert roster_rows[1][-2:] == ["'=cmd()", "Some"]  # a formula neutralized
    attendance_rows = list(
        csv.reader(io.StringIO((await service.export_attendance_csv(session, training)).decode("utf-8-sig")))
    )
    assert [row[-1] for row in attendance_rows[1:]] == ["2 of 2", "0 of 2"]

    # Before the last session ends nothing happens; after it the attendee gets the survey, once.
    assert await service.send_due_feedback(session, FIRST + timedelta(days=7, minutes=30)) == 0
    after = FIRST + timedelta(days=8)
    assert await service.send_due_feedback(session, after) == 1
    await session.commit()
    assert await service.send_due_feedback(session, after) == 0
    training = await service.get_training(session, tid)
    assert training.status == TrainingStatus.COMPLETED and training.feedback_survey_id
    survey = await session.get(Survey, training.feedback_survey_id)
    assert survey is not None and survey.status == SurveyStatus.OPEN and survey.audience == {"members": [a]}
    invited = (
        await session.exec(select(OutboxMessage.member_id).where(OutboxMessage.kind == "survey"))
    ).all()
    assert invited == [a]
    assert await service.feedback_averages(session, training) is None
    member = await session.get(Member, a)
    assert member is not None
    response, question = await survey_service.start_or_resume(session, survey, member, after)
    assert question is not None
    comment = await survey_service.answer(session, response, question, 4, after)
    assert comment is not None
    await survey_service.answer(session, response, comment, None, after)  # optional: skipped
    await survey_service.submit(session, response, after)
    await session.commit()
    assert await service.feedback_averages(session, training) == (4.0, 1)


async def test_forget_leaves_trainings_and_promotes(session: AsyncSession) -> None:
    training, (a, b) = await signed_up(session, 2, capacity=1)
    tid = training.id or 0
    exported = await service.member_signups(session, a)
    assert exported[0]["answers"] == {"Which organization are you with?": "Lyon Sénégal", "Level?": "New"}
    # Erasure works after the deadline too.
    assert await service.erase_member(session, a, FIRST - timedelta(hours=2)) == 1
    await session.commit()
    state = await signups(session, tid)
    assert (state[a].status, state[a].answers, state[b].status) == (CANCELLED, [], CONFIRMED)
    assert await notices(session, tid, "promoted") == [b]

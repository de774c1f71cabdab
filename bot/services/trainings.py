"""Trainings: courses of one or more sessions with seats, eligibility questions, a waitlist,
attendance, completion records and a feedback survey.

A training reuses events: each session is an `Event` with `training_id` set, so reminders
(`bot.services.reminders`, to members whose RSVP is Going), calendar files, attendance and check-in
codes work unchanged. Session events never appear in /events, get no event notices and refuse
event RSVPs; seats are held here, at the training level. A confirmed participant has a Going RSVP
on every session not yet started; leaving (or being removed) turns them to Not going.

Nothing here sends. Every notification decision is a `TrainingNotice` row whose outbox rows (kind
"training_notice", ref_id = the notice id) are written in the caller's transaction.

Seat counting follows `bot.services.events`: every transaction that can change who holds a seat
starts with `UPDATE trainings SET signup_seq = signup_seq + 1 WHERE id = :id ... RETURNING ...`
(the row lock on PostgreSQL, the write lock on SQLite), so counting after it is safe and the
returned number is the sign-up's place in tap order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from aiogram.utils.i18n import I18n
from sqlalchemy import func, insert, update
from sqlalchemy import inspect as sa_inspect
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES
from bot.services import events as event_service
from bot.services import surveys as survey_service
from bot.services.audience import audience_filter, count_members, member_pages, pick_version, spreadsheet_cell
from bot.services.events import EventError, effective_end, telegram_length
from bot.services.schedule_math import after_quiet_hours
from bot.services.text import TextRejected, clean_line, fold
from storage.models import (
    DeliveryStatus,
    Event,
    EventStatus,
    Member,
    Membership,
    MemberStatus,
    Organization,
    OutboxMessage,
    QuestionKind,
    Reminder,
    ReminderStatus,
    Rsvp,
    RsvpStatus,
    SignupStatus,
    Survey,
    Training,
    TrainingNotice,
    TrainingSignup,
    TrainingStatus,
)
from storage.types import utcnow

NOTICE_KIND = "training_notice"  # outbox kind of every training notice
MUTE_TOPIC = "trainings"  # members who muted this interest get no "published" notices
TRAINER_MAX = 200
SESSIONS_MAX = 20
DURATION_MAX = 12 * 60  # minutes
QUESTIONS_MAX = 5
QUESTION_MAX = 200
OPTIONS_MAX = 10
OPTION_MAX = 100
ANSWER_MAX = 300
MESSAGE_MAX = 3500  # with the heading the message stays under Telegram's 4096
SOON = timedelta(hours=24)  # a promotion this close to a session says so
FEEDBACK_DAYS = 7  # the feedback survey stays open this long
SESSION_REMINDERS = [1440, 60]
TAKING = (TrainingStatus.OPEN, TrainingStatus.CLOSED)  # sessions go on; seats can move
HOLDING = (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)


def N_(message: str) -> str:
    """Marks a message for extraction; translated later, per language."""
    return message


FEEDBACK_RATING = N_("How would you rate this training?")
FEEDBACK_COMMENT = N_("Anything you would like to tell the trainer or the organizers?")


class TrainingError(Exception):
    """A refused training operation; `reason` is a stable code the handlers translate.

    Validation: the events reasons ("title_empty", "title_too_long", "description_too_long",
    "place_too_long", "bad_url", "bad_timezone", "bad_audience", "bad_language") and
    "capacity_invalid", "trainer_too_long", "no_sessions", "too_many_sessions", "session_past",
    "duration_invalid", "sessions_overlap", "deadline_after_start", "deadline_in_past",
    "too_many_questions", "question_empty", "question_too_long", "options_count",
    "option_empty", "option_too_long", "options_duplicate", "message_empty", "message_too_long".
    Answers: "answers_count", "answer_empty", "answer_too_long", "bad_option".
    State: "not_found", "not_editable", "cancelled", "closed", "deadline_passed",
    "already_signed_up", "not_signed_up", "not_a_session".
    `limit` is the maximum for the "…_too_long", "too_many_…" and "…_invalid" reasons.
    """

    def __init__(self, reason: str, limit: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


# -- validation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInput:
    starts_at: datetime
    duration_minutes: int
    place: str | None = None
    online_url: str | None = None


def _line(text: str | None, limit: int, empty: str, too_long: str) -> str:
    try:
        cleaned = clean_line(text, limit)
    except TextRejected as error:
        raise TrainingError(empty if error.reason == "empty" else too_long, limit) from None
    if telegram_length(cleaned) > limit:
        raise TrainingError(too_long, limit)
    return cleaned


def validate_capacity(value: int | str | None) -> int:
    try:
        capacity = event_service.validate_capacity(value)
    except EventError:
        capacity = None
    if capacity is None:
        raise TrainingError("capacity_invalid", event_service.CAPACITY_MAX)
    return capacity


def validate_questions(questions: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """At most five questions of up to 200 characters; each a choice of 2–10 options of up to 100
    characters, or (no options) a free text answer."""
    questions = list(questions or [])
    if len(questions) > QUESTIONS_MAX:
        raise TrainingError("too_many_questions", QUESTIONS_MAX)
    cleaned = []
    for question in questions:
        text = _line(question.get("text"), QUESTION_MAX, "question_empty", "question_too_long")
        options = [
            _line(option, OPTION_MAX, "option_empty", "option_too_long")
            for option in question.get("options") or []
        ]
        if len(options) == 1 or len(options) > OPTIONS_MAX:
            raise TrainingError("options_count", OPTIONS_MAX)
        if len({fold(option) for option in options}) != len(options):
            raise TrainingError("options_duplicate")
        cleaned.append({"text": text, "options": options})
    return cleaned


def validate_answer(question: dict[str, Any], raw: str | None) -> str:
    """One eligibility answer: a choice (its text, or its number 1, 2, …, as typed or from a
    button) returned as the option's own text, or a free text line of up to 300 characters."""
    options: list[str] = question.get("options") or []
    if not options:
        return _line(raw, ANSWER_MAX, "answer_empty", "answer_too_long")
    typed = fold(raw or "")
    if not typed:
        raise TrainingError("answer_empty")
    for number, option in enumerate(options, start=1):
        if typed in (fold(option), str(number)):
            return option
    raise TrainingError("bad_option")


def validate_answers(questions: Sequence[dict[str, Any]], answers: Sequence[str]) -> list[str]:
    if len(answers) != len(questions):
        raise TrainingError("answers_count", len(questions))
    return [validate_answer(question, answer) for question, answer in zip(questions, answers, strict=True)]


def validate_sessions(sessions: Sequence[SessionInput], now: datetime) -> list[SessionInput]:
    """1–20 sessions in the future, 1 minute – 12 hours long, not overlapping; sorted by start."""
    if not sessions:
        raise TrainingError("no_sessions")
    if len(sessions) > SESSIONS_MAX:
        raise TrainingError("too_many_sessions", SESSIONS_MAX)
    cleaned = []
    for item in sorted(sessions, key=lambda s: s.starts_at):
        if item.starts_at.tzinfo is None:
            raise ValueError("naive datetime")
        if item.starts_at <= now:
            raise TrainingError("session_past")
        if isinstance(item.duration_minutes, bool) or not 1 <= int(item.duration_minutes) <= DURATION_MAX:
            raise TrainingError("duration_invalid", DURATION_MAX)
        try:
            place = event_service.validate_place(item.place)
            url = event_service.validate_url(item.online_url)
        except EventError as error:
            raise TrainingError(error.reason, error.limit) from None
        cleaned.append(SessionInput(item.starts_at, int(item.duration_minutes), place, url))
    for before, after in pairwise(cleaned):
        if before.starts_at + timedelta(minutes=before.duration_minutes) > after.starts_at:
            raise TrainingError("sessions_overlap")
    return cleaned


FIELDS = (
    "title",
    "description",
    "language",
    "teaching_languages",
    "trainer",
    "capacity",
    "signup_deadline",
    "timezone",
    "questions",
    "translations",
    "audience",
    "sessions",
)


def validate_training(now: datetime, **fields: Any) -> dict[str, Any]:
    """The fields of a new training (`create_training`'s keywords; title, capacity and sessions
    required) validated and normalized; writes nothing. Without a deadline, sign-ups close when
    the first session starts."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not training fields: {sorted(unknown)}")
    try:
        cleaned: dict[str, Any] = {
            "title": event_service.validate_title(fields.get("title") or ""),
            "description": event_service.validate_description(fields.get("description")),
            "timezone": event_service.validate_timezone(fields.get("timezone") or "UTC"),
            "translations": event_service.validate_translations(fields.get("translations")),
            "audience": event_service.validate_audience(fields.get("audience")),
        }
    except EventError as error:
        raise TrainingError(error.reason, error.limit) from None
    language = fields.get("language") or "en"
    teaching = list(dict.fromkeys(fields.get("teaching_languages") or [language]))
    if any(not isinstance(code, str) or not 2 <= len(code) <= 8 for code in [language, *teaching]):
        raise TrainingError("bad_language")
    cleaned["language"], cleaned["teaching_languages"] = language, teaching
    trainer = fields.get("trainer")
    cleaned["trainer"] = (
        _line(trainer, TRAINER_MAX, "trainer_too_long", "trainer_too_long")
        if trainer and trainer.strip()
        else ""
    )
    cleaned["capacity"] = validate_capacity(fields.get("capacity"))
    cleaned["questions"] = validate_questions(fields.get("questions"))
    sessions = validate_sessions(fields.get("sessions") or [], now)
    cleaned["sessions"] = sessions
    deadline = fields.get("signup_deadline")
    if deadline is not None:
        if deadline.tzinfo is None:
            raise ValueError("naive datetime")
        if deadline > sessions[0].starts_at:
            raise TrainingError("deadline_after_start")
        if deadline <= now:
            raise TrainingError("deadline_in_past")
    cleaned["signup_deadline"] = deadline or sessions[0].starts_at
    return cleaned


# -- languages ---------------------------------------------------------------------------------


def version_for(training: Training, member_language: str | None, default_language: str) -> str:
    """The version of title/description a member gets (see `pick_version`)."""
    return pick_version(training.language, training.translations, member_language, default_language)


def training_text(training: Training, version: str) -> tuple[str, str]:
    """(title, description) in `version`; a translation without description falls back."""
    if version == training.language or version not in training.translations:
        return training.title, training.description
    entry = training.translations[version]
    return entry.get("title") or training.title, entry.get("description") or training.description


# -- creating and publishing ---------------------------------------------------------------------


async def get_training(session: AsyncSession, training_id: int) -> Training:
    training = (
        await session.exec(
            select(Training).where(Training.id == training_id).execution_options(populate_existing=True)
        )
    ).first()
    if training is None:
        raise TrainingError("not_found")
    return training


async def fresh(session: AsyncSession, training: Training) -> Training:
    """The training as stored now (also when the caller's copy was expired by a rollback)."""
    identity = sa_inspect(training).identity
    return await get_training(session, int(identity[0]) if identity else training.id or 0)


async def sessions_of(session: AsyncSession, training_id: int) -> list[Event]:
    """The training's session events, by start."""
    result = await session.exec(
        select(Event)
        .where(Event.training_id == training_id)
        .order_by(col(Event.starts_at), col(Event.id))
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def create_training(
    session: AsyncSession,
    organization: Organization,
    creator: Member | None,
    *,
    title: str,
    description: str = "",
    language: str = "en",
    teaching_languages: Sequence[str] | None = None,
    trainer: str | None = None,
    capacity: int | str,
    signup_deadline: datetime | None = None,
    timezone: str = "UTC",
    questions: Sequence[dict[str, Any]] | None = None,
    translations: dict[str, dict[str, str]] | None = None,
    audience: dict[str, Any] | None = None,
    sessions: Sequence[SessionInput],
    now: datetime,
) -> Training:
    """A draft training and its draft session events. Everything is validated first: on
    TrainingError nothing was written."""
    values = validate_training(
        now,
        title=title,
        description=description,
        language=language,
        teaching_languages=list(teaching_languages or []),
        trainer=trainer,
        capacity=capacity,
        signup_deadline=signup_deadline,
        timezone=timezone,
        questions=questions,
        translations=translations,
        audience=audience,
        sessions=sessions,
    )
    items: list[SessionInput] = values.pop("sessions")
    training = Training(
        organization_id=organization.id or 0,
        created_by_member_id=creator.id if creator else None,
        status=TrainingStatus.DRAFT,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(training)
    await session.flush()
    for item in items:
        event = await event_service.create_event(
            session,
            organization_id=organization.id or 0,
            title=training.title,
            description=training.description,
            language=training.language,
            translations=training.translations,
            starts_at=item.starts_at,
            ends_at=item.starts_at + timedelta(minutes=item.duration_minutes),
            timezone=training.timezone,
            place=item.place,
            online_url=item.online_url,
            reminder_offsets=SESSION_REMINDERS,
            created_by_member_id=training.created_by_member_id,
            now=now,
        )
        event.training_id = training.id
        session.add(event)
    await session.flush()
    return training


async def delete_draft(session: AsyncSession, training: Training) -> None:
    """A draft was never seen by members: it and its sessions can simply go."""
    if training.status != TrainingStatus.DRAFT:
        raise TrainingError("not_editable")
    for event in await sessions_of(session, training.id or 0):
        await session.delete(event)
    await session.flush()
    await session.delete(training)
    await session.flush()


def _recipient_query() -> Any:
    return select(Member.id, Member.telegram_id, Member.language, Member.timezone).where(
        Member.status == MemberStatus.ACTIVE,
        col(Member.consent_at).is_not(None),
        col(Member.telegram_id).is_not(None),
    )


def _audience_query(training: Training) -> Any:
    return (
        select(Member.id, Member.telegram_id, Member.language, Member.timezone)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(audience_filter(training.organization_id, training.audience, MUTE_TOPIC))
    )


async def count_audience(session: AsyncSession, training: Training) -> int:
    """How many members publishing would notify (for the coordinator's preview)."""
    return await count_members(session, training.organization_id, training.audience, MUTE_TOPIC)


def _outbox_row(
    notice_id: int,
    recipient: Any,
    training: Training,
    organization: Organization,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> dict[str, Any]:
    """`language` is the member's interface language; the payload carries `version` (the language
    of the title/description they get) and their `timezone`."""
    member_id, chat_id, language, zone = recipient
    return {
        "kind": NOTICE_KIND,
        "ref_id": notice_id,
        "member_id": member_id,
        "chat_id": chat_id,
        "language": language or organization.default_language,
        "payload": {
            "training_id": training.id,
            **payload,
            "version": version_for(training, language, organization.default_language),
            "timezone": zone or organization.timezone,
        },
        "status": DeliveryStatus.PENDING,
        "not_before": not_before,
        "attempts": 0,
        "created_at": now,
    }


async def _new_notice(
    session: AsyncSession, training_id: int, kind: str, details: dict[str, Any], now: datetime
) -> int:
    notice = TrainingNotice(training_id=training_id, kind=kind, details=details, created_at=now)
    session.add(notice)
    await session.flush()
    assert notice.id is not None
    return notice.id


async def _insert_outbox(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await (await session.connection()).execute(insert(OutboxMessage), rows)


async def _organization(session: AsyncSession, training: Training) -> Organization:
    organization = await session.get(Organization, training.organization_id)
    assert organization is not None
    return organization


async def _notify(
    session: AsyncSession,
    training: Training,
    kind: str,
    details: dict[str, Any],
    statuses: Sequence[SignupStatus],
    now: datetime,
    *,
    member_ids: Sequence[int] | None = None,
) -> int:
    """One notice to the participants whose sign-up is in `statuses` (or to `member_ids`)."""
    organization = await _organization(session, training)
    notice_id = await _new_notice(session, training.id or 0, kind, details, now)
    query = _recipient_query()
    if member_ids is not None:
        query = query.where(col(Member.id).in_(member_ids))
    else:
        query = query.join(TrainingSignup, col(TrainingSignup.member_id) == col(Member.id)).where(
            TrainingSignup.training_id == training.id, col(TrainingSignup.status).in_(statuses)
        )
    total = 0
    payload = {"notice": kind, **details}
    async for page in member_pages(session, query):
        rows = [_outbox_row(notice_id, row, training, organization, payload, now, now) for row in page]
        await _insert_outbox(session, rows)
        total += len(rows)
    return total


async def publish_training(
    session: AsyncSession, training: Training, organization: Organization, now: datetime
) -> int:
    """Open a draft for sign-ups: its sessions are published (reminders scheduled, no event notice)
    and a "published" notice goes to the audience, each member after their quiet hours. Returns how
    many members are notified."""
    training = await fresh(session, training)
    if training.status != TrainingStatus.DRAFT:
        raise TrainingError("not_editable")
    if training.organization_id != organization.id:
        raise ValueError("training of another organization")
    sessions = await sessions_of(session, training.id or 0)
    if not sessions:
        raise TrainingError("no_sessions")
    if any(event.starts_at <= now for event in sessions):
        raise TrainingError("session_past")
    if training.signup_deadline is not None and training.signup_deadline <= now:
        raise TrainingError("deadline_in_past")
    training.status = TrainingStatus.OPEN
    training.updated_at = now
    session.add(training)
    await session.flush()
    for event in sessions:
        await event_service.publish(session, event, organization, now, announce=False)
    notice_id = await _new_notice(session, training.id or 0, "published", {}, now)
    closes = training.signup_deadline or sessions[0].starts_at
    total = 0
    async for page in member_pages(session, _audience_query(training)):
        rows = []
        for recipient in page:
            zone = recipient[3] or organization.timezone
            not_before = after_quiet_hours(now, zone, organization.quiet_start, organization.quiet_end)
            if not_before >= closes:  # quiet until sign-ups close: better now than never
                not_before = now
            payload = {"notice": "published"}
            rows.append(_outbox_row(notice_id, recipient, training, organization, payload, not_before, now))
        await _insert_outbox(session, rows)
        total += len(rows)
    return total


# -- the lock ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Locked:
    seq: int
    status: TrainingStatus
    capacity: int
    signup_deadline: datetime | None


async def _lock(session: AsyncSession, training_id: int, *conditions: Any) -> _Locked | None:
    """The first statement of every seat-changing transaction (see the module docstring)."""
    statement = (
        update(Training)
        .where(col(Training.id) == training_id, *conditions)
        .values(signup_seq=col(Training.signup_seq) + 1)
        .returning(
            col(Training.signup_seq),
            col(Training.status),
            col(Training.capacity),
            col(Training.signup_deadline),
        )
    )
    row = (await (await session.connection()).execute(statement)).first()
    if row is None:
        return None
    seq, status, capacity, deadline = row
    return _Locked(int(seq), TrainingStatus(status), int(capacity), deadline)


async def _refused(session: AsyncSession, training_id: int, now: datetime) -> TrainingError:
    """Why a training does not take sign-ups (nothing was written)."""
    try:
        training = await get_training(session, training_id)
    except TrainingError as error:
        return error
    if training.status == TrainingStatus.DRAFT:
        return TrainingError("not_found")
    if training.status == TrainingStatus.CANCELLED:
        return TrainingError("cancelled")
    if training.status != TrainingStatus.OPEN:
        return TrainingError("closed")
    return TrainingError("deadline_passed")


def _deadline_open(now: datetime) -> Any:
    return (col(Training.signup_deadline).is_(None)) | (col(Training.signup_deadline) > now)


# -- sign-ups ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignupResult:
    status: SignupStatus
    changed: bool
    position: int | None = None  # place on the waitlist, 1 = next in line
    promoted: tuple[int, ...] = ()  # members given a seat because of this change


async def _signup(session: AsyncSession, training_id: int, member_id: int) -> TrainingSignup | None:
    result = await session.exec(
        select(TrainingSignup)
        .where(TrainingSignup.training_id == training_id, TrainingSignup.member_id == member_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def _count(session: AsyncSession, training_id: int, status: SignupStatus) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(TrainingSignup)
        .where(TrainingSignup.training_id == training_id, TrainingSignup.status == status)
    )
    return int(result.one())


async def _position(session: AsyncSession, training_id: int, seq: int) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(TrainingSignup)
        .where(
            TrainingSignup.training_id == training_id,
            TrainingSignup.status == SignupStatus.WAITLISTED,
            col(TrainingSignup.seq) <= seq,
        )
    )
    return int(result.one())


async def waitlist_position(session: AsyncSession, training_id: int, member_id: int) -> int | None:
    signup = await _signup(session, training_id, member_id)
    if signup is None or signup.status != SignupStatus.WAITLISTED:
        return None
    return await _position(session, training_id, signup.seq)


async def my_signup(session: AsyncSession, training_id: int, member_id: int) -> TrainingSignup | None:
    return await _signup(session, training_id, member_id)


async def signup_counts(session: AsyncSession, training_id: int) -> dict[SignupStatus, int]:
    """Sign-ups per status, every status present."""
    result = await session.exec(
        select(TrainingSignup.status, func.count())
        .where(TrainingSignup.training_id == training_id)
        .group_by(TrainingSignup.status)
    )
    found = {SignupStatus(status): int(count) for status, count in result.all()}
    return {status: found.get(status, 0) for status in SignupStatus}


async def seats_left(session: AsyncSession, training: Training) -> int:
    return max(0, training.capacity - await _count(session, training.id or 0, SignupStatus.CONFIRMED))


async def _set_rsvps(
    session: AsyncSession, training_id: int, member_ids: Sequence[int], going: bool, seq: int, now: datetime
) -> None:
    """Going (or Not going) on every session that has not started, for these members."""
    if not member_ids:
        return
    upcoming = [
        event
        for event in await sessions_of(session, training_id)
        if event.starts_at > now and event.status != EventStatus.CANCELLED
    ]
    if not upcoming:
        return
    status = RsvpStatus.GOING if going else RsvpStatus.NOT_GOING
    existing = {
        (rsvp.event_id, rsvp.member_id): rsvp
        for rsvp in (
            await session.exec(
                select(Rsvp)
                .where(
                    col(Rsvp.event_id).in_([event.id for event in upcoming]),
                    col(Rsvp.member_id).in_(member_ids),
                )
                .execution_options(populate_existing=True)
            )
        ).all()
    }
    for event in upcoming:
        for member_id in member_ids:
            rsvp = existing.get((event.id or 0, member_id))
            if rsvp is None:
                if not going:
                    continue
                rsvp = Rsvp(
                    event_id=event.id or 0, member_id=member_id, status=status, seq=seq, created_at=now
                )
            rsvp.status, rsvp.seq, rsvp.updated_at = status, seq, now
            session.add(rsvp)
    await session.flush()


async def next_session(session: AsyncSession, training_id: int, now: datetime) -> Event | None:
    return next(
        (
            event
            for event in await sessions_of(session, training_id)
            if event.starts_at > now and event.status != EventStatus.CANCELLED
        ),
        None,
    )


async def _fill_seats(session: AsyncSession, training_id: int, locked: _Locked, now: datetime) -> list[int]:
    """Give free seats to the waitlist in tap order; each promoted member gets Going RSVPs and a
    "promoted" notice (saying so when the next session is less than 24 hours away). Call with the
    training locked."""
    if locked.status not in TAKING:
        return []
    free = locked.capacity - await _count(session, training_id, SignupStatus.CONFIRMED)
    if free <= 0:
        return []
    waiting = list(
        (
            await session.exec(
                select(TrainingSignup)
                .where(
                    TrainingSignup.training_id == training_id,
                    TrainingSignup.status == SignupStatus.WAITLISTED,
                )
                .order_by(col(TrainingSignup.seq))
                .limit(free)
                .execution_options(populate_existing=True)
            )
        ).all()
    )
    if not waiting:
        return []
    for signup in waiting:
        signup.status, signup.updated_at = SignupStatus.CONFIRMED, now
        session.add(signup)
    await session.flush()
    promoted = [signup.member_id for signup in waiting]
    await _set_rsvps(session, training_id, promoted, True, locked.seq, now)
    upcoming = await next_session(session, training_id, now)
    soon = upcoming is not None and upcoming.starts_at - now < SOON
    training = await get_training(session, training_id)
    for member_id in promoted:
        details = {"member_id": member_id, "soon": soon}
        await _notify(session, training, "promoted", details, (), now, member_ids=[member_id])
    return promoted


async def sign_up(
    session: AsyncSession, training_id: int, member_id: int, answers: Sequence[str], now: datetime
) -> SignupResult:
    """Sign up with the answers to the eligibility questions: confirmed while seats are free (and
    nobody waits), else waitlisted in tap order. Refused ("not_found", "cancelled", "closed",
    "deadline_passed", "already_signed_up", answer reasons) without any change. A member who left
    may sign up again, at the end of the line. Runs in the caller's transaction."""
    locked = await _lock(session, training_id, Training.status == TrainingStatus.OPEN, _deadline_open(now))
    if locked is None:
        raise await _refused(session, training_id, now)
    training = await get_training(session, training_id)
    cleaned = validate_answers(training.questions, list(answers))
    signup = await _signup(session, training_id, member_id)
    if signup is not None and signup.status in HOLDING:
        raise TrainingError("already_signed_up")
    confirmed = await _count(session, training_id, SignupStatus.CONFIRMED)
    waiting = await _count(session, training_id, SignupStatus.WAITLISTED)
    status = (
        SignupStatus.CONFIRMED if confirmed < locked.capacity and not waiting else SignupStatus.WAITLISTED
    )
    if signup is None:
        signup = TrainingSignup(
            training_id=training_id, member_id=member_id, status=status, seq=locked.seq, created_at=now
        )
    signup.status, signup.seq, signup.answers, signup.updated_at = status, locked.seq, cleaned, now
    session.add(signup)
    await session.flush()
    if status == SignupStatus.CONFIRMED:
        await _set_rsvps(session, training_id, [member_id], True, locked.seq, now)
        return SignupResult(status, True)
    return SignupResult(status, True, await _position(session, training_id, locked.seq))


async def _leave(
    session: AsyncSession, training_id: int, locked: _Locked, signup: TrainingSignup, now: datetime
) -> SignupResult:
    was_confirmed = signup.status == SignupStatus.CONFIRMED
    signup.status, signup.updated_at = SignupStatus.CANCELLED, now
    session.add(signup)
    await session.flush()
    promoted: list[int] = []
    if was_confirmed:
        await _set_rsvps(session, training_id, [signup.member_id], False, locked.seq, now)
        promoted = await _fill_seats(session, training_id, locked, now)
    return SignupResult(SignupStatus.CANCELLED, True, None, tuple(promoted))


async def cancel_signup(
    session: AsyncSession, training_id: int, member_id: int, now: datetime
) -> SignupResult:
    """The member leaves: a confirmed seat is given up before the deadline only (then the first in
    line is promoted, atomically); a place on the waitlist can be left at any time while the
    training runs. Refused: "not_found", "cancelled", "closed" (completed), "not_signed_up",
    "deadline_passed"."""
    locked = await _lock(session, training_id, col(Training.status).in_(TAKING))
    if locked is None:
        raise await _refused(session, training_id, now)
    signup = await _signup(session, training_id, member_id)
    if signup is None or signup.status not in HOLDING:
        raise TrainingError("not_signed_up")
    if (
        signup.status == SignupStatus.CONFIRMED
        and locked.signup_deadline is not None
        and locked.signup_deadline <= now
    ):
        raise TrainingError("deadline_passed")
    return await _leave(session, training_id, locked, signup, now)


async def remove_participant(
    session: AsyncSession, training: Training, member_id: int, now: datetime
) -> SignupResult:
    """A coordinator removes someone (confirmed or waitlisted, deadline or not): they are told
    ("removed" notice) and their seat goes to the next in line."""
    training = await fresh(session, training)
    locked = await _lock(session, training.id or 0, col(Training.status).in_(TAKING))
    if locked is None:
        raise await _refused(session, training.id or 0, now)
    signup = await _signup(session, training.id or 0, member_id)
    if signup is None or signup.status not in HOLDING:
        raise TrainingError("not_signed_up")
    result = await _leave(session, training.id or 0, locked, signup, now)
    await _notify(session, training, "removed", {"member_id": member_id}, (), now, member_ids=[member_id])
    return result


async def set_capacity(
    session: AsyncSession, training: Training, capacity: int | str, now: datetime
) -> list[int]:
    """Change the number of seats. More seats promote the waitlist at once, in order (each is told);
    fewer take no seat back. Returns the promoted member ids."""
    training = await fresh(session, training)
    value = validate_capacity(capacity)
    if training.status in (TrainingStatus.CANCELLED, TrainingStatus.COMPLETED):
        raise TrainingError("not_editable")
    locked = await _lock(session, training.id or 0)
    if locked is None:
        raise TrainingError("not_found")
    await (await session.connection()).execute(
        update(Training).where(col(Training.id) == training.id).values(capacity=value, updated_at=now)
    )
    training.capacity = value
    return await _fill_seats(
        session, training.id or 0, _Locked(locked.seq, locked.status, value, locked.signup_deadline), now
    )


async def withdraw_member(session: AsyncSession, member_id: int, now: datetime) -> int:
    """Leave every running training (for `/forget`): confirmed seats go to the next in line, whatever
    the deadline. Returns how many sign-ups ended."""
    training_ids = (
        await session.exec(
            select(TrainingSignup.training_id)
            .join(Training, col(Training.id) == col(TrainingSignup.training_id))
            .where(
                TrainingSignup.member_id == member_id,
                col(TrainingSignup.status).in_(HOLDING),
                col(Training.status).in_(TAKING),
            )
        )
    ).all()
    ended = 0
    for training_id in sorted(training_ids):
        locked = await _lock(session, training_id, col(Training.status).in_(TAKING))
        signup = await _signup(session, training_id, member_id)
        if locked is not None and signup is not None and signup.status in HOLDING:
            await _leave(session, training_id, locked, signup, now)
            ended += 1
    return ended


# -- roster, messages, attendance, exports -----------------------------------------------------------


@dataclass(frozen=True)
class RosterEntry:
    member: Member
    status: SignupStatus
    seq: int
    answers: list[str]
    position: int | None  # on the waitlist, 1 = next in line
    signed_up_at: datetime


@dataclass(frozen=True)
class Roster:
    confirmed: list[RosterEntry]
    waitlisted: list[RosterEntry]  # in order
    cancelled: list[RosterEntry]


async def roster(session: AsyncSession, training_id: int) -> Roster:
    """Everyone who signed up, by status, each list in tap order."""
    rows = (
        await session.exec(
            select(TrainingSignup, Member)
            .join(Member, col(Member.id) == col(TrainingSignup.member_id))
            .where(TrainingSignup.training_id == training_id)
            .order_by(col(TrainingSignup.seq))
            .execution_options(populate_existing=True)
        )
    ).all()
    lists: dict[SignupStatus, list[RosterEntry]] = {status: [] for status in SignupStatus}
    for signup, member in rows:
        status = SignupStatus(signup.status)
        position = len(lists[status]) + 1 if status == SignupStatus.WAITLISTED else None
        lists[status].append(
            RosterEntry(member, status, signup.seq, list(signup.answers), position, signup.created_at)
        )
    return Roster(
        lists[SignupStatus.CONFIRMED], lists[SignupStatus.WAITLISTED], lists[SignupStatus.CANCELLED]
    )


def validate_message(text: str | None) -> str:
    message = (text or "").strip()
    if not message:
        raise TrainingError("message_empty")
    if telegram_length(message) > MESSAGE_MAX:
        raise TrainingError("message_too_long", MESSAGE_MAX)
    return message


async def message_participants(session: AsyncSession, training: Training, text: str, now: datetime) -> int:
    """A message from the coordinators to every confirmed participant (plain text, escaped when
    shown). Returns how many get it."""
    training = await fresh(session, training)
    message = validate_message(text)
    if training.status in (TrainingStatus.DRAFT, TrainingStatus.CANCELLED):
        raise TrainingError("not_editable")
    return await _notify(session, training, "message", {"text": message}, (SignupStatus.CONFIRMED,), now)


async def _session_of(session: AsyncSession, training: Training, event_id: int) -> Event:
    event = await session.get(Event, event_id)
    if event is None or event.training_id != training.id:
        raise TrainingError("not_a_session")
    return event


async def mark_attendance(
    session: AsyncSession,
    training: Training,
    event_id: int,
    member_id: int,
    attended: bool,
    now: datetime | None = None,
) -> None:
    """Tick (or untick) a participant at a session. Anyone who signed up can be ticked (someone
    promoted after a session started has no RSVP on it yet: one is recorded)."""
    training = await fresh(session, training)
    event = await _session_of(session, training, event_id)
    moment = now or utcnow()
    try:
        await event_service.mark_attendance(session, event_id, member_id, attended, moment)
        return
    except EventError:
        pass
    if await _signup(session, training.id or 0, member_id) is None:
        raise TrainingError("not_signed_up")
    rsvp = Rsvp(
        event_id=event.id or 0,
        member_id=member_id,
        status=RsvpStatus.GOING,
        seq=0,
        attended=attended,
        checked_in_at=moment if attended else None,
        created_at=moment,
        updated_at=moment,
    )
    session.add(rsvp)
    await session.flush()


async def attendance(session: AsyncSession, training_id: int) -> dict[tuple[int, int], bool]:
    """(member id, session event id) → attended, for every RSVP on the sessions."""
    result = await session.exec(
        select(Rsvp.member_id, Rsvp.event_id, Rsvp.attended)
        .join(Event, col(Event.id) == col(Rsvp.event_id))
        .where(Event.training_id == training_id)
    )
    return {(member_id, event_id): bool(attended) for member_id, event_id, attended in result.all()}


async def _session_ids(session: AsyncSession, training_id: int) -> list[int]:
    return [
        event.id or 0
        for event in await sessions_of(session, training_id)
        if event.status != EventStatus.CANCELLED
    ]


async def completion(session: AsyncSession, training_id: int, member_id: int) -> tuple[int, int]:
    """(sessions attended, sessions) for "completed: N of M sessions"."""
    ids = await _session_ids(session, training_id)
    if not ids:
        return 0, 0
    attended = (
        await session.exec(
            select(func.count())
            .select_from(Rsvp)
            .where(col(Rsvp.event_id).in_(ids), Rsvp.member_id == member_id, col(Rsvp.attended).is_(True))
        )
    ).one()
    return int(attended), len(ids)


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _name(member: Member) -> str:
    return spreadsheet_cell(member.display_name or f"#{member.id}")


async def export_roster_csv(session: AsyncSession, training: Training) -> bytes:
    """One row per sign-up: name, username, language, status, waitlist position, when, and the
    answer to each eligibility question (UTF-8 with BOM for Excel)."""
    people = await roster(session, training.id or 0)
    header = ["name", "username", "language", "status", "position", "signed_up_at"]
    header += [spreadsheet_cell(question["text"]) for question in training.questions]
    rows: list[list[Any]] = [header]
    for entry in people.confirmed + people.waitlisted + people.cancelled:
        rows.append(
            [
                _name(entry.member),
                entry.member.username or "",
                entry.member.language or "",
                str(entry.status),
                entry.position or "",
                entry.signed_up_at.isoformat(),
                *(spreadsheet_cell(answer) for answer in entry.answers),
            ]
        )
    return _csv(rows)


async def export_attendance_csv(session: AsyncSession, training: Training) -> bytes:
    """One row per participant (confirmed, or anyone with attendance recorded): a column per
    session ("yes" when attended) and the completion "N of M"."""
    sessions = [e for e in await sessions_of(session, training.id or 0) if e.status != EventStatus.CANCELLED]
    marks = await attendance(session, training.id or 0)
    people = await roster(session, training.id or 0)
    marked = {member_id for (member_id, _event), attended in marks.items() if attended}
    entries = people.confirmed + [e for e in people.waitlisted + people.cancelled if e.member.id in marked]
    header = ["name", "status", *(event.starts_at.isoformat() for event in sessions), "completed"]
    rows: list[list[Any]] = [header]
    for entry in entries:
        ticks = [marks.get((entry.member.id or 0, event.id or 0), False) for event in sessions]
        rows.append(
            [
                _name(entry.member),
                str(entry.status),
                *("yes" if tick else "" for tick in ticks),
                f"{sum(ticks)} of {len(sessions)}",
            ]
        )
    return _csv(rows)


# -- closing, cancelling, completing -------------------------------------------------------------------


async def close_training(session: AsyncSession, training: Training, now: datetime) -> int:
    """No more sign-ups; the sessions go on with the confirmed participants. The waitlist ends:
    those waiting are told ("closed" notice). Returns how many are told."""
    training = await fresh(session, training)
    locked = await _lock(session, training.id or 0, Training.status == TrainingStatus.OPEN)
    if locked is None:
        raise await _refused(session, training.id or 0, now)
    waiting = list(
        (
            await session.exec(
                select(TrainingSignup.member_id).where(
                    TrainingSignup.training_id == training.id,
                    TrainingSignup.status == SignupStatus.WAITLISTED,
                )
            )
        ).all()
    )
    await (await session.connection()).execute(
        update(TrainingSignup)
        .where(
            col(TrainingSignup.training_id) == training.id, TrainingSignup.status == SignupStatus.WAITLISTED
        )
        .values(status=SignupStatus.CANCELLED, updated_at=now)
    )
    await (await session.connection()).execute(
        update(Training)
        .where(col(Training.id) == training.id)
        .values(status=TrainingStatus.CLOSED, updated_at=now)
    )
    training.status = TrainingStatus.CLOSED
    if not waiting:
        return 0
    return await _notify(session, training, "closed", {}, (), now, member_ids=waiting)


async def cancel_training(session: AsyncSession, training: Training, now: datetime) -> int:
    """Cancel: sessions are cancelled (no more reminders), notices not yet sent are dropped, and
    everyone confirmed or waiting gets a "cancelled" notice. Returns how many are told."""
    training = await fresh(session, training)
    if training.status in (TrainingStatus.CANCELLED, TrainingStatus.COMPLETED):
        raise TrainingError("not_editable")
    await _lock(session, training.id or 0)
    was_draft = training.status == TrainingStatus.DRAFT
    await (await session.connection()).execute(
        update(Training)
        .where(col(Training.id) == training.id)
        .values(status=TrainingStatus.CANCELLED, updated_at=now)
    )
    training.status = TrainingStatus.CANCELLED
    events = await sessions_of(session, training.id or 0)
    ids = [event.id for event in events]
    connection = await session.connection()
    await connection.execute(
        update(Event).where(col(Event.id).in_(ids)).values(status=EventStatus.CANCELLED, updated_at=now)
    )
    await connection.execute(
        update(Reminder)
        .where(
            col(Reminder.event_id).in_(ids),
            col(Reminder.status).in_((ReminderStatus.PENDING, ReminderStatus.CLAIMED)),
        )
        .values(status=ReminderStatus.CANCELLED, claimed_at=None)
    )
    notices = select(TrainingNotice.id).where(TrainingNotice.training_id == training.id).scalar_subquery()
    await connection.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == DeliveryStatus.PENDING,
            OutboxMessage.kind == NOTICE_KIND,
            col(OutboxMessage.ref_id).in_(notices),
        )
        .values(status=DeliveryStatus.CANCELLED)
    )
    for event in events:
        await session.refresh(event)
    if was_draft:
        return 0
    return await _notify(session, training, "cancelled", {}, HOLDING, now)


def feedback_questions(language: str) -> tuple[str, str]:
    """The feedback survey's two questions in `language` (English without an i18n context)."""
    i18n = I18n.get_current(no_error=True)
    if i18n is None:
        return FEEDBACK_RATING, FEEDBACK_COMMENT
    return i18n.gettext(FEEDBACK_RATING, locale=language), i18n.gettext(FEEDBACK_COMMENT, locale=language)


async def _feedback_recipients(session: AsyncSession, training_id: int) -> list[int]:
    """Attendees; when no attendance was recorded at all, the confirmed participants."""
    ids = await _session_ids(session, training_id)
    attended = sorted(
        set(
            (
                await session.exec(
                    select(Rsvp.member_id).where(col(Rsvp.event_id).in_(ids), col(Rsvp.attended).is_(True))
                )
            ).all()
        )
    )
    if attended:
        return attended
    confirmed = await session.exec(
        select(TrainingSignup.member_id).where(
            TrainingSignup.training_id == training_id, TrainingSignup.status == SignupStatus.CONFIRMED
        )
    )
    return sorted(confirmed.all())


async def _send_feedback(session: AsyncSession, training: Training, now: datetime) -> Survey | None:
    organization = await _organization(session, training)
    recipients = await _feedback_recipients(session, training.id or 0)
    if not recipients:
        return None
    translations = {lang: entry["title"] for lang, entry in training.translations.items()}
    survey = await survey_service.create_survey(
        session,
        training.organization_id,
        training.title,
        now,
        language=training.language,
        translations=translations,
        audience={"members": recipients},
        closes_at=now + timedelta(days=FEEDBACK_DAYS),
        created_by_member_id=training.created_by_member_id,
    )
    rating, comment = feedback_questions(training.language)
    languages = [lang for lang in SHIPPED_LANGUAGES if lang != training.language]
    rating_translations = {lang: {"text": feedback_questions(lang)[0]} for lang in languages}
    comment_translations = {lang: {"text": feedback_questions(lang)[1]} for lang in languages}
    await survey_service.add_question(
        session,
        survey,
        QuestionKind.RATING,
        rating,
        translations=rating_translations,
        min_value=1,
        max_value=5,
    )
    await survey_service.add_question(
        session, survey, QuestionKind.TEXT, comment, translations=comment_translations, optional=True
    )
    await survey_service.open_survey(session, survey, organization, now)
    return survey


async def send_due_feedback(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: trainings whose last session has ended become completed, and their attendees
    get the feedback survey (rating 1–5 and an optional comment). Idempotent: each training is
    completed once, under its lock. Returns how many trainings were completed; the caller commits."""
    candidates = (
        await session.exec(
            select(Training).where(col(Training.status).in_(TAKING)).order_by(col(Training.id))
        )
    ).all()
    completed = 0
    for training in candidates:
        sessions = [
            e for e in await sessions_of(session, training.id or 0) if e.status != EventStatus.CANCELLED
        ]
        if sessions and max(effective_end(event) for event in sessions) > now:
            continue
        locked = await _lock(session, training.id or 0, col(Training.status).in_(TAKING))
        if locked is None:
            continue  # another instance completed it meanwhile
        await session.refresh(training)
        training.status = TrainingStatus.COMPLETED
        training.updated_at = now
        survey = await _send_feedback(session, training, now)
        training.feedback_survey_id = survey.id if survey else None
        session.add(training)
        await session.flush()
        completed += 1
    return completed


async def feedback_averages(session: AsyncSession, training: Training) -> tuple[float, int] | None:
    """(average rating, number of ratings) of the feedback survey, or None before any."""
    if training.feedback_survey_id is None:
        return None
    survey = await survey_service.get_survey(session, training.feedback_survey_id)
    results = await survey_service.results(session, survey)
    rating = next((q for q in results.questions if q.kind == QuestionKind.RATING), None)
    if rating is None or not rating.answered or rating.average is None:
        return None
    return rating.average, rating.answered


# -- what members see --------------------------------------------------------------------------------


async def _reaches(session: AsyncSession, training: Training, member: Member) -> bool:
    query = (
        select(Member.id)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(Member.id == member.id, audience_filter(training.organization_id, training.audience, None))
    )
    return (await session.exec(query)).first() is not None


async def open_trainings_for(session: AsyncSession, member: Member, now: datetime) -> list[Training]:
    """Open trainings of the member's organizations whose audience includes them and whose sign-up
    deadline has not passed, the soonest sign-up deadline first."""
    organizations = select(Membership.organization_id).where(Membership.member_id == member.id)
    trainings = (
        await session.exec(
            select(Training)
            .where(
                col(Training.organization_id).in_(organizations),
                Training.status == TrainingStatus.OPEN,
                _deadline_open(now),
            )
            .order_by(col(Training.signup_deadline), col(Training.id))
        )
    ).all()
    return [training for training in trainings if await _reaches(session, training, member)]


async def my_trainings(
    session: AsyncSession, member_id: int, now: datetime
) -> list[tuple[Training, TrainingSignup, tuple[int, int]]]:
    """The member's sign-ups (confirmed or waiting; cancelled trainings and completed ones where they
    had a seat are kept for the record), with their completion, newest training first."""
    rows = (
        await session.exec(
            select(Training, TrainingSignup)
            .join(TrainingSignup, col(TrainingSignup.training_id) == col(Training.id))
            .where(
                TrainingSignup.member_id == member_id,
                col(TrainingSignup.status).in_(HOLDING),
                Training.status != TrainingStatus.DRAFT,
            )
            .order_by(col(Training.id).desc())
            .execution_options(populate_existing=True)
        )
    ).all()
    return [
        (training, signup, await completion(session, training.id or 0, member_id))
        for training, signup in rows
    ]


async def member_signups(session: AsyncSession, member_id: int) -> list[dict[str, Any]]:
    """The member's sign-ups with their answers and completion, for `/mydata`."""
    rows = (
        await session.exec(
            select(Training, TrainingSignup)
            .join(TrainingSignup, col(TrainingSignup.training_id) == col(Training.id))
            .where(TrainingSignup.member_id == member_id)
            .order_by(col(TrainingSignup.created_at))
        )
    ).all()
    exported = []
    for training, signup in rows:
        attended, total = await completion(session, training.id or 0, member_id)
        exported.append(
            {
                "training": training.title,
                "status": str(signup.status),
                "answers": dict(zip([q["text"] for q in training.questions], signup.answers, strict=False)),
                "sessions_attended": attended,
                "sessions": total,
                "signed_up_at": signup.created_at.isoformat(),
                "updated_at": signup.updated_at.isoformat(),
            }
        )
    return exported


async def erase_member(session: AsyncSession, member_id: int, now: datetime) -> int:
    """For `/forget`: leave every running training (the next in line is promoted), then erase the
    answers given at sign-up. Returns how many sign-ups ended."""
    ended = await withdraw_member(session, member_id, now)
    await (await session.connection()).execute(
        update(TrainingSignup).where(col(TrainingSignup.member_id) == member_id).values(answers=[])
    )
    return ended

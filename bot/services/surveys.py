"""Surveys and quick polls: questions, answering one question at a time, results and exports.

Nothing here sends. `open_survey` writes one outbox row per member of the audience (kind "survey",
ref_id = survey id) and `due_survey_reminders` one per member who has not submitted (kind
"survey_reminder"), both in the caller's transaction.

Anonymity. An anonymous survey stores no link between a member and their answers once they have
submitted: the response carries a random `respondent_key` and no member id, no start time and a
submission time rounded to the day; the member's `SurveyParticipation` row (which says only
"started"/"submitted", and has no id or timestamps to correlate) holds that key as `progress_token`
while the member is answering, so they can resume after a restart, and the token is erased at
submission and when the survey closes. Export rows of anonymous surveys are ordered by the random key.
Residual: while a member is still answering, the token links them to their partial answers.

Serialization. Every change to a response starts with `UPDATE survey_responses SET seq = seq + 1
... RETURNING` (the row lock on PostgreSQL, the write lock on SQLite, as in `events`), then reads the
survey `FOR SHARE`, so a double tap is serialized and closing waits for submissions in flight.
Lock order everywhere: response, then survey, then participation.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, insert, not_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.audience import (
    AUDIENCE_KEYS,
    PAGE,
    audience_filter,
    member_pages,
    pick_version,
    spreadsheet_cell,
)
from bot.services.events import telegram_length
from bot.services.text import TextRejected, clean_line
from storage.models import (
    DeliveryStatus,
    Member,
    Membership,
    Organization,
    OutboxMessage,
    PollDelivery,
    PollVote,
    QuestionKind,
    ResponseStatus,
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyStatus,
)

KIND = "survey"  # outbox: the invitation (or the native poll)
REMINDER_KIND = "survey_reminder"
POLL_STOP_KIND = "poll_stop"  # outbox: stopPoll on one sent copy of a native poll, once it closes
TITLE_MAX = 300
QUESTION_MAX = 300  # Telegram: poll question 1-300 characters
OPTION_MAX = 100  # Telegram: option text 1-100 characters
OPTIONS_MIN, OPTIONS_MAX = 2, 12  # Telegram allows up to 12 options
QUESTIONS_MAX = 50
TEXT_MAX = 1000
TEXT_DEFAULT = 1000
REMINDER_MAX = 28 * 24 * 60
REMINDER_MIN_GAP = timedelta(hours=1)  # a reminder comes at least this long after the opening
RATING_SCALES = ((1, 5), (0, 10))
NUMBER_LIMIT = 1e12
MIN_GROUP = 5  # attributed breakdowns: smaller groups are suppressed
BREAKDOWNS = ("language", "residence_country", "origin_country")
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.YES_NO)
YES_WORDS = {"yes", "y", "true", "1", "oui", "да", "так", "sí", "si", "ja", "sim", "ndiyo", "نعم"}
NO_WORDS = {"no", "n", "false", "0", "non", "нет", "ні", "nein", "não", "nao", "hapana", "لا"}


class SurveyError(Exception):
    """A refused survey operation; `reason` is a stable code the handlers translate.

    Building: "title_empty", "title_too_long", "question_empty", "question_too_long",
    "options_count", "option_empty", "option_too_long", "options_duplicate", "bad_scale",
    "bad_bounds", "bad_max_length", "bad_kind", "bad_translation", "bad_audience",
    "too_many_questions", "bad_reminder", "bad_times", "no_questions", "not_a_poll".
    State: "not_found", "not_editable", "not_open" (draft or not yet open), "closed", "submitted",
    "stale_question" (not the question being answered: an old button or forged data),
    "incomplete", "anonymous" (no breakdown of an anonymous survey).
    Answers: "required", "not_a_number", "out_of_range", "not_whole", "text_empty",
    "text_too_long", "bad_option", "choose_one", "not_yes_no".
    `limit` is the maximum (or bounds) for the "…_too_long"/"…_range"/"…count" reasons.
    """

    def __init__(self, reason: str, limit: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


# -- building ----------------------------------------------------------------------------------


def _line(text: str | None, limit: int, empty: str, too_long: str) -> str:
    try:
        cleaned = clean_line(text, limit)
    except TextRejected as error:
        raise SurveyError(empty if error.reason == "empty" else too_long, limit) from None
    if telegram_length(cleaned) > limit:
        raise SurveyError(too_long, limit)
    return cleaned


def _options(options: Sequence[str] | None) -> list[str]:
    options = list(options or [])
    if not OPTIONS_MIN <= len(options) <= OPTIONS_MAX:
        raise SurveyError("options_count", (OPTIONS_MIN, OPTIONS_MAX))
    cleaned = [_line(option, OPTION_MAX, "option_empty", "option_too_long") for option in options]
    if len({option.casefold() for option in cleaned}) != len(cleaned):
        raise SurveyError("options_duplicate")
    return cleaned


def _number_or_none(value: Any, reason: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SurveyError(reason)
    return float(value)


def validate_question(
    kind: QuestionKind | str,
    text: str,
    *,
    options: Sequence[str] | None = None,
    translations: dict[str, dict[str, Any]] | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    max_length: int | None = None,
) -> dict[str, Any]:
    """The question's stored fields, cleaned; raises `SurveyError`."""
    try:
        kind = QuestionKind(kind)
    except ValueError:
        raise SurveyError("bad_kind") from None
    fields: dict[str, Any] = {
        "kind": kind,
        "text": _line(text, QUESTION_MAX, "question_empty", "question_too_long"),
        "options": [],
        "min_value": None,
        "max_value": None,
        "max_length": None,
    }
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        fields["options"] = _options(options)
    elif options:
        raise SurveyError("bad_kind")
    if kind == QuestionKind.RATING:
        scale = (1 if min_value is None else min_value, 5 if max_value is None else max_value)
        if scale not in RATING_SCALES:
            raise SurveyError("bad_scale", RATING_SCALES)
        fields["min_value"], fields["max_value"] = float(scale[0]), float(scale[1])
    elif kind == QuestionKind.NUMBER:
        low, high = _number_or_none(min_value, "bad_bounds"), _number_or_none(max_value, "bad_bounds")
        if low is not None and high is not None and low > high:
            raise SurveyError("bad_bounds")
        fields["min_value"], fields["max_value"] = low, high
    elif kind == QuestionKind.TEXT:
        length = TEXT_DEFAULT if max_length is None else max_length
        if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= TEXT_MAX:
            raise SurveyError("bad_max_length", TEXT_MAX)
        fields["max_length"] = length
    cleaned_translations: dict[str, dict[str, Any]] = {}
    for language, version in (translations or {}).items():
        if not isinstance(language, str) or not 2 <= len(language) <= 8 or not isinstance(version, dict):
            raise SurveyError("bad_translation")
        entry: dict[str, Any] = {
            "text": _line(version.get("text"), QUESTION_MAX, "question_empty", "question_too_long")
        }
        if fields["options"]:
            translated = _options(version.get("options"))
            if len(translated) != len(fields["options"]):
                raise SurveyError("bad_translation")
            entry["options"] = translated
        cleaned_translations[language] = entry
    fields["translations"] = cleaned_translations
    return fields


def _validate_audience(audience: dict[str, Any] | None) -> dict[str, Any]:
    audience = dict(audience or {})
    if set(audience) - set(AUDIENCE_KEYS):
        raise SurveyError("bad_audience")
    return audience


def _validate_times(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> None:
    if closes_at is not None and (closes_at <= now or (opens_at is not None and closes_at <= opens_at)):
        raise SurveyError("bad_times")


def _remind_at(survey: Survey) -> datetime | None:
    if survey.reminder_before_minutes is None or survey.closes_at is None:
        return None
    if survey.native_poll and survey.anonymous:
        return None  # Telegram tells nobody who voted in an anonymous poll: no one to skip
    remind_at = survey.closes_at - timedelta(minutes=survey.reminder_before_minutes)
    if survey.opens_at is not None and remind_at < survey.opens_at + REMINDER_MIN_GAP:
        return None  # open for less than the reminder's lead: it would come with (or before) the invitation
    return remind_at


async def create_survey(
    session: AsyncSession,
    organization_id: int,
    title: str,
    now: datetime,
    *,
    language: str = "en",
    translations: dict[str, str] | None = None,
    anonymous: bool = False,
    audience: dict[str, Any] | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    reminder_before_minutes: int | None = 1440,
    native_poll: bool = False,
    created_by_member_id: int | None = None,
) -> Survey:
    """A draft survey (questions are added with `add_question`)."""
    title = _line(title, TITLE_MAX, "title_empty", "title_too_long")
    cleaned = {
        lang: _line(text, TITLE_MAX, "title_empty", "title_too_long")
        for lang, text in (translations or {}).items()
    }
    if reminder_before_minutes is not None and not 1 <= reminder_before_minutes <= REMINDER_MAX:
        raise SurveyError("bad_reminder", REMINDER_MAX)
    _validate_times(opens_at, closes_at, now)
    survey = Survey(
        organization_id=organization_id,
        title=title,
        language=language,
        translations=cleaned,
        anonymous=anonymous,
        audience=_validate_audience(audience),
        opens_at=opens_at,
        closes_at=closes_at,
        reminder_before_minutes=reminder_before_minutes,
        native_poll=native_poll,
        created_by_member_id=created_by_member_id,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    await session.flush()
    return survey


async def get_survey(session: AsyncSession, survey_id: int) -> Survey:
    survey = (
        await session.exec(
            select(Survey).where(Survey.id == survey_id).execution_options(populate_existing=True)
        )
    ).first()
    if survey is None:
        raise SurveyError("not_found")
    return survey


async def questions_of(session: AsyncSession, survey_id: int) -> list[SurveyQuestion]:
    result = await session.exec(
        select(SurveyQuestion)
        .where(SurveyQuestion.survey_id == survey_id)
        .order_by(col(SurveyQuestion.position))
    )
    return list(result.all())


async def add_question(
    session: AsyncSession,
    survey: Survey,
    kind: QuestionKind | str,
    text: str,
    *,
    options: Sequence[str] | None = None,
    translations: dict[str, dict[str, Any]] | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    max_length: int | None = None,
    optional: bool = False,
) -> SurveyQuestion:
    """Append a question to a draft survey."""
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")
    fields = validate_question(
        kind,
        text,
        options=options,
        translations=translations,
        min_value=min_value,
        max_value=max_value,
        max_length=max_length,
    )
    count = int(
        (
            await session.exec(
                select(func.count()).select_from(SurveyQuestion).where(SurveyQuestion.survey_id == survey.id)
            )
        ).one()
    )
    if count >= QUESTIONS_MAX or (survey.native_poll and count >= 1):
        raise SurveyError("too_many_questions", 1 if survey.native_poll else QUESTIONS_MAX)
    if survey.native_poll and fields["kind"] not in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        raise SurveyError("not_a_poll")
    question = SurveyQuestion(survey_id=survey.id or 0, position=count, optional=optional, **fields)
    session.add(question)
    await session.flush()
    return question


# -- opening, closing, extending, duplicating --------------------------------------------------------


def version_for(survey: Survey, member_language: str | None, default_language: str) -> str:
    return pick_version(survey.language, survey.translations, member_language, default_language)


def reading_version(
    survey: Survey, questions: Sequence[SurveyQuestion], member_language: str | None, default_language: str
) -> str:
    """The language a member reads a survey in: one its title or every question is translated to
    (a native poll shows no title, only its question)."""
    translated = set(survey.translations)
    if questions:
        translated |= set.intersection(*(set(question.translations) for question in questions))
    return pick_version(survey.language, translated, member_language, default_language)


def question_text(question: SurveyQuestion, language: str) -> tuple[str, list[str]]:
    """The question and its option labels in `language` (the original if not translated)."""
    version = question.translations.get(language)
    if not version:
        return question.text, list(question.options)
    return version["text"], list(version.get("options") or question.options)


def _audience_query(survey: Survey) -> Any:
    return (
        select(Member.id, Member.telegram_id, Member.language)
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(audience_filter(survey.organization_id, survey.audience, None))
    )


async def _enqueue(
    session: AsyncSession,
    survey: Survey,
    organization: Organization,
    query: Any,
    kind: str,
    payload: dict[str, Any],
    not_before: datetime,
    now: datetime,
) -> int:
    total = 0
    async for page in member_pages(session, query):
        rows = [
            {
                "kind": kind,
                "ref_id": survey.id,
                "member_id": member_id,
                "chat_id": chat_id,
                "language": version_for(survey, language, organization.default_language),
                "payload": payload,
                "status": DeliveryStatus.PENDING,
                "not_before": not_before,
                "attempts": 0,
                "created_at": now,
            }
            for member_id, chat_id, language in page
        ]
        await (await session.connection()).execute(insert(OutboxMessage), rows)
        total += len(rows)
    return total


async def open_survey(
    session: AsyncSession, survey: Survey, organization: Organization, now: datetime
) -> int:
    """Open a draft and invite its audience (delivered from `opens_at`). Returns the invitations."""
    if survey.status != SurveyStatus.DRAFT:
        raise SurveyError("not_editable")
    questions = await questions_of(session, survey.id or 0)
    if not questions:
        raise SurveyError("no_questions")
    if survey.native_poll and (len(questions) != 1 or questions[0].kind not in CHOICE_KINDS[:2]):
        raise SurveyError("not_a_poll")
    _validate_times(survey.opens_at, survey.closes_at, now)
    # Claim the draft: of two Publish taps at once, the second finds it open and invites no one again.
    claimed = (
        await (await session.connection()).execute(
            update(Survey)
            .where(col(Survey.id) == survey.id, col(Survey.status) == SurveyStatus.DRAFT)
            .values(status=SurveyStatus.OPEN, updated_at=now)
            .returning(col(Survey.id))
        )
    ).first()
    if claimed is None:
        raise SurveyError("not_editable")
    survey.opens_at = max(survey.opens_at or now, now)
    survey.status = SurveyStatus.OPEN
    survey.remind_at = _remind_at(survey)
    survey.updated_at = now
    session.add(survey)
    await session.flush()
    payload: dict[str, Any] = {"survey_id": survey.id, "native_poll": survey.native_poll}
    if survey.native_poll:
        payload["question_id"] = questions[0].id
    return await _enqueue(
        session, survey, organization, _audience_query(survey), KIND, payload, survey.opens_at, now
    )


async def _cut_progress_links(session: AsyncSession, survey_id: int) -> None:
    await (await session.connection()).execute(
        update(SurveyParticipation)
        .where(
            col(SurveyParticipation.survey_id) == survey_id,
            col(SurveyParticipation.progress_token).is_not(None),
        )
        .values(progress_token=None)
    )


async def close_survey(session: AsyncSession, survey: Survey, now: datetime) -> None:
    """Close early (or at the deadline): no more answers; unsent invitations and reminders are
    cancelled; anonymous resume tokens are erased; every sent copy of a native poll gets a
    "poll_stop" outbox row (durable: the engine stops them even after a restart). The caller
    commits, then wakes the delivery engine."""
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyError("closed")
    survey.status = SurveyStatus.CLOSED
    survey.closed_at = now
    survey.updated_at = now
    session.add(survey)
    await session.flush()  # the survey's row lock: submissions in flight finish first
    await _cut_progress_links(session, survey.id or 0)
    await (await session.connection()).execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.kind).in_((KIND, REMINDER_KIND)),
            col(OutboxMessage.ref_id) == survey.id,
            col(OutboxMessage.status) == DeliveryStatus.PENDING,
        )
        .values(status=DeliveryStatus.CANCELLED)
    )
    if survey.native_poll:
        await _enqueue_poll_stops(session, survey.id or 0, now)


async def _enqueue_poll_stops(
    session: AsyncSession, survey_id: int, now: datetime, outbox_id: int | None = None
) -> None:
    """A "poll_stop" row per copy whose message id is known (all of them, or the one `outbox_id`)."""
    copies = select(
        OutboxMessage.member_id,
        OutboxMessage.chat_id,
        OutboxMessage.language,
        OutboxMessage.telegram_message_id,
    ).where(
        OutboxMessage.kind == KIND,
        OutboxMessage.ref_id == survey_id,
        col(OutboxMessage.telegram_message_id).is_not(None),
    )
    if outbox_id is not None:
        copies = copies.where(OutboxMessage.id == outbox_id)
    connection = await session.connection()
    rows = [
        {
            "kind": POLL_STOP_KIND,
            "ref_id": survey_id,
            "member_id": member_id,
            "chat_id": chat_id,
            "language": language,
            "payload": {"message_id": message_id},
            "status": DeliveryStatus.PENDING,
            "not_before": now,
            "attempts": 0,
            "created_at": now,
        }
        for member_id, chat_id, language, message_id in (await session.exec(copies)).all()
    ]
    if rows:
        await connection.execute(_insert_ignore(connection.dialect.name, OutboxMessage), rows)


async def close_due_surveys(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: close open surveys whose closing time has passed. The caller commits."""
    due = (
        await session.exec(
            select(Survey).where(Survey.status == SurveyStatus.OPEN, col(Survey.closes_at) <= now)
        )
    ).all()
    for survey in due:
        await close_survey(session, survey, now)
    return len(due)


async def extend(session: AsyncSession, survey: Survey, closes_at: datetime, now: datetime) -> None:
    """Move the closing time of an open (or draft) survey later. The reminder follows unless it was
    already sent: members are reminded once."""
    if survey.status == SurveyStatus.CLOSED:
        raise SurveyError("closed")
    if survey.closes_at is not None and closes_at <= survey.closes_at:
        raise SurveyError("bad_times")
    _validate_times(survey.opens_at, closes_at, now)
    survey.closes_at = closes_at
    if survey.status == SurveyStatus.OPEN and survey.reminded_at is None:
        survey.remind_at = _remind_at(survey)
    survey.updated_at = now
    session.add(survey)
    await session.flush()


async def duplicate(
    session: AsyncSession, survey: Survey, now: datetime, created_by_member_id: int | None = None
) -> Survey:
    """A new draft with the same settings and questions, no answers and no dates."""
    copy = Survey(
        organization_id=survey.organization_id,
        title=survey.title,
        language=survey.language,
        translations=dict(survey.translations),
        anonymous=survey.anonymous,
        audience=dict(survey.audience),
        reminder_before_minutes=survey.reminder_before_minutes,
        native_poll=survey.native_poll,
        created_by_member_id=created_by_member_id or survey.created_by_member_id,
        created_at=now,
        updated_at=now,
    )
    session.add(copy)
    await session.flush()
    for question in await questions_of(session, survey.id or 0):
        session.add(
            SurveyQuestion(
                survey_id=copy.id or 0,
                position=question.position,
                kind=question.kind,
                text=question.text,
                translations=dict(question.translations),
                options=list(question.options),
                min_value=question.min_value,
                max_value=question.max_value,
                max_length=question.max_length,
                optional=question.optional,
            )
        )
    await session.flush()
    return copy


def _is_open(survey: Survey, now: datetime) -> None:
    if survey.status == SurveyStatus.CLOSED or (survey.closes_at is not None and survey.closes_at <= now):
        raise SurveyError("closed")
    if survey.status != SurveyStatus.OPEN or (survey.opens_at is not None and survey.opens_at > now):
        raise SurveyError("not_open")


async def _survey_for_share(session: AsyncSession, survey_id: int) -> Survey:
    survey = (
        await session.exec(
            select(Survey)
            .where(Survey.id == survey_id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)
        )
    ).first()
    if survey is None:
        raise SurveyError("not_found")
    return survey


async def open_surveys_for(session: AsyncSession, member: Member, now: datetime) -> list[Survey]:
    """Open surveys of the member's organizations they have not submitted (for `/surveys`).
    (The audience filter is not re-applied: a member may answer a survey forwarded to them.)"""
    submitted = exists().where(
        SurveyParticipation.survey_id == Survey.id,
        SurveyParticipation.member_id == member.id,
        col(SurveyParticipation.submitted).is_(True),
    )
    result = await session.exec(
        select(Survey)
        .where(
            col(Survey.organization_id).in_(
                select(Membership.organization_id).where(Membership.member_id == member.id)
            ),
            Survey.status == SurveyStatus.OPEN,
            col(Survey.native_poll).is_(False),
            col(Survey.opens_at) <= now,
            (col(Survey.closes_at).is_(None)) | (col(Survey.closes_at) > now),
            not_(submitted),
        )
        .order_by(col(Survey.closes_at), col(Survey.id))
    )
    return list(result.all())


# -- answering ---------------------------------------------------------------------------------


def _insert_ignore(dialect: str, table: Any) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


async def _question_at(session: AsyncSession, survey_id: int, position: int) -> SurveyQuestion | None:
    return (
        await session.exec(
            select(SurveyQuestion).where(
                SurveyQuestion.survey_id == survey_id, SurveyQuestion.position == position
            )
        )
    ).first()


async def _response_by_key(session: AsyncSession, survey_id: int, key: str) -> SurveyResponse | None:
    return (
        await session.exec(
            select(SurveyResponse)
            .where(SurveyResponse.survey_id == survey_id, SurveyResponse.respondent_key == key)
            .execution_options(populate_existing=True)
        )
    ).first()


async def start_or_resume(
    session: AsyncSession, survey: Survey, member: Member, now: datetime
) -> tuple[SurveyResponse, SurveyQuestion | None]:
    """The member's response and the question to show (None: all answered, Submit is next).

    Raises "submitted" when the member already submitted (attributed surveys: show them
    `submitted_answers`), "closed"/"not_open" when the survey takes no answers."""
    survey = await _survey_for_share(session, survey.id or 0)
    _is_open(survey, now)
    if survey.native_poll:
        raise SurveyError("not_a_poll")
    member_id = member.id or 0
    # "a…" random tokens can never be mistaken for the "m<id>" keys of attributed surveys.
    token = "a" + secrets.token_urlsafe(24) if survey.anonymous else None
    connection = await session.connection()
    inserted = (
        await connection.execute(
            _insert_ignore(connection.dialect.name, SurveyParticipation)
            .values(survey_id=survey.id, member_id=member_id, submitted=False, progress_token=token)
            .returning(col(SurveyParticipation.member_id))
        )
    ).first()
    if inserted is not None:
        response = SurveyResponse(
            survey_id=survey.id or 0,
            member_id=None if survey.anonymous else member_id,
            respondent_key=token or f"m{member_id}",
            started_at=None if survey.anonymous else now,
        )
        session.add(response)
        await session.flush()
        return response, await _question_at(session, survey.id or 0, 0)
    participation = (
        await session.exec(
            select(SurveyParticipation)
            .where(SurveyParticipation.survey_id == survey.id, SurveyParticipation.member_id == member_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    if participation.submitted:
        raise SurveyError("submitted")
    key = participation.progress_token if survey.anonymous else f"m{member_id}"
    found = await _response_by_key(session, survey.id or 0, key or "")
    if found is None:  # only if a token was erased on an open survey: never expected
        raise SurveyError("not_found")
    return found, await _question_at(session, survey.id or 0, found.position)


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise SurveyError("not_a_number")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace("\u00a0", "").replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise SurveyError("not_a_number") from None
    if not math.isfinite(number) or abs(number) > NUMBER_LIMIT:
        raise SurveyError("not_a_number")
    return number


def _option_index(raw: Any, count: int) -> int:
    if isinstance(raw, bool):
        raise SurveyError("bad_option")
    try:
        index = int(raw) if isinstance(raw, int) else int(str(raw).strip())
    except ValueError:
        raise SurveyError("bad_option") from None
    if not 0 <= index < count:
        raise SurveyError("bad_option", count)
    return index


def _is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set | frozenset):
        return not raw
    return False


def clean_answer(question: SurveyQuestion, raw: Any) -> Any:
    """The value stored for `raw` (None: a skipped optional question); raises `SurveyError`.

    single: an option index; multiple: option indexes; rating: a whole number on the scale;
    number: a number (text accepted, "3,5" too) within the bounds; text: the trimmed text;
    yes_no: True/False or a yes/no word."""
    if _is_empty(raw):
        if question.optional:
            return None
        raise SurveyError("required")
    kind = QuestionKind(question.kind)
    if kind == QuestionKind.SINGLE:
        if isinstance(raw, list | tuple | set | frozenset):
            if len(raw) != 1:
                raise SurveyError("choose_one")
            (raw,) = raw
        return _option_index(raw, len(question.options))
    if kind == QuestionKind.MULTIPLE:
        values = raw if isinstance(raw, list | tuple | set | frozenset) else [raw]
        return sorted({_option_index(value, len(question.options)) for value in values})
    if kind in (QuestionKind.RATING, QuestionKind.NUMBER):
        number = _number(raw)
        low, high = question.min_value, question.max_value
        if (low is not None and number < low) or (high is not None and number > high):
            raise SurveyError("out_of_range", (low, high))
        if kind == QuestionKind.RATING:
            if number != int(number):
                raise SurveyError("not_whole", (low, high))
            return int(number)
        return int(number) if number == int(number) else number
    if kind == QuestionKind.TEXT:
        text = unicodedata.normalize("NFC", str(raw)).strip()
        limit = question.max_length or TEXT_DEFAULT
        if telegram_length(text) > limit:
            raise SurveyError("text_too_long", limit)
        try:
            clean_line(text, max(len(text), 1))
        except TextRejected:
            raise SurveyError("text_empty") from None
        return text
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().casefold()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise SurveyError("not_yes_no")


async def _lock_response(session: AsyncSession, response: SurveyResponse) -> tuple[int, ResponseStatus]:
    """The first statement of every change to a response."""
    row = (
        await (await session.connection()).execute(
            update(SurveyResponse)
            .where(col(SurveyResponse.id) == response.id)
            .values(seq=col(SurveyResponse.seq) + 1)
            .returning(col(SurveyResponse.position), col(SurveyResponse.status))
        )
    ).first()
    if row is None:
        raise SurveyError("not_found")
    return int(row[0]), ResponseStatus(row[1])


async def _refresh(session: AsyncSession, response: SurveyResponse) -> None:
    await session.refresh(response)


async def answer(
    session: AsyncSession, response: SurveyResponse, question: SurveyQuestion, raw_value: Any, now: datetime
) -> SurveyQuestion | None:
    """Store the answer to the question being answered and move on; returns the next question
    (None: all answered, Submit is next). `raw_value` None or empty skips an optional question.
    The value is validated before anything is written."""
    if question.survey_id != response.survey_id:
        raise SurveyError("stale_question")
    value = clean_answer(question, raw_value)
    position, status = await _lock_response(session, response)
    if status == ResponseStatus.SUBMITTED:
        raise SurveyError("submitted")
    _is_open(await _survey_for_share(session, response.survey_id), now)
    if question.position != position:
        raise SurveyError("stale_question")
    connection = await session.connection()
    existing = SurveyAnswer.response_id == response.id, SurveyAnswer.question_id == question.id
    if value is None:
        await connection.execute(SurveyAnswer.__table__.delete().where(*existing))  # type: ignore[attr-defined]
    else:
        changed = await connection.execute(update(SurveyAnswer).where(*existing).values(value=value))
        if not changed.rowcount:
            await connection.execute(
                insert(SurveyAnswer).values(response_id=response.id, question_id=question.id, value=value)
            )
    await connection.execute(
        update(SurveyResponse).where(col(SurveyResponse.id) == response.id).values(position=position + 1)
    )
    await _refresh(session, response)
    return await _question_at(session, response.survey_id, position + 1)


async def back(
    session: AsyncSession, response: SurveyResponse, now: datetime, expected: int | None = None
) -> SurveyQuestion:
    """Go back to the previous question (its stored answer is kept until it is answered again).
    `expected`: the position the Back button was pressed at; another one (a double tap, an old
    message) raises "stale_question"."""
    position, status = await _lock_response(session, response)
    if status == ResponseStatus.SUBMITTED:
        raise SurveyError("submitted")
    if expected is not None and position != expected:
        raise SurveyError("stale_question")
    _is_open(await _survey_for_share(session, response.survey_id), now)
    target = max(position - 1, 0)
    await (await session.connection()).execute(
        update(SurveyResponse).where(col(SurveyResponse.id) == response.id).values(position=target)
    )
    await _refresh(session, response)
    question = await _question_at(session, response.survey_id, target)
    assert question is not None
    return question


async def answers_of(session: AsyncSession, response_id: int) -> dict[int, Any]:
    """{question id: stored value} of one response."""
    result = await session.exec(
        select(SurveyAnswer.question_id, SurveyAnswer.value).where(SurveyAnswer.response_id == response_id)
    )
    return {question_id: value for question_id, value in result.all()}


@dataclass(frozen=True)
class Submitted:
    answers: dict[int, Any]  # question id -> value
    already: bool  # True: this was a second attempt; nothing changed


async def submit(session: AsyncSession, response: SurveyResponse, now: datetime) -> Submitted:
    """Make the answers final. A second attempt changes nothing and returns the submitted answers."""
    position, status = await _lock_response(session, response)
    if status == ResponseStatus.SUBMITTED:
        return Submitted(await answers_of(session, response.id or 0), True)
    survey = await _survey_for_share(session, response.survey_id)
    _is_open(survey, now)
    questions = await questions_of(session, survey.id or 0)
    answers = await answers_of(session, response.id or 0)
    if position < len(questions) or any(q.id not in answers and not q.optional for q in questions):
        raise SurveyError("incomplete")
    submitted_at = now.replace(hour=0, minute=0, second=0, microsecond=0) if survey.anonymous else now
    connection = await session.connection()
    await connection.execute(
        update(SurveyResponse)
        .where(col(SurveyResponse.id) == response.id)
        .values(status=ResponseStatus.SUBMITTED, submitted_at=submitted_at)
    )
    participation = update(SurveyParticipation).where(col(SurveyParticipation.survey_id) == survey.id)
    if survey.anonymous:
        participation = participation.where(
            col(SurveyParticipation.progress_token) == response.respondent_key
        )
    else:
        participation = participation.where(col(SurveyParticipation.member_id) == response.member_id)
    await connection.execute(participation.values(submitted=True, progress_token=None))
    await _refresh(session, response)
    return Submitted(answers, False)


async def submitted_answers(session: AsyncSession, survey: Survey, member: Member) -> dict[int, Any] | None:
    """An attributed survey's submitted answers of a member (None for anonymous surveys: unknowable)."""
    if survey.anonymous:
        return None
    response = await _response_by_key(session, survey.id or 0, f"m{member.id}")
    if response is None or response.status != ResponseStatus.SUBMITTED:
        return None
    return await answers_of(session, response.id or 0)


# -- native quick polls ------------------------------------------------------------------------


async def record_poll_delivery(
    session: AsyncSession, survey: Survey, telegram_poll_id: str, chat_id: int
) -> PollDelivery:
    """The delivery engine sent a copy of the poll (sendPoll returned `poll.id`). An anonymous
    poll's copy keeps no chat id: in a private chat its counts are one member's vote. (Stopping the
    copies uses the outbox rows, which know the chats but not the poll ids.)"""
    question = await _question_at(session, survey.id or 0, 0)
    if question is None or not survey.native_poll:
        raise SurveyError("not_a_poll")
    delivery = PollDelivery(
        survey_id=survey.id or 0,
        question_id=question.id or 0,
        telegram_poll_id=telegram_poll_id,
        chat_id=0 if survey.anonymous else chat_id,
        option_counts=[0] * len(question.options),
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def poll_sent(
    session: AsyncSession,
    outbox_id: int,
    survey_id: int,
    chat_id: int,
    message_id: int,
    telegram_poll_id: str,
    now: datetime,
) -> PollDelivery | None:
    """The delivery engine's hook after a copy of a native poll went out: remember the poll id (so
    votes on this copy count) and the message id on the outbox row (so the copy can be stopped).
    A copy that went out while the survey was closing is stopped at once ("poll_stop").

    The outbox update comes first (the write lock on SQLite), then the survey `FOR SHARE`: either
    `close_survey` sees this copy's message id, or this sees the survey closed."""
    await (await session.connection()).execute(
        update(OutboxMessage).where(col(OutboxMessage.id) == outbox_id).values(telegram_message_id=message_id)
    )
    survey = await _survey_for_share(session, survey_id)
    if not survey.native_poll:
        return None
    delivery = await record_poll_delivery(session, survey, telegram_poll_id, chat_id)
    if survey.status == SurveyStatus.CLOSED:
        await _enqueue_poll_stops(session, survey_id, now, outbox_id)
    return delivery


async def _delivery(
    session: AsyncSession, telegram_poll_id: str
) -> tuple[PollDelivery, Survey, SurveyQuestion]:
    row = (
        await session.exec(
            select(PollDelivery, Survey, SurveyQuestion)
            .join(Survey, col(Survey.id) == col(PollDelivery.survey_id))
            .join(SurveyQuestion, col(SurveyQuestion.id) == col(PollDelivery.question_id))
            .where(PollDelivery.telegram_poll_id == telegram_poll_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if row is None:
        raise SurveyError("not_found")
    return row[0], row[1], row[2]


async def record_poll_vote(
    session: AsyncSession, telegram_poll_id: str, member_id: int, option_ids: Sequence[int], now: datetime
) -> bool:
    """A `poll_answer` of a non-anonymous poll, from any copy: the member's vote replaces their
    previous one; an empty `option_ids` withdraws it. Returns False for a survey no longer open."""
    delivery, survey, question = await _delivery(session, telegram_poll_id)
    try:
        _is_open(survey, now)
    except SurveyError:
        return False
    if survey.anonymous:
        raise SurveyError("anonymous")
    options = sorted({_option_index(option, len(question.options)) for option in option_ids})
    if len(options) > 1 and question.kind != QuestionKind.MULTIPLE:
        raise SurveyError("choose_one")
    connection = await session.connection()
    key = PollVote.survey_id == survey.id, PollVote.member_id == member_id
    if not options:
        await connection.execute(PollVote.__table__.delete().where(*key))  # type: ignore[attr-defined]
    else:
        module = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = module.insert(PollVote).values(
            survey_id=survey.id,
            delivery_id=delivery.id,
            member_id=member_id,
            option_ids=options,
            updated_at=now,
        )
        await connection.execute(
            statement.on_conflict_do_update(
                index_elements=["survey_id", "member_id"],
                set_={"delivery_id": delivery.id, "option_ids": options, "updated_at": now},
            )
        )
    participation = _insert_ignore(connection.dialect.name, SurveyParticipation).values(
        survey_id=survey.id, member_id=member_id, submitted=bool(options)
    )
    await connection.execute(participation)
    await connection.execute(
        update(SurveyParticipation)
        .where(
            col(SurveyParticipation.survey_id) == survey.id, col(SurveyParticipation.member_id) == member_id
        )
        .values(submitted=bool(options))
    )
    return True


async def record_poll_counts(
    session: AsyncSession, telegram_poll_id: str, option_counts: Sequence[int], voter_count: int
) -> bool:
    """A `poll` update (the copy's current totals): the only data anonymous polls give."""
    delivery, survey, question = await _delivery(session, telegram_poll_id)
    if survey.status == SurveyStatus.CLOSED:
        return False
    counts = [max(int(count), 0) for count in option_counts]
    if len(counts) != len(question.options):
        raise SurveyError("bad_option")
    delivery.option_counts = counts
    delivery.voter_count = max(int(voter_count), 0)
    session.add(delivery)
    await session.flush()
    return True


# -- results, exports, reminders ---------------------------------------------------------------


@dataclass
class QuestionResult:
    question_id: int
    position: int
    kind: QuestionKind
    text: str
    answered: int = 0  # respondents who answered this question
    labels: list[str] = field(default_factory=list)  # choice/rating: what `counts` count
    counts: list[int] = field(default_factory=list)
    percentages: list[float] = field(default_factory=list)  # of `answered`, one decimal
    average: float | None = None  # rating/number
    minimum: float | None = None
    maximum: float | None = None
    texts: list[str] = field(default_factory=list)  # text answers (first `TEXTS_SHOWN`)


@dataclass
class SurveyResults:
    survey_id: int
    respondents: int  # submitted responses (native polls: voters)
    questions: list[QuestionResult]
    groups: dict[str, SurveyResults] = field(default_factory=dict)  # breakdown, if asked
    suppressed_groups: int = 0  # groups smaller than the threshold, not shown
    suppressed_respondents: int = 0


TEXTS_SHOWN = 50


def _labels(question: SurveyQuestion, language: str | None) -> list[str]:
    if question.kind == QuestionKind.YES_NO:
        return ["yes", "no"]
    if question.kind == QuestionKind.RATING:
        return [str(v) for v in range(int(question.min_value or 0), int(question.max_value or 0) + 1)]
    return question_text(question, language or "")[1]


def _tally(question: SurveyQuestion, values: list[Any], language: str | None) -> QuestionResult:
    text = question_text(question, language or "")[0]
    result = QuestionResult(question.id or 0, question.position, QuestionKind(question.kind), text)
    result.answered = len(values)
    if question.kind in (*CHOICE_KINDS, QuestionKind.RATING):
        result.labels = _labels(question, language)
        counts = [0] * len(result.labels)
        for value in values:
            if question.kind == QuestionKind.YES_NO:
                counts[0 if value else 1] += 1
            elif question.kind == QuestionKind.RATING:
                counts[int(value) - int(question.min_value or 0)] += 1
            else:
                for index in value if isinstance(value, list) else [value]:
                    counts[index] += 1
        result.counts = counts
        result.percentages = [round(100 * count / len(values), 1) if values else 0.0 for count in counts]
    if question.kind in (QuestionKind.RATING, QuestionKind.NUMBER) and values:
        numbers = [float(value) for value in values]
        result.average = round(sum(numbers) / len(numbers), 2)
        result.minimum, result.maximum = min(numbers), max(numbers)
    if question.kind == QuestionKind.TEXT:
        result.texts = [str(value) for value in values[:TEXTS_SHOWN]]
    return result


async def _poll_results(
    session: AsyncSession, survey: Survey, question: SurveyQuestion, language: str | None
) -> SurveyResults:
    result = QuestionResult(
        question.id or 0, 0, QuestionKind(question.kind), question_text(question, language or "")[0]
    )
    result.labels = _labels(question, language)
    counts = [0] * len(question.options)
    if survey.anonymous:
        rows = (
            await session.exec(
                select(PollDelivery.option_counts, PollDelivery.voter_count).where(
                    PollDelivery.survey_id == survey.id
                )
            )
        ).all()
        voters = 0
        for option_counts, voter_count in rows:
            voters += voter_count
            for index, count in enumerate(option_counts[: len(counts)]):
                counts[index] += count
    else:
        votes = (await session.exec(select(PollVote.option_ids).where(PollVote.survey_id == survey.id))).all()
        voters = len(votes)
        for option_ids in votes:
            for index in option_ids:
                counts[index] += 1
    result.answered = voters
    result.counts = counts
    result.percentages = [round(100 * count / voters, 1) if voters else 0.0 for count in counts]
    return SurveyResults(survey.id or 0, voters, [result])


def _hidden_groups(sizes: dict[str, int], min_group: int) -> set[str]:
    """The groups a breakdown does not show: those under `min_group`, and then the smallest others
    until the hidden ones add up to `min_group` at least. (The overall results minus the shown groups
    are the hidden ones together: hiding only a group of 2 would let anyone work out its answers.)"""
    hidden = {group for group, size in sizes.items() if size < min_group}
    total = sum(sizes[group] for group in hidden)
    for group, size in sorted(sizes.items(), key=lambda item: (item[1], item[0])):
        if 0 < total < min_group and group not in hidden:
            hidden.add(group)
            total += size
    return hidden


async def results(
    session: AsyncSession,
    survey: Survey,
    *,
    language: str | None = None,
    breakdown: str | None = None,
    min_group: int = MIN_GROUP,
) -> SurveyResults:
    """Counts and percentages per option (choice, yes/no, rating), averages (rating, number) and
    text answers, over submitted responses; labels in `language` when translated.

    `breakdown` (attributed surveys only: one of BREAKDOWNS) adds the same results per group of
    members; groups with fewer than `min_group` respondents are suppressed (counted, not shown), with
    as many of the smallest other groups as it takes for the suppressed ones to add up to `min_group`,
    and groups never list text answers."""
    if breakdown is not None and (survey.anonymous or breakdown not in BREAKDOWNS):
        raise SurveyError("anonymous" if survey.anonymous else "bad_breakdown")
    questions = await questions_of(session, survey.id or 0)
    if survey.native_poll and questions:
        return await _poll_results(session, survey, questions[0], language)
    group_column = getattr(Member, breakdown) if breakdown else None
    query = (
        select(SurveyResponse.id, SurveyAnswer.question_id, SurveyAnswer.value)
        .join(SurveyAnswer, col(SurveyAnswer.response_id) == col(SurveyResponse.id))
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.SUBMITTED)
    )
    group_of: dict[int, str] = {}
    if group_column is not None:
        group_rows = (
            await session.exec(
                select(SurveyResponse.id, group_column)
                .join(Member, col(Member.id) == col(SurveyResponse.member_id))
                .where(
                    SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.SUBMITTED
                )
            )
        ).all()
        group_of = {response_id: value or "?" for response_id, value in group_rows}
    respondents = int(
        (
            await session.exec(
                select(func.count())
                .select_from(SurveyResponse)
                .where(
                    SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.SUBMITTED
                )
            )
        ).one()
    )
    values: dict[int, list[Any]] = {question.id or 0: [] for question in questions}
    by_group: dict[str, dict[int, list[Any]]] = {}
    for response_id, question_id, value in (await session.exec(query.order_by(col(SurveyResponse.id)))).all():
        values[question_id].append(value)
        if group_of:
            group = by_group.setdefault(group_of[response_id], {q.id or 0: [] for q in questions})
            group[question_id].append(value)
    overall = SurveyResults(
        survey.id or 0, respondents, [_tally(q, values[q.id or 0], language) for q in questions]
    )
    if group_of:
        sizes: dict[str, int] = {}
        for group in group_of.values():
            sizes[group] = sizes.get(group, 0) + 1
        hidden = _hidden_groups(sizes, min_group)
        for group, size in sorted(sizes.items()):
            if group in hidden:
                overall.suppressed_groups += 1
                overall.suppressed_respondents += size
                continue
            tallies = [_tally(q, by_group.get(group, {}).get(q.id or 0, []), language) for q in questions]
            for tally in tallies:
                tally.texts = []
            overall.groups[group] = SurveyResults(survey.id or 0, size, tallies)
    return overall


async def text_answers(
    session: AsyncSession, question: SurveyQuestion, offset: int = 0, limit: int = 20
) -> tuple[list[str], int]:
    """A page of a text question's submitted answers and their total (for paginated lists)."""
    where = and_(
        SurveyAnswer.question_id == question.id,
        SurveyResponse.status == ResponseStatus.SUBMITTED,
    )
    base = select(SurveyAnswer.value).join(
        SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id)
    )
    total = int(
        (
            await session.exec(
                select(func.count())
                .select_from(SurveyAnswer)
                .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
                .where(where)
            )
        ).one()
    )
    order = col(SurveyResponse.respondent_key)  # random for anonymous surveys: no order leaks
    rows = (await session.exec(base.where(where).order_by(order).offset(offset).limit(limit))).all()
    return [str(value) for value in rows], total


def _render(question: SurveyQuestion, value: Any) -> str:
    if value is None:
        return ""
    if question.kind == QuestionKind.YES_NO:
        return "yes" if value else "no"
    if question.kind == QuestionKind.SINGLE:
        return spreadsheet_cell(question.options[value])
    if question.kind == QuestionKind.MULTIPLE:
        return spreadsheet_cell("; ".join(question.options[index] for index in value))
    if question.kind == QuestionKind.TEXT:
        return spreadsheet_cell(str(value))
    return str(value)


async def export_csv(session: AsyncSession, survey: Survey) -> bytes:
    """One row per submitted response (UTF-8 with BOM for Excel). Attributed surveys carry the
    member id and name; anonymous ones no member data, rows in random order."""
    questions = await questions_of(session, survey.id or 0)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    member_columns = [] if survey.anonymous else ["member_id", "name"]
    writer.writerow(
        [
            "response",
            *member_columns,
            "submitted_at",
            *(spreadsheet_cell(f"Q{q.position + 1}. {q.text}") for q in questions),
        ]
    )
    query = (
        select(SurveyResponse, Member.display_name)
        .outerjoin(Member, col(Member.id) == col(SurveyResponse.member_id))
        .where(SurveyResponse.survey_id == survey.id, SurveyResponse.status == ResponseStatus.SUBMITTED)
        .order_by(col(SurveyResponse.respondent_key))
    )
    responses = (await session.exec(query)).all()
    answers: dict[int, dict[int, Any]] = {}
    ids = [response.id for response, _ in responses]
    for start in range(0, len(ids), PAGE):
        rows = await session.exec(
            select(SurveyAnswer.response_id, SurveyAnswer.question_id, SurveyAnswer.value).where(
                col(SurveyAnswer.response_id).in_(ids[start : start + PAGE])
            )
        )
        for response_id, question_id, value in rows.all():
            answers.setdefault(response_id, {})[question_id] = value
    for number, (response, name) in enumerate(responses, start=1):
        given = answers.get(response.id or 0, {})
        member = [] if survey.anonymous else [response.member_id, spreadsheet_cell(name or "")]
        submitted = response.submitted_at
        when = submitted.date().isoformat() if survey.anonymous and submitted else (submitted or "")
        writer.writerow(
            [
                number,
                *member,
                when.isoformat() if isinstance(when, datetime) else when,
                *(_render(q, given.get(q.id or 0)) for q in questions),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")


async def due_survey_reminders(session: AsyncSession, now: datetime) -> int:
    """Scheduler job: for each open survey whose reminder time has come, claim it (once: `reminded_at`
    is set in the same `UPDATE … WHERE reminded_at IS NULL … RETURNING`, with `SKIP LOCKED` on
    PostgreSQL) and write a "survey_reminder" outbox row to every member of the audience who has
    not submitted. The claim and the rows commit together (the caller commits), so a crash loses
    neither and two instances never both remind. Returns the outbox rows written."""
    due = (
        select(Survey.id)
        .where(
            Survey.status == SurveyStatus.OPEN,
            col(Survey.remind_at) <= now,
            col(Survey.reminded_at).is_(None),
            col(Survey.closes_at) > now,
        )
        .with_for_update(skip_locked=True)
    )
    claimed = (
        await (await session.connection()).execute(
            update(Survey)
            .where(col(Survey.id).in_(due.scalar_subquery()), col(Survey.reminded_at).is_(None))
            .values(reminded_at=now)
            .returning(col(Survey.id))
        )
    ).all()
    total = 0
    for (survey_id,) in sorted(claimed):
        survey = await get_survey(session, survey_id)
        organization = await session.get(Organization, survey.organization_id)
        assert organization is not None
        finished = exists().where(
            SurveyParticipation.survey_id == survey_id,
            SurveyParticipation.member_id == Member.id,
            col(SurveyParticipation.submitted).is_(True),
        )
        query = _audience_query(survey).where(not_(finished))
        payload = {
            "survey_id": survey_id,
            "closes_at": survey.closes_at.isoformat() if survey.closes_at else None,
        }
        total += await _enqueue(session, survey, organization, query, REMINDER_KIND, payload, now, now)
    return total


# -- a member's own data ---------------------------------------------------------------------------


async def member_survey_data(session: AsyncSession, member_id: int) -> dict[str, Any]:
    """For `/mydata`: the member's attributed answers and poll votes, and which anonymous surveys
    they took part in (their answers there cannot be told apart from others', so are not listed)."""
    responses = (
        await session.exec(
            select(SurveyResponse, Survey.title)
            .join(Survey, col(Survey.id) == col(SurveyResponse.survey_id))
            .where(SurveyResponse.member_id == member_id)
            .order_by(col(SurveyResponse.id))
        )
    ).all()
    answered = []
    for response, title in responses:
        stored = await answers_of(session, response.id or 0)
        questions = await questions_of(session, response.survey_id)
        answered.append(
            {
                "survey": title,
                "status": str(response.status),
                "started_at": response.started_at.isoformat() if response.started_at else None,
                "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
                "answers": [
                    {"question": q.text, "answer": _render(q, stored[q.id or 0]).lstrip("'")}
                    for q in questions
                    if q.id in stored
                ],
            }
        )
    votes = (
        await session.exec(
            select(PollVote, Survey.title, SurveyQuestion)
            .join(Survey, col(Survey.id) == col(PollVote.survey_id))
            .join(PollDelivery, col(PollDelivery.id) == col(PollVote.delivery_id))
            .join(SurveyQuestion, col(SurveyQuestion.id) == col(PollDelivery.question_id))
            .where(PollVote.member_id == member_id)
            .order_by(col(PollVote.id))
        )
    ).all()
    anonymous = (
        await session.exec(
            select(Survey.title, SurveyParticipation.submitted)
            .join(Survey, col(Survey.id) == col(SurveyParticipation.survey_id))
            .where(SurveyParticipation.member_id == member_id, col(Survey.anonymous).is_(True))
            .order_by(col(Survey.id))
        )
    ).all()
    return {
        "survey_answers": answered,
        "poll_votes": [
            {
                "poll": title,
                "question": question.text,
                "chosen": [question.options[index] for index in vote.option_ids],
                "updated_at": vote.updated_at.isoformat(),
            }
            for vote, title, question in votes
        ],
        "anonymous_surveys": [{"survey": title, "submitted": submitted} for title, submitted in anonymous],
    }


async def erase_member_surveys(session: AsyncSession, member_id: int) -> None:
    """For `/forget`: the member's attributed responses, answers and poll votes are deleted, and so
    is an anonymous answer they had not submitted yet (its resume token is the only link). Submitted
    anonymous responses carry no link to anyone and stay in the results."""
    connection = await session.connection()
    tokens = list(
        (
            await session.exec(
                select(SurveyParticipation.progress_token).where(
                    SurveyParticipation.member_id == member_id,
                    col(SurveyParticipation.progress_token).is_not(None),
                )
            )
        ).all()
    )
    mine = select(SurveyResponse.id).where(
        (col(SurveyResponse.member_id) == member_id)
        | (
            col(SurveyResponse.respondent_key).in_(tokens)
            & (col(SurveyResponse.status) == ResponseStatus.IN_PROGRESS)
        )
    )
    ids = list((await session.exec(mine)).all())
    answers_table = SurveyAnswer.__table__  # type: ignore[attr-defined]
    responses_table = SurveyResponse.__table__  # type: ignore[attr-defined]
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        await connection.execute(answers_table.delete().where(answers_table.c.response_id.in_(chunk)))
        await connection.execute(responses_table.delete().where(responses_table.c.id.in_(chunk)))
    votes = PollVote.__table__  # type: ignore[attr-defined]
    await connection.execute(votes.delete().where(votes.c.member_id == member_id))
    participations = SurveyParticipation.__table__  # type: ignore[attr-defined]
    await connection.execute(participations.delete().where(participations.c.member_id == member_id))

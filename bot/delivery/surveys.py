"""Surveys on the delivery engine: the invitation each member gets (or their copy of a native poll),
the reminder to those who have not answered, stopping every copy of a poll once it closes, and the
scheduler jobs that close due surveys and hand due reminders to the outbox."""

from __future__ import annotations

import logging
import time
from typing import Any, NamedTuple

from aiogram.methods import SendMessage, SendPoll, StopPoll, TelegramMethod
from aiogram.types import InputPollOption, Message
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.origins import Origins
from bot.delivery.outbox import Claimed
from bot.i18n import resolve_locale
from bot.logs import log_event
from bot.services import surveys as service
from bot.services.surveys.rules import QUESTION_MAX
from bot.views import surveys as view
from bot.views.origin import plain_with_origin, with_origin
from storage.models import (
    Member,
    Organization,
    QuestionKind,
    Survey,
    SurveyParticipation,
    SurveyQuestion,
    SurveyStatus,
)
from storage.types import utcnow

log = logging.getLogger(__name__)
_CACHE_SECONDS = 3.0  # a survey closed this recently may still get an invitation rendered


class Reading(NamedTuple):
    """A row's survey as its member reads it: the questions, their language version, locale and
    zone, and the name of the survey's organization (or None)."""

    survey: Survey
    questions: list[SurveyQuestion]
    version: str
    locale: str
    zone: str
    origin: str | None


class SurveyDelivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: I18n) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.on_enqueued: list[Any] = []  # callbacks (the engine's wake)
        self._cache: dict[int, tuple[float, Survey | None, list[SurveyQuestion], str]] = {}
        self.origins = Origins(sessions)

    async def _survey(
        self, session: AsyncSession, survey_id: int
    ) -> tuple[Survey | None, list[SurveyQuestion], str]:
        """The survey, its questions and the organization's default language, read once per batch."""
        cached = self._cache.get(survey_id)
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1], cached[2], cached[3]
        survey = await session.get(Survey, survey_id)
        questions = await service.questions_of(session, survey_id) if survey else []
        organization = await session.get(Organization, survey.organization_id) if survey else None
        default = organization.default_language if organization else self.i18n.default_locale
        self._cache[survey_id] = (time.monotonic(), survey, questions, default)
        if len(self._cache) > 1000:
            self._cache.clear()
        return survey, questions, default

    async def _load(self, row: Claimed) -> Reading | None:
        """What a row needs, or None when it is no longer wanted (closed survey, forgotten member)."""
        async with self.sessions() as session:
            survey, questions, default = await self._survey(session, row.ref_id)
            member = await session.get(Member, row.member_id) if row.member_id else None
            submitted = (
                await session.exec(
                    select(SurveyParticipation.submitted).where(
                        SurveyParticipation.survey_id == row.ref_id,
                        SurveyParticipation.member_id == row.member_id,
                    )
                )
            ).first()
        if survey is None or member is None or not questions or not member.is_registered:
            return None
        if survey.status != SurveyStatus.OPEN or (survey.closes_at and survey.closes_at <= utcnow()):
            return None
        if row.kind == service.REMINDER_KIND and submitted:
            return None  # answered after the reminder was queued
        locale = resolve_locale(member.language, None, self.i18n.default_locale)
        return Reading(
            survey,
            questions,
            service.reading_version(survey, questions, member.language, default),
            locale,
            member.timezone or "UTC",
            await self.origins.name(survey.organization_id, locale),
        )

    async def render_invitation(self, row: Claimed) -> TelegramMethod[Any] | None:
        loaded = await self._load(row)
        if loaded is None:
            return None
        survey, questions, version, locale, zone, origin = loaded
        if survey.native_poll:
            return self._poll(row, survey, questions[0], version, origin)
        with self.i18n.context(), self.i18n.use_locale(locale):
            text, keyboard = view.invitation(survey, version, len(questions), locale, zone, origin=origin)
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=keyboard)

    @staticmethod
    def _poll(
        row: Claimed, survey: Survey, question: SurveyQuestion, version: str, origin: str | None
    ) -> SendPoll:
        """The member's copy of a native poll. Plain text (no parse mode): the question and options
        are what the coordinator typed, already within Telegram's limits (`validate_question`), the
        question led by its organization's name when there is room for it.
        No `close_date`: a survey may be extended, so copies are stopped with stopPoll instead."""
        text, options = service.question_text(question, version)
        return SendPoll(
            chat_id=row.chat_id,
            question=plain_with_origin(text, origin, QUESTION_MAX),
            question_parse_mode=None,
            options=[InputPollOption(text=option, text_parse_mode=None) for option in options],
            is_anonymous=survey.anonymous,
            allows_multiple_answers=question.kind == QuestionKind.MULTIPLE,
        )

    async def render_reminder(self, row: Claimed) -> TelegramMethod[Any] | None:
        loaded = await self._load(row)
        if loaded is None:
            return None
        survey, questions, version, locale, zone, origin = loaded
        with self.i18n.context(), self.i18n.use_locale(locale):
            if survey.native_poll:
                reminder = view.poll_reminder(survey, questions[0], version, locale, zone)
                return SendMessage(chat_id=row.chat_id, text=with_origin(reminder, origin))
            text, keyboard = view.invitation(
                survey, version, len(questions), locale, zone, reminder=True, origin=origin
            )
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=keyboard)

    async def render_poll_stop(self, row: Claimed) -> TelegramMethod[Any] | None:
        message_id = row.payload.get("message_id")
        return StopPoll(chat_id=row.chat_id, message_id=int(message_id)) if message_id else None

    async def poll_sent(self, row: Claimed, result: Any) -> None:
        """After-send hook of the "survey" kind: a poll copy's id, so votes on it count."""
        if not isinstance(result, Message) or result.poll is None:
            return
        async with self.sessions() as session:
            await service.poll_sent(
                session, row.id, row.ref_id, row.chat_id, result.message_id, result.poll.id, utcnow()
            )
            await session.commit()

    # -- scheduler jobs ---------------------------------------------------------------------

    async def close_due(self) -> None:
        """Close surveys whose time is up (native polls: their copies get "poll_stop" rows)."""
        async with self.sessions() as session:
            closed = await service.close_due_surveys(session, utcnow())
            await session.commit()
        if closed:
            log_event(log, "surveys_closed", count=closed)
            self._wake()

    async def send_reminders(self) -> None:
        async with self.sessions() as session:
            queued = await service.due_survey_reminders(session, utcnow())
            await session.commit()
        if queued:
            log_event(log, "survey_reminders_queued", messages=queued)
            self._wake()

    def _wake(self) -> None:
        for callback in self.on_enqueued:
            callback()

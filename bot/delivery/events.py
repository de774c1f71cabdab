"""Events on the delivery engine: the notices (published, changed, cancelled, a seat for you...)
and reminders each member gets, rendered from the database in their language and zone; and the
scheduler jobs that hand due reminders to the outbox and pass expired seat offers on."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from html import escape
from typing import Any

from aiogram.methods import SendMessage, TelegramMethod
from aiogram.utils.i18n import I18n
from babel.dates import format_timedelta
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.origins import Origins
from bot.delivery.outbox import Claimed
from bot.i18n import format_when
from bot.logs import log_event
from bot.services import events as service
from bot.services.events.reminders import release_reminders
from bot.views.events import card_keyboard, event_card, session_card, when_text
from bot.views.origin import with_origin
from storage.models import Event, EventStatus, RsvpStatus
from storage.types import utcnow

log = logging.getLogger(__name__)
_CACHE_SECONDS = 3.0  # counts on a notice may be this much behind


class EventDelivery:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], i18n: I18n, lease: timedelta | None = None
    ) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.lease = lease  # a reminder claimed by a process that died is taken again after it
        self.on_enqueued: list[Any] = []
        self._cache: dict[int, tuple[float, Event | None, dict[RsvpStatus, int]]] = {}
        self._sessions_cache: dict[int, tuple[float, list[int]]] = {}  # training id -> session ids
        self.origins = Origins(sessions)

    async def _event(
        self, session: AsyncSession, event_id: int
    ) -> tuple[Event | None, dict[RsvpStatus, int]]:
        """The event and its counts, shared by the messages of one batch for a few seconds (a
        reminder to a thousand members reads them once, not a thousand times)."""
        cached = self._cache.get(event_id)
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1], cached[2]
        event = await session.get(Event, event_id)
        counts = await service.counts(session, event_id) if event else {}
        self._cache[event_id] = (time.monotonic(), event, counts)
        if len(self._cache) > 1000:
            self._cache.clear()
        return event, counts

    async def _load(self, row: Claimed) -> tuple[Event, dict[RsvpStatus, int], Any] | None:
        async with self.sessions() as session:
            event, counts = await self._event(session, int(row.payload.get("event_id", 0)))
            if event is None:
                return None
            answer = await service.my_answer(session, event.id or 0, row.member_id) if row.member_id else None
            position = (
                await service.waitlist_position(session, event.id or 0, row.member_id)
                if answer is not None and answer.status == RsvpStatus.WAITLISTED and row.member_id
                else None
            )
        return event, counts, (answer.status if answer else None, position)

    async def render_notice(self, row: Claimed) -> TelegramMethod[Any] | None:
        loaded = await self._load(row)
        if loaded is None:
            return None
        event, counts, (answer, position) = loaded
        notice = row.payload.get("notice")
        if notice == "published" and event.status != EventStatus.PUBLISHED:
            return None  # cancelled before the notice went out
        version, zone, language, origin = await self.origins.reading(row, event)
        with self.i18n.context(), self.i18n.use_locale(language):
            _ = self.i18n.gettext
            title = escape(service.event_text(event, version)[0])
            card = event_card(event, version, language, zone, counts, answer, position, origin)
            keyboard = card_keyboard(event, answer)
            if notice == "published":
                text = _("📣 <b>New event</b>") + "\n\n" + card
            elif notice == "changed":
                text = _("✏️ <b>This event has changed.</b> Please check the new details:") + "\n\n" + card
            elif notice == "cancelled":
                when = escape(when_text(event, language, zone))
                text = _("✖ <b>Cancelled:</b> {title}, {when}. Sorry for the change of plans.").format(
                    title=title, when=when
                )
                text, keyboard = with_origin(text, origin), None
            elif notice == "promoted":
                text = _("🎉 A seat freed up: you are now going to <b>{title}</b>!").format(title=title)
                text += "\n\n" + card
            elif notice == "offered":
                until = row.payload.get("offered_until")
                deadline = (
                    escape(service_when(until, language, zone))
                    if until
                    else escape(when_text(event, language, zone))
                )
                text = _("🎟 A seat is free for <b>{title}</b>. Take it before {until}.").format(
                    title=title, until=deadline
                )
                text += "\n\n" + card
            elif notice == "offer_expired":
                text = _(
                    "⌛ The seat offered to you for <b>{title}</b> went to the next person in line."
                ).format(title=title)
                text, keyboard = with_origin(text, origin), None
            else:
                return None
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=keyboard)

    async def render_reminder(self, row: Claimed) -> TelegramMethod[Any] | None:
        loaded = await self._load(row)
        if loaded is None:
            return None
        event, counts, (answer, position) = loaded
        if event.status != EventStatus.PUBLISHED or event.starts_at <= utcnow():
            return None
        if answer not in (RsvpStatus.GOING, RsvpStatus.MAYBE):
            return None  # changed their mind after the reminder was queued
        version, zone, language, origin = await self.origins.reading(row, event)
        with self.i18n.context(), self.i18n.use_locale(language):
            _ = self.i18n.gettext
            left = format_timedelta(event.starts_at - utcnow(), add_direction=True, locale=language)
            text = _("⏰ <b>Reminder:</b> it starts {when}.").format(when=escape(left)) + "\n\n"
            if event.training_id is None:
                text += event_card(event, version, language, zone, counts, answer, position, origin)
            else:
                number, total = await self._session_number(event)
                text += session_card(event, version, number, total, language, zone, origin)
            keyboard = card_keyboard(event, answer)
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=keyboard)

    async def _session_number(self, event: Event) -> tuple[int, int]:
        """(this session's number, how many sessions) among its training's sessions not cancelled;
        read once for the messages of one batch, like `_event` (a reminder goes to every participant)."""
        training_id = event.training_id or 0
        cached = self._sessions_cache.get(training_id)
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            ids = cached[1]
        else:
            async with self.sessions() as session:
                ids = list(
                    (
                        await session.exec(
                            select(Event.id)
                            .where(Event.training_id == training_id, Event.status != EventStatus.CANCELLED)
                            .order_by(col(Event.starts_at), col(Event.id))
                        )
                    ).all()
                )
            if len(self._sessions_cache) > 1000:
                self._sessions_cache.clear()
            self._sessions_cache[training_id] = (time.monotonic(), ids)
        return (ids.index(event.id) + 1 if event.id in ids else 1), max(len(ids), 1)

    # -- scheduler jobs ---------------------------------------------------------------------

    async def release_due_reminders(self) -> None:
        async with self.sessions() as session:
            released = await release_reminders(
                session, utcnow(), **({"lease": self.lease} if self.lease else {})
            )
        for reminder_id, event_id in released.skipped:
            log_event(log, "reminder_skipped", reminder=reminder_id, event=event_id, reason="event_started")
        if released.messages:
            log_event(log, "reminders_released", reminders=released.sent, messages=released.messages)
            for callback in self.on_enqueued:
                callback()

    async def expire_offers(self) -> None:
        async with self.sessions() as session:
            expired = await service.expire_offers(session, utcnow())
            await session.commit()
        if expired:
            log_event(log, "offers_expired", count=expired)
            for callback in self.on_enqueued:
                callback()


def service_when(iso: str, locale: str, zone: str) -> str:
    return format_when(datetime.fromisoformat(iso), locale, zone, "words")

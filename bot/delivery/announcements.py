"""Announcements on the delivery engine: the message each member gets, the organizer's live
progress message and final report, and the clock that releases scheduled announcements."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.utils.i18n import I18n
from babel.dates import format_timedelta
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.origins import Origins
from bot.delivery.outbox import Claimed
from bot.logs import log_event
from bot.services.announcements import (
    KIND,
    AnnouncementError,
    claim_status_message,
    delivery_counts,
    due_scheduled,
    enqueue_announcement,
    store_status_message,
    waiting,
)
from bot.services.announcements.waiting import Waiting
from bot.views.announcements import counts_line, failure_line, member_text, waiting_lines
from storage.models import Announcement, AnnouncementStatus, DeliveryStatus, MediaKind, Organization
from storage.types import utcnow

log = logging.getLogger(__name__)
_CACHE_SECONDS = 5.0


class AnnouncementDelivery:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        i18n: I18n,
        paid_broadcast: bool = False,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.i18n = i18n
        self.paid_broadcast = paid_broadcast
        self.on_enqueued: list[Any] = []  # callbacks (the engine's wake)
        self._cache: dict[int, tuple[float, Announcement | None]] = {}
        self._shown: dict[int, str] = {}
        self._rates: dict[int, tuple[float, int]] = {}
        self.origins = Origins(sessions)

    # -- what members get -----------------------------------------------------------------------

    async def _announcement(self, announcement_id: int) -> Announcement | None:
        cached = self._cache.get(announcement_id)
        if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
            return cached[1]
        async with self.sessions() as session:
            announcement = await session.get(Announcement, announcement_id)
        self._cache[announcement_id] = (time.monotonic(), announcement)
        return announcement

    async def render(self, row: Claimed) -> TelegramMethod[Any] | None:
        announcement = await self._announcement(row.ref_id)
        if announcement is None or announcement.status == AnnouncementStatus.CANCELLED:
            return None
        origin = await self.origins.name(announcement.organization_id, row.language)
        text = member_text(announcement, row.language, origin)
        extra: dict[str, Any] = {"allow_paid_broadcast": True} if self.paid_broadcast else {}
        if announcement.media_kind == MediaKind.PHOTO:
            return SendPhoto(chat_id=row.chat_id, photo=announcement.media_file_id, caption=text, **extra)
        if announcement.media_kind == MediaKind.DOCUMENT:
            return SendDocument(
                chat_id=row.chat_id, document=announcement.media_file_id, caption=text, **extra
            )
        return SendMessage(chat_id=row.chat_id, text=text or "", **extra)

    # -- the clock ------------------------------------------------------------------------------

    async def release_scheduled(self) -> None:
        """APScheduler job: scheduled announcements whose time has come are enqueued. The claim in
        `enqueue_announcement` makes a run in several processes harmless: the one that loses the
        claim skips the announcement (it never cancels one that another process is sending)."""
        async with self.sessions() as session:
            for announcement in await due_scheduled(session, utcnow()):
                organization = await session.get(Organization, announcement.organization_id)
                if organization is None:
                    continue
                try:
                    count = await enqueue_announcement(session, announcement, organization)
                except AnnouncementError as error:
                    await session.rollback()
                    if error.reason == "empty_audience":  # tell the organizer; nobody to send to
                        log_event(log, "scheduled_not_sent", logging.WARNING, announcement=announcement.id)
                        await self._mark_empty(announcement.id)
                    continue  # "not_editable": another process claimed it first
                except Exception as error:  # a passing fault: the next tick tries again
                    await session.rollback()
                    log_event(
                        log,
                        "scheduled_release_failed",
                        logging.WARNING,
                        announcement=announcement.id,
                        error=type(error).__name__,
                    )
                    continue
                await session.commit()
                log_event(log, "scheduled_released", announcement=announcement.id, recipients=count)
        for callback in self.on_enqueued:
            callback()

    async def _mark_empty(self, announcement_id: int) -> None:
        async with self.sessions() as session:
            announcement = await session.get(Announcement, announcement_id)
            if announcement is None:
                return
            announcement.status = AnnouncementStatus.CANCELLED
            announcement.finished_at = utcnow()
            session.add(announcement)
            await session.commit()
            with self.i18n.context(), self.i18n.use_locale(announcement.author_language):
                _ = self.i18n.gettext
                text = _("📣 Announcement #{id} was not sent: nobody in its audience can receive it.").format(
                    id=announcement.id
                )
            await self._notify(announcement, text)

    # -- the organizer's view ---------------------------------------------------------------

    async def report(self) -> None:
        """Edit each running announcement's one status message; finish those with nothing left.
        The message is made once: by the organizer's Send (we wait for it while its creator
        holds the claim), or here for a scheduled announcement (see `services.announcements.status`)."""
        async with self.sessions() as session:
            running = (
                await session.exec(
                    select(Announcement).where(Announcement.status == AnnouncementStatus.SENDING)
                )
            ).all()
            for announcement in running:
                counts = await delivery_counts(session, announcement.id or 0)
                left = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
                held = await waiting(session, announcement.id or 0, utcnow())
                if not announcement.status_message_id:  # None, or CREATING by someone
                    if not await claim_status_message(session, announcement.id or 0, utcnow()):
                        continue  # its creator (the Send) is still sending it: next tick
                    await session.commit()
                    text = (
                        self.final_report(announcement, counts, held)
                        if left == 0
                        else self.progress(announcement, counts, held)
                    )
                    if not await self._create(session, announcement, text):
                        continue
                if left == 0:
                    announcement.status = AnnouncementStatus.SENT
                    announcement.finished_at = utcnow()
                    session.add(announcement)
                    await session.commit()
                    await self._tell(announcement, self.final_report(announcement, counts, held))
                    self._shown.pop(announcement.id or 0, None)
                    continue
                await self._tell(announcement, self.progress(announcement, counts, held))

    async def _create(self, session: AsyncSession, announcement: Announcement, text: str) -> bool:
        """Send the status message this job claimed and record it."""
        key = announcement.id or 0
        try:
            message = await self.bot.send_message(announcement.author_chat_id, text)
        except TelegramAPIError as error:
            log_event(log, "progress_not_shown", logging.WARNING, announcement=key, error=error.message)
            return False
        await store_status_message(session, key, message.message_id)
        await session.commit()
        announcement.status_message_id = message.message_id
        self._shown[key] = text
        return True

    async def _notify(self, announcement: Announcement, text: str) -> None:
        """A one-off word to the organizer (no status message exists for it)."""
        try:
            await self.bot.send_message(announcement.author_chat_id, text)
        except TelegramAPIError as error:
            log_event(
                log, "notice_not_shown", logging.WARNING, announcement=announcement.id, error=error.message
            )

    async def _tell(self, announcement: Announcement, text: str) -> None:
        key = announcement.id or 0
        if self._shown.get(key) == text or not announcement.status_message_id:
            return
        try:
            await self.bot.edit_message_text(
                text=text, chat_id=announcement.author_chat_id, message_id=announcement.status_message_id
            )
            self._shown[key] = text
        except TelegramAPIError as error:
            log_event(log, "progress_not_shown", logging.WARNING, announcement=key, error=error.message)

    def progress(self, announcement: Announcement, counts: dict[DeliveryStatus, int], held: Waiting) -> str:
        total = max(1, sum(counts.values()))
        done = total - counts.get(DeliveryStatus.PENDING, 0) - counts.get(DeliveryStatus.SENDING, 0)
        filled = round(10 * done / total)
        bar = "█" * filled + "░" * (10 - filled)
        language = announcement.author_language
        eta = self._eta(announcement.id or 0, done, total - done)
        with self.i18n.context(), self.i18n.use_locale(language):
            _ = self.i18n.gettext
            lines = [
                _("📣 Sending announcement #{id}").format(id=announcement.id),
                f"{bar} {round(100 * done / total)}%",
                counts_line(counts),
            ]
            if announcement.local_time:
                lines.append(
                    _("Each member gets it at {time} their time.").format(time=announcement.local_time)
                )
            elif eta is not None:
                lines.append(
                    _("About {duration} left.").format(
                        duration=format_timedelta(timedelta(seconds=max(1, eta)), locale=language)
                    )
                )
            zone = announcement.author_timezone
            lines += waiting_lines(held, language, zone, bool(announcement.local_time))
        return "\n".join(lines)

    def _eta(self, key: int, done: int, left: int) -> float | None:
        """Seconds left at the pace measured since the previous report."""
        now = time.monotonic()
        previous = self._rates.get(key)
        self._rates[key] = (now, done)
        if previous is None or done <= previous[1]:
            return None
        pace = (done - previous[1]) / max(0.001, now - previous[0])
        return left / pace

    def final_report(
        self, announcement: Announcement, counts: dict[DeliveryStatus, int], held: Waiting
    ) -> str:
        language = announcement.author_language
        with self.i18n.context(), self.i18n.use_locale(language):
            _ = self.i18n.gettext
            lines = [
                _("✅ Announcement #{id} is delivered.").format(id=announcement.id),
                "",
                _("Received it: {count}").format(count=counts.get(DeliveryStatus.SENT, 0)),
                _("Blocked the bot: {count}").format(count=counts.get(DeliveryStatus.BLOCKED, 0)),
                _("No longer on Telegram: {count}").format(count=counts.get(DeliveryStatus.UNREACHABLE, 0)),
                _("Failed: {count}").format(count=counts.get(DeliveryStatus.FAILED, 0)),
            ]
            reasons = failure_line(held, language)
            if reasons:
                lines.append(reasons)
            if counts.get(DeliveryStatus.CANCELLED):
                lines.append(_("Cancelled: {count}").format(count=counts[DeliveryStatus.CANCELLED]))
            if announcement.started_at and announcement.finished_at:
                took = format_timedelta(announcement.finished_at - announcement.started_at, locale=language)
                lines += ["", _("It took {duration}.").format(duration=took)]
        return "\n".join(lines)


__all__ = ["KIND", "AnnouncementDelivery"]

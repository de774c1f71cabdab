"""Trainings on the delivery engine: the notices each member gets (a new training, a seat for you,
closed, cancelled, removed, a message from the coordinators), rendered from the database at send time
in their language and zone; and the scheduler job that completes finished trainings and opens their
feedback survey (its invitations are the surveys' own outbox rows)."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram.methods import SendMessage, TelegramMethod
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.origins import Origins
from bot.delivery.outbox import Claimed
from bot.logs import log_event
from bot.services import trainings as service
from bot.views.events import when_text
from bot.views.origin import with_origin
from bot.views.trainings import card_keyboard, load, member_view, signups_open, training_card
from storage.models import SignupStatus, Training, TrainingStatus
from storage.types import utcnow

log = logging.getLogger(__name__)


class TrainingDelivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: I18n) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.on_enqueued: list[Any] = []
        self.origins = Origins(sessions)

    async def render_notice(self, row: Claimed) -> TelegramMethod[Any] | None:
        now = utcnow()
        async with self.sessions() as session:
            training = await session.get(Training, int(row.payload.get("training_id", 0)))
            if training is None:
                return None
            data = await load(session, training)
            me = await member_view(session, training.id or 0, row.member_id)
            upcoming = await service.next_session(session, training.id or 0, now)
        notice = row.payload.get("notice")
        version, zone, language, origin = await self.origins.reading(row, training)
        with self.i18n.context(), self.i18n.use_locale(language):
            _ = self.i18n.gettext
            title = escape(service.training_text(training, version)[0])
            card = training_card(data, version, language, zone, me, now, origin)
            keyboard = card_keyboard(data, me, language, zone, now, calendar=True)
            if notice == "published":
                if not signups_open(training, now):
                    return None  # closed or cancelled before the notice went out
                text = _("🎓 <b>New training</b>") + "\n\n" + card
            elif notice == "promoted":
                if me.signup != SignupStatus.CONFIRMED or training.status not in service.TAKING:
                    return None  # left (or the training ended) before the notice went out
                text = _("🎉 A seat freed up: you are now signed up for <b>{title}</b>!").format(title=title)
                if upcoming is not None and upcoming.starts_at - now < service.SOON:
                    when = escape(when_text(upcoming, language, zone))
                    text += "\n\n" + _("⏰ The next session starts in less than 24 hours: {when}.").format(
                        when=when
                    )
                text += "\n\n" + card
            elif notice == "closed":
                text = _(
                    "Sign-ups for <b>{title}</b> are closed, and no seat became free for you. Sorry! "
                    "You will hear about the next trainings."
                ).format(title=title)
                keyboard = None
            elif notice == "removed":
                if me.signup is not None:
                    return None  # signed up again since
                text = _("The coordinators took you off the list of <b>{title}</b>.").format(title=title)
                keyboard = None
            elif notice == "cancelled":
                text = _(
                    "✖ <b>Cancelled:</b> the training {title} will not take place. "
                    "Sorry for the change of plans."
                ).format(title=title)
                keyboard = None
            elif notice == "message":
                if training.status == TrainingStatus.CANCELLED:
                    return None
                body = escape(str(row.payload.get("text") or ""))
                text = _("✉️ <b>Message about {title}</b>").format(title=title) + "\n\n" + body
                keyboard = None
            else:
                return None
        if notice not in ("published", "promoted"):  # no card (which names it): the organization heads it
            text = with_origin(text, origin)
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=keyboard)

    # -- scheduler job ------------------------------------------------------------------------

    async def send_due_feedback(self) -> None:
        """Trainings whose last session ended: completed, and the feedback survey opened."""
        with self.i18n.context():
            async with self.sessions() as session:
                completed = await service.send_due_feedback(session, utcnow())
                await session.commit()
        if completed:
            log_event(log, "trainings_completed", count=completed)
            for callback in self.on_enqueued:
                callback()

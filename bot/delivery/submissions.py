"""Joint positions' submissions on the delivery engine: at the deadline the drafter gets the PDF
(with a caption in their language), the CSV and the XLSX, one outbox row each (kinds in
`bot.services.positions.submission.KINDS`), each file rendered at send time from the database (so
nothing big is stored in the outbox, and signatures withdrawn meanwhile are not in it). Sending a
document needs nothing of the engine but a `SendDocument` with the file's bytes. The closing job
(`close_due`) runs on the scheduler."""

from __future__ import annotations

import logging
from typing import Any

from aiogram.methods import SendDocument, TelegramMethod
from aiogram.types import BufferedInputFile
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Claimed
from bot.logs import log_event
from bot.services.positions import submission as service
from bot.views.position_submission import caption
from storage.models import Member, Position, PositionStatus
from storage.types import utcnow

log = logging.getLogger(__name__)


class SubmissionDelivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: I18n, min_group: int) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.min_group = min_group
        self.on_enqueued: list[Any] = []

    async def render(self, row: Claimed) -> TelegramMethod[Any] | None:
        """One of the three files (the row's kind says which) of the position's submission."""
        with self.i18n.context():
            async with self.sessions() as session:
                position = await session.get(Position, int(row.payload.get("position_id") or 0))
                if position is None or position.status == PositionStatus.WITHDRAWN:
                    return None
                reader = await session.get(Member, row.member_id) if row.member_id else None
                submission = await service.gather(
                    session,
                    position,
                    service.pdf_language(position),
                    min_group=self.min_group,
                    timezone=(reader.timezone if reader else None) or "UTC",
                    now=utcnow(),
                )
            [(name, data)] = await service.render_files(submission, position.id or 0, (row.kind,))
            text = None
            if row.kind == service.KIND:
                with self.i18n.use_locale(row.language):
                    text = caption(submission, closed=position.status == PositionStatus.CLOSED)
        return SendDocument(
            chat_id=row.chat_id, document=BufferedInputFile(data, filename=name), caption=text
        )

    async def close_due(self) -> None:
        """Scheduler job: close the positions whose deadline passed and queue their submissions."""
        async with self.sessions() as session:
            closed = await service.close_due_positions(session, utcnow())
            await session.commit()
        if closed:
            log_event(log, "positions_closed", count=len(closed))
            for callback in self.on_enqueued:
                callback()

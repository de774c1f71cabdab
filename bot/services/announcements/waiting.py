"""Why a broadcast's messages are not out yet: those held until members' quiet hours end (or
their own local time) and those retried after an error, by reason. Shown in the organizer's
progress message and in /announcements, so a report never sits at 70 % unexplained."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.announcements.sending import KIND
from storage.models import DeliveryStatus, OutboxMessage

FLOOD = "TelegramRetryAfter"  # the reason the engine records for a 429's wait


def reason_of(error: str | None) -> str:
    """The kind of an outbox row's last error: flood, server, network or other."""
    name = (error or "").split(":", 1)[0]
    if name == FLOOD:
        return "flood"
    if name == "TelegramServerError":
        return "server"
    if name in {"TelegramNetworkError", "TimeoutError"}:
        return "network"
    return "other"


@dataclass(frozen=True)
class Waiting:
    held: int = 0  # waiting, with no error, for a member's quiet hours to end (or their local time)
    until: datetime | None = None  # when the last of them is due
    retrying: Counter[str] = field(default_factory=Counter)  # reason_of(...) -> messages
    failed: Counter[str] = field(default_factory=Counter)  # the same for messages given up


async def waiting(session: AsyncSession, announcement_id: int, now: datetime) -> Waiting:
    """What holds the announcement's messages back at `now`, and why some failed."""
    mine = (OutboxMessage.kind == KIND, OutboxMessage.ref_id == announcement_id)
    held, until = (
        await session.exec(
            select(func.count(), func.max(OutboxMessage.not_before)).where(
                *mine,
                OutboxMessage.status == DeliveryStatus.PENDING,
                col(OutboxMessage.last_error).is_(None),
                col(OutboxMessage.not_before) > now,
            )
        )
    ).one()
    errors = await session.exec(
        select(OutboxMessage.status, OutboxMessage.last_error, func.count())
        .where(
            *mine,
            col(OutboxMessage.status).in_([DeliveryStatus.PENDING, DeliveryStatus.FAILED]),
            col(OutboxMessage.last_error).is_not(None),
        )
        .group_by(OutboxMessage.status, OutboxMessage.last_error)
    )
    retrying: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for status, error, count in errors.all():
        (retrying if status == DeliveryStatus.PENDING else failed)[reason_of(error)] += int(count)
    return Waiting(int(held or 0), until if held else None, retrying, failed)

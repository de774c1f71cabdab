"""The organizer's one status message per broadcast: created once, then edited as delivery goes
and at last to the final report.

`Announcement.status_message_id`: None — nobody has made it yet (a scheduled announcement);
`CREATING` (0) — its creator is sending it (the organizer's Send, claimed with the announcement
itself); a message id — it exists. The progress job takes over a `CREATING` claim only after
`STATUS_GRACE` (its creator died or was held longer than any flood wait), so it never posts a
second message beside the sender's, and the final report never arrives before "on its way".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import and_, or_, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Announcement

CREATING: Final = 0
STATUS_GRACE: Final = timedelta(minutes=6)  # beyond the longest flood wait a reply sits out (5 min)


async def claim_status_message(session: AsyncSession, announcement_id: int, now: datetime) -> bool:
    """The progress job's claim to create the status message (False: someone else makes it)."""
    result = await (await session.connection()).execute(
        update(Announcement)
        .where(
            col(Announcement.id) == announcement_id,
            or_(
                col(Announcement.status_message_id).is_(None),
                and_(
                    col(Announcement.status_message_id) == CREATING,
                    col(Announcement.started_at) < now - STATUS_GRACE,
                ),
            ),
        )
        .values(status_message_id=CREATING)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def store_status_message(session: AsyncSession, announcement_id: int, message_id: int) -> bool:
    """Record the message its creator sent; False when another took over meanwhile."""
    result = await (await session.connection()).execute(
        update(Announcement)
        .where(col(Announcement.id) == announcement_id, col(Announcement.status_message_id) == CREATING)
        .values(status_message_id=message_id)
    )
    return int(result.rowcount or 0) == 1  # type: ignore[attr-defined]

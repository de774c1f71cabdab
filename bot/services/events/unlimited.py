"""Going or Maybe on an event without a capacity, on PostgreSQL: the member's answer and the
counts read and the answer written in one statement, under the event's lock.

Without a capacity the new answer does not depend on the seats: it is the choice (the same answer
again, or Going while waiting, changes nothing; an offered seat taken keeps its place in tap
order), so the read that `rsvp._answer` makes first can go with the write. The statement starts
after the lock was taken, so on PostgreSQL (READ COMMITTED) it sees every answer committed before;
its parts all see that one snapshot, so the answer and the counts read are those from before the
write (the caller moves the counts). An offer whose claim window ended (it must pass on first)
stops the write: nothing is written and the caller takes the careful way. On SQLite the lock's
own statement reads the answers (`seats.lock_shown_event`); this is not used there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, and_, bindparam, case, exists, func, literal, not_, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.events.seats import Read, read_of
from storage.models import Rsvp, RsvpStatus
from storage.types import UTCDateTime

_TABLE: Any = Rsvp.__table__  # type: ignore[attr-defined]
_EVENT = col(Rsvp.event_id) == bindparam("event_id")
_MINE = select(col(Rsvp.id), col(Rsvp.status), col(Rsvp.seq), col(Rsvp.offered_until)).where(
    _EVENT, col(Rsvp.member_id) == bindparam("member_id")
)
_COUNTED = select(
    *(func.count(case((col(Rsvp.status) == status.value, 1))).label(status.value) for status in RsvpStatus)
).where(_EVENT)
_ENDED = exists().where(
    _EVENT, col(Rsvp.status) == RsvpStatus.OFFERED.value, col(Rsvp.offered_until) <= bindparam("now")
)


def _statement() -> Any:
    mine, counted = _MINE.cte("mine"), _COUNTED.cte("counted")
    ended = select(_ENDED.label("ended")).cte("ended")
    choice = bindparam("choice", type_=_TABLE.c.status.type)
    now = bindparam("now", type_=UTCDateTime())
    new = select(
        bindparam("event_id", type_=_TABLE.c.event_id.type),
        bindparam("member_id", type_=_TABLE.c.member_id.type),
        choice,
        bindparam("seq", type_=_TABLE.c.seq.type),
        literal(False, Boolean()),
        now,
        now,
    ).where(not_(select(ended.c.ended).scalar_subquery()))
    upsert = insert(_TABLE).from_select(
        ["event_id", "member_id", "status", "seq", "attended", "created_at", "updated_at"], new
    )
    kept = _TABLE.c
    written = upsert.on_conflict_do_update(
        index_elements=[kept.event_id, kept.member_id],
        set_={
            "status": upsert.excluded.status,
            # an offered seat taken keeps its place in tap order (as `rsvp._answer`)
            "seq": case(
                (
                    and_(
                        kept.status == RsvpStatus.OFFERED.value,
                        upsert.excluded.status == RsvpStatus.GOING.value,
                    ),
                    kept.seq,
                ),
                else_=upsert.excluded.seq,
            ),
            "offered_until": None,
            "updated_at": upsert.excluded.updated_at,
        },
        where=and_(
            kept.status != upsert.excluded.status,
            not_(
                and_(
                    kept.status == RsvpStatus.WAITLISTED.value,
                    upsert.excluded.status == RsvpStatus.GOING.value,
                )
            ),
        ),
    ).returning(kept.id)
    return (
        select(mine.c.id, mine.c.status, mine.c.seq, mine.c.offered_until, ended.c.ended, *counted.c)
        .select_from(counted.join(ended, true()).outerjoin(mine, true()))
        .add_cte(written.cte("written"))
    )


_READ_AND_WRITE = _statement()


async def read_and_write(
    session: AsyncSession, event_id: int, member_id: int, choice: RsvpStatus, seq: int, now: datetime
) -> Read | None:
    """Write `choice` (Going or Maybe) as the member's answer at `seq` on an event without a
    capacity, locked: the answer and the counts from before (see the module docstring), or None
    when an offer ran out (nothing written)."""
    params = {"event_id": event_id, "member_id": member_id, "choice": choice.value, "seq": seq, "now": now}
    row = (await (await session.connection()).execute(_READ_AND_WRITE, params)).one()
    answer_id, status, answer_seq, offered_until, ended, *counts = row
    return read_of(member_id, answer_id, status, answer_seq, offered_until, bool(ended), counts)

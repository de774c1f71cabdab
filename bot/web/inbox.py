"""The webhook inbox in the database: what makes an acknowledged update durable and a repeated
`update_id` harmless (no aiogram here; the worker in `bot.web.inbox_worker` feeds the Dispatcher).

An update's life: `store` (committed before Telegram gets its 200; a second delivery of the same
`update_id` stores nothing) → `claim` (the oldest pending update of each chat whose chat has none
being handled, so a chat's updates run one at a time and in order, across processes) →
`mark_handled` inside the update's own unit of work (committed with the handler's first write or
reply, so a reply is never sent for an update that could be handled again) → `finish`. A process
that died leaves claims behind: once older than the lease, a claim whose update was marked handled
is finished, any other goes back to pending and is handled by whichever process is alive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import InboxStatus, InboxUpdate
from storage.types import utcnow

T = InboxUpdate.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Received:
    update_id: int
    kind: str
    chat_key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class ClaimedUpdate:
    update_id: int
    payload: dict[str, Any]


def describe(payload: dict[str, Any]) -> Received:
    """The update's id, type and ordering key, from the JSON Telegram posted. Raises ValueError on
    a body that is not an update."""
    update_id = payload.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise ValueError("no update_id")
    kind = next((key for key in payload if key != "update_id"), "")
    if not kind:
        raise ValueError("empty update")
    return Received(update_id, kind[:32], _chat_key(kind, payload[kind], update_id), payload)


def _chat_key(kind: str, event: Any, update_id: int) -> str:
    """The chat whose updates must not overtake each other (a private chat's id is the user's id,
    so a member's poll answers queue with their messages); an update with neither chat nor user
    (a poll's new counts) has a key of its own."""
    if isinstance(event, dict):
        message = event.get("message") if kind == "callback_query" else event
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return f"c{chat['id']}"
        for field in ("from", "user", "voter_chat"):
            who = event.get(field)
            if isinstance(who, dict) and isinstance(who.get("id"), int):
                return f"c{who['id']}"
    return f"u{update_id}"


async def store(session: AsyncSession, received: Received, now: datetime) -> bool:
    """Keep the update (the caller commits before answering 200); False if it was already here."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(T)
        .values(
            update_id=received.update_id,
            chat_key=received.chat_key,
            kind=received.kind,
            payload=received.payload,
            status=InboxStatus.PENDING,
            received_at=now,
            attempts=0,
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    result = await (await session.connection()).execute(statement)
    return bool(result.rowcount)


async def was_polled(session: AsyncSession, update_id: int) -> bool:
    """Long polling: True if this update was handled already (its offset was never confirmed
    because the process was killed, so Telegram delivers it again)."""
    connection = await session.connection()
    found = await connection.execute(select(T.c.update_id).where(T.c.update_id == update_id))
    return found.first() is not None


def record_polled_on_commit(session: AsyncSession, update_id: int, kind: str) -> None:
    """Long polling: remember the update as handled with its unit of work's first commit (which
    comes before any reply leaves: `CommitBeforeSendMiddleware`). Written at commit, not at the
    start, so that on SQLite no update holds the write lock for its whole handler."""
    dialect = session.bind.dialect.name

    def record(sync_session: Any) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        now = utcnow()
        sync_session.connection().execute(
            insert(T)
            .values(
                update_id=update_id,
                chat_key=f"u{update_id}",
                kind=kind[:32],
                payload={},  # nothing of the update is kept, only that it was handled
                status=InboxStatus.DONE,
                received_at=now,
                handled_at=now,
                finished_at=now,
                attempts=1,
            )
            .on_conflict_do_nothing(index_elements=["update_id"])
        )

    event.listen(session.sync_session, "before_commit", record, once=True)


async def claim(session: AsyncSession, worker: str, limit: int, now: datetime) -> list[ClaimedUpdate]:
    """Claim up to `limit` updates, at most one per chat and only for chats with none claimed,
    oldest first; commits. Two processes claiming at once both aim at a chat's oldest pending
    update, and the `status` check on the row lets only one of them have it."""
    pending, busy = T.alias("pending"), T.alias("busy")
    first_of_each_free_chat = (
        select(func.min(pending.c.update_id))
        .where(
            pending.c.status == InboxStatus.PENDING,
            ~exists().where(busy.c.chat_key == pending.c.chat_key, busy.c.status == InboxStatus.CLAIMED),
        )
        .group_by(pending.c.chat_key)
        .order_by(func.min(pending.c.update_id))
        .limit(limit)
    )
    statement = (
        update(T)
        .where(T.c.update_id.in_(first_of_each_free_chat), T.c.status == InboxStatus.PENDING)
        .values(status=InboxStatus.CLAIMED, claimed_by=worker, claimed_at=now, attempts=T.c.attempts + 1)
        .returning(T.c.update_id, T.c.payload)
    )
    rows = (await (await session.connection()).execute(statement)).all()
    await session.commit()
    return sorted((ClaimedUpdate(row[0], row[1]) for row in rows), key=lambda claimed: claimed.update_id)


async def mark_handled(session: AsyncSession, update_id: int, worker: str, now: datetime) -> bool:
    """In the update's own unit of work: True if this worker still holds the claim and nobody
    handled the update yet (on PostgreSQL the row stays locked until that unit of work commits)."""
    result = await (await session.connection()).execute(
        update(T)
        .where(
            T.c.update_id == update_id,
            T.c.claimed_by == worker,
            T.c.status == InboxStatus.CLAIMED,
            T.c.handled_at.is_(None),
        )
        .values(handled_at=now)
    )
    return bool(result.rowcount)


async def finish(
    session: AsyncSession, update_id: int, worker: str, status: InboxStatus, now: datetime
) -> None:
    """The handler returned (DONE) or raised (FAILED): the chat's next update may go."""
    await (await session.connection()).execute(
        update(T)
        .where(T.c.update_id == update_id, T.c.claimed_by == worker, T.c.status == InboxStatus.CLAIMED)
        .values(status=status, finished_at=now)
    )
    await session.commit()


async def renew(session: AsyncSession, worker: str, now: datetime) -> None:
    await (await session.connection()).execute(
        update(T).where(T.c.claimed_by == worker, T.c.status == InboxStatus.CLAIMED).values(claimed_at=now)
    )
    await session.commit()


async def release_stale(session: AsyncSession, now: datetime, lease: timedelta) -> int:
    """Claims older than the lease belong to a dead process: handled ones are finished, the
    others go back to pending. Returns how many went back."""
    cutoff = now - lease
    stale = (T.c.status == InboxStatus.CLAIMED, T.c.claimed_at < cutoff)
    back = await (await session.connection()).execute(
        update(T)
        .where(*stale, T.c.handled_at.is_(None))
        .values(status=InboxStatus.PENDING, claimed_by=None, claimed_at=None)
    )
    await (await session.connection()).execute(
        update(T).where(*stale, T.c.handled_at.is_not(None)).values(status=InboxStatus.DONE, finished_at=now)
    )
    await session.commit()
    return int(back.rowcount or 0)


async def release_own(session: AsyncSession, worker: str, now: datetime) -> int:
    """At a stop: this worker's claims whose handling never committed go back to pending (any
    process handles them), the others are finished. Returns how many went back."""
    own = (T.c.claimed_by == worker, T.c.status == InboxStatus.CLAIMED)
    back = await (await session.connection()).execute(
        update(T)
        .where(*own, T.c.handled_at.is_(None))
        .values(status=InboxStatus.PENDING, claimed_by=None, claimed_at=None)
    )
    await (await session.connection()).execute(
        update(T).where(*own, T.c.handled_at.is_not(None)).values(status=InboxStatus.DONE, finished_at=now)
    )
    await session.commit()
    return int(back.rowcount or 0)


async def purge(session: AsyncSession, before: datetime) -> int:
    """Forget finished updates received before `before` (Telegram gives up redelivering an update
    after 24 hours, so older ids need no remembering)."""
    result = await (await session.connection()).execute(
        delete(T).where(T.c.status.in_([InboxStatus.DONE, InboxStatus.FAILED]), T.c.received_at < before)
    )
    await session.commit()
    return int(result.rowcount or 0)


async def depth(session: AsyncSession) -> dict[str, int]:
    """Updates waiting or being handled, by status (for /metrics and /healthz)."""
    rows = (
        await (await session.connection()).execute(
            select(T.c.status, func.count())
            .where(T.c.status.in_([InboxStatus.PENDING, InboxStatus.CLAIMED]))
            .group_by(T.c.status)
        )
    ).all()
    counts = {str(InboxStatus.PENDING): 0, str(InboxStatus.CLAIMED): 0}
    counts.update({str(status): int(count) for status, count in rows})
    return counts

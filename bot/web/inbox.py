"""The inbox in the database: what makes an acknowledged update durable (webhook: answered 200;
long polling: confirmed by the next getUpdates) and a repeated `update_id` harmless (no aiogram
here; the worker in `bot.web.inbox_worker` feeds the Dispatcher).

An update's life: `store` (committed before Telegram is told it arrived; a second delivery of the same
`update_id` stores nothing) → `claim` (the oldest pending update of each chat whose chat has none
being handled, so a chat's updates run one at a time and in order, across processes) →
`mark_handled_on_commit` in the update's own unit of work (written by the handler's first commit,
which precedes its first reply, so a reply is never sent for an update that could be handled
again; when that unit of work wrote nothing, by a batch of such marks before the reply:
`commit_before_reply`) → `finish` (or, when that commit was its last, finished with the worker's
next `claim`). A process that died leaves claims behind: once older than the lease, a claim whose
update was marked handled is finished, any other goes back to pending and is handled by whichever
process is alive.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, event, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import COMMIT_PENDING, holds_connection, writes_pending
from storage.models import InboxStatus, InboxUpdate
from storage.sqlite_driver import commit_in_statement, defer_statement
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.web.mark_batches import MarkBatches

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


def _insert(dialect: str) -> Any:
    """The INSERT that keeps a new update and ignores a known one, for this dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(T).on_conflict_do_nothing(index_elements=["update_id"])


# Built once per dialect (every update is stored).
_STORE = {dialect: _insert(dialect) for dialect in ("postgresql", "sqlite")}


def _row(received: Received, now: datetime) -> dict[str, Any]:
    return {
        "update_id": received.update_id,
        "chat_key": received.chat_key,
        "kind": received.kind,
        "payload": received.payload,
        "status": InboxStatus.PENDING,
        "received_at": now,
        "attempts": 0,
    }


async def store(session: AsyncSession, received: Received, now: datetime) -> bool:
    """Keep the update (the caller commits before acknowledging it); False if it was already here."""
    statement = _STORE[session.bind.dialect.name]
    result = await (await session.connection()).execute(statement, _row(received, now))
    return bool(result.rowcount)


async def store_all(session: AsyncSession, batch: Sequence[Received], now: datetime) -> None:
    """Keep a batch of updates in one statement (those already here are left as they are); the
    caller commits (on SQLite the statement runs with the transaction's next one)."""
    if batch:
        statement = _STORE[session.bind.dialect.name]
        connection = await session.connection()
        with defer_statement(connection.sync_connection):  # (on SQLite, with the claim's trip)
            await connection.execute(statement, [_row(received, now) for received in batch])


def _first_of_each_free_chat() -> Any:
    """The oldest pending update of each chat that has none claimed, oldest first (`:limit` of them)."""
    pending, busy = T.alias("pending"), T.alias("busy")
    return (
        select(func.min(pending.c.update_id))
        .where(
            pending.c.status == InboxStatus.PENDING,
            ~exists().where(busy.c.chat_key == pending.c.chat_key, busy.c.status == InboxStatus.CLAIMED),
        )
        .group_by(pending.c.chat_key)
        .order_by(func.min(pending.c.update_id))
        .limit(bindparam("limit"))
    )


# Built once (an update's claim is on every update's path).
_CLAIMABLE = _first_of_each_free_chat()
_CLAIM = (
    update(T)
    .where(T.c.update_id.in_(_first_of_each_free_chat()), T.c.status == InboxStatus.PENDING)
    .values(
        status=InboxStatus.CLAIMED,
        claimed_by=bindparam("worker_"),
        claimed_at=bindparam("now_"),
        attempts=T.c.attempts + 1,
    )
    .returning(T.c.update_id, T.c.payload)
)
_CLAIMED = (  # the update is still this worker's claim
    T.c.update_id == bindparam("update_id_"),
    T.c.claimed_by == bindparam("worker_"),
    T.c.status == InboxStatus.CLAIMED,
)
CLAIMED_MANY = (  # the updates still this worker's claims
    T.c.update_id.in_(bindparam("update_ids_", expanding=True)),
    T.c.claimed_by == bindparam("worker_"),
    T.c.status == InboxStatus.CLAIMED,
)
_FINISH_MANY = update(T).where(*CLAIMED_MANY).values(status=InboxStatus.DONE, finished_at=bindparam("now_"))
_MARK = update(T).where(*_CLAIMED, T.c.handled_at.is_(None)).values(handled_at=bindparam("now_"))
_FINISH_MARKED = update(T).where(*_CLAIMED).values(status=InboxStatus.DONE, finished_at=bindparam("now_"))
_FINISH_UNMARKED = (
    update(T)
    .where(*_CLAIMED, T.c.handled_at.is_(None))
    .values(status=InboxStatus.DONE, finished_at=bindparam("now_"), handled_at=bindparam("now_"))
)
_FINISH = update(T).where(*_CLAIMED).values(status=bindparam("status_"), finished_at=bindparam("now_"))


async def claim(
    session: AsyncSession,
    worker: str,
    limit: int,
    now: datetime,
    *,
    look_first: bool = False,
    finished: Sequence[int] = (),
    stored: Sequence[Received] = (),
) -> list[ClaimedUpdate]:
    """Claim up to `limit` updates, at most one per chat and only for chats with none claimed,
    oldest first; commits. Two processes claiming at once both aim at a chat's oldest pending
    update, and the `status` check on the row lets only one of them have it. `stored`: a batch of
    updates kept first, in the same transaction (`store_all`; long polling). `finished`: updates
    of this worker whose handling committed its handled-mark and nothing since, finished (DONE)
    first in the same transaction, so their chats' next updates may be claimed at once (one
    statement and commit for all of them rather than one per update). `look_first`: when there
    may well be nothing to claim (and nothing to keep), a read finds out first (a claim is a
    write: on SQLite it waits for the write lock even when it claims nothing). The transaction
    runs in one greenlet (`run_sync`): its statements are not each a greenlet and a switch of
    their own (issue 15: the claims are on every update's path)."""
    rows = await session.run_sync(_claim, worker, limit, now, look_first, finished, stored)
    return sorted((ClaimedUpdate(row[0], row[1]) for row in rows), key=lambda claimed: claimed.update_id)


def _claim(
    sync_session: Session,
    worker: str,
    limit: int,
    now: datetime,
    look_first: bool,
    finished: Sequence[int],
    stored: Sequence[Received],
) -> Sequence[Any]:
    """`claim`'s transaction: the rows claimed (update id, payload)."""
    connection = sync_session.connection()
    if stored:
        with defer_statement(connection):  # (on SQLite, with the claim's trip)
            connection.execute(_STORE[connection.dialect.name], [_row(received, now) for received in stored])
    if finished:
        done = {"update_ids_": list(finished), "worker_": worker, "now_": now}
        with defer_statement(connection):  # (on SQLite, with the claim's trip)
            connection.execute(_FINISH_MANY, done)
    elif look_first and not stored and connection.execute(_CLAIMABLE, {"limit": 1}).first() is None:
        return []
    rows: Sequence[Any] = []
    if limit > 0:
        with commit_in_statement(connection):  # (the transaction's last statement)
            rows = connection.execute(_CLAIM, {"limit": limit, "worker_": worker, "now_": now}).all()
    sync_session.commit()
    return rows


class ClaimLost(Exception):
    """The update's claim was released (its lease ran out) before its handling committed: the
    commit is refused, so nothing of this handling is kept and no reply leaves for it."""


async def holds(session: AsyncSession, update_id: int, worker: str) -> bool:
    """In the update's own unit of work: True if this worker still holds the claim and nobody
    handled the update yet (a read: nothing is locked while the handler runs)."""
    found = await (await session.connection()).execute(
        select(T.c.update_id).where(
            T.c.update_id == update_id,
            T.c.claimed_by == worker,
            T.c.status == InboxStatus.CLAIMED,
            T.c.handled_at.is_(None),
        )
    )
    return found.first() is not None


class HandledMark:
    """The handled-mark of one update, written with its unit of work's first commit, which comes
    before any reply leaves (`CommitBeforeSendMiddleware`). Written at commit, not at the start,
    so that on SQLite no update holds the write lock for its whole handler; a claim lost in
    between makes that commit fail (`ClaimLost`). Until then `session.info[COMMIT_PENDING]` tells
    the unit of work that a commit is due before any reply, even if nothing else was written
    (then, with `batches`, the mark is written by the next batch instead: `commit_before_reply`)."""

    def __init__(
        self, session: AsyncSession, update_id: int, worker: str, batches: MarkBatches | None = None
    ) -> None:
        self.session, self.update_id, self.worker = session, update_id, worker
        self.batches = batches  # where the mark goes when the unit of work has nothing to commit
        self.written = False
        session.info[COMMIT_PENDING] = True
        session.info[_HANDLED_MARK] = self  # written by `_before_commit`, once

    def _mark(self, sync_session: Session) -> None:
        connection = sync_session.connection()
        last = _nothing_to_flush(sync_session)  # the mark is the commit's last statement: one trip
        with commit_in_statement(connection, "if_changed") if last else nullcontext():
            marked = connection.execute(_MARK, self._keys(utcnow()))
        if not marked.rowcount:
            raise ClaimLost(self.update_id)
        self.written = True
        sync_session.info.pop(COMMIT_PENDING, None)

    def _keys(self, now: datetime) -> dict[str, Any]:
        return {"update_id_": self.update_id, "worker_": self.worker, "now_": now}

    async def finish(self, now: datetime) -> None:
        """The handler returned: DONE in its own unit of work (with the handled-mark if no commit
        wrote it yet), committed with whatever it wrote last. Raises ClaimLost if the claim went."""
        statement = _FINISH_MARKED
        if not self.written:
            self.session.info.pop(_HANDLED_MARK, None)
            self.session.info.pop(COMMIT_PENDING, None)
            statement = _FINISH_UNMARKED
        finished = await (await self.session.connection()).execute(statement, self._keys(now))
        if not self.written and not finished.rowcount:
            raise ClaimLost(self.update_id)
        await self.session.commit()


_HANDLED_MARK = "inbox_handled_mark"  # session.info: the update's mark, not yet written


def _nothing_to_flush(sync_session: Session) -> bool:
    """The commit under way is the whole transaction's (not a savepoint's) and will write nothing
    more than what its statements wrote already."""
    if sync_session.get_nested_transaction() is not None:
        return False
    return not (sync_session.new or sync_session.deleted or sync_session.identity_map.check_modified())


@event.listens_for(Session, "before_commit")
def _before_commit(sync_session: Session) -> None:
    """Every session's commit: an update's handled-mark not yet written is written now (one
    listener for the process; one registered per update cost more than the mark itself)."""
    mark = sync_session.info.pop(_HANDLED_MARK, None)
    if mark is not None:
        mark._mark(sync_session)


def mark_handled_on_commit(
    session: AsyncSession, update_id: int, worker: str, batches: MarkBatches | None = None
) -> HandledMark:
    """The update's handled-mark, written with the first commit of `session` (see `HandledMark`),
    or with `batches` if that commit comes before a reply and has nothing else to keep
    (`commit_before_reply`)."""
    return HandledMark(session, update_id, worker, batches)


async def commit_before_reply(session: AsyncSession) -> None:
    """The unit of work's commit before a reply leaves. When it would keep nothing but the
    update's handled-mark (nothing written, nothing to flush, no savepoint open), the mark goes
    into the next batch of such marks instead (`bot.web.mark_batches`): the reply waits until
    that batch is committed. Raises ClaimLost as the commit would."""
    mark = session.info.get(_HANDLED_MARK)
    batches = None if mark is None else mark.batches
    if (
        batches is None
        or session.sync_session.get_nested_transaction() is not None
        or await writes_pending(session)
    ):
        await session.commit()
        return
    del session.info[_HANDLED_MARK]
    session.info.pop(COMMIT_PENDING, None)
    if holds_connection(session):  # its reads' transaction ends (keeping nothing: on SQLite no trip),
        await session.commit()  # and its connection goes back to the pool before the reply
    await batches.mark(mark.update_id)
    mark.written = True


async def finish(
    session: AsyncSession, update_id: int, worker: str, status: InboxStatus, now: datetime
) -> None:
    """The handler returned (DONE) or raised (FAILED): the chat's next update may go."""
    await (await session.connection()).execute(
        _FINISH, {"update_id_": update_id, "worker_": worker, "status_": status, "now_": now}
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
    return await _release(session, now, T.c.claimed_at < now - lease)


async def release_own(session: AsyncSession, worker: str, now: datetime) -> int:
    """At a stop: this worker's claims whose handling never committed go back to pending (any
    process handles them), the others are finished. Returns how many went back."""
    return await _release(session, now, T.c.claimed_by == worker)


async def release_others(session: AsyncSession, worker: str, now: datetime) -> int:
    """Long polling starts: Telegram lets one process poll a bot, so claims of any other worker
    are a dead process's, released at once rather than after the lease (a member whose update was
    cut by a crash gets their answer right after the restart). Returns how many went back."""
    return await _release(session, now, T.c.claimed_by != worker)


async def _release(session: AsyncSession, now: datetime, which: Any) -> int:
    """The claims `which` selects: handled ones finished, the others back to pending; commits."""
    held = (T.c.status == InboxStatus.CLAIMED, which)
    back = await (await session.connection()).execute(
        update(T)
        .where(*held, T.c.handled_at.is_(None))
        .values(status=InboxStatus.PENDING, claimed_by=None, claimed_at=None)
    )
    await (await session.connection()).execute(
        update(T).where(*held, T.c.handled_at.is_not(None)).values(status=InboxStatus.DONE, finished_at=now)
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

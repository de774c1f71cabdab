"""The member behind an update as of their row's last change, so an update's context does not read
it from the database every time (issue 15: one statement of every update).

One cache per engine (`watch`), keyed by Telegram user id, holding each member's column values
(or that no member has that id: a newcomer's updates before they register). Every INSERT, UPDATE
or DELETE on the members table through the engine drops what it may change, again when its
transaction commits or rolls back (`organization_cache.watch_tables`' way), and a value read in a
transaction that wrote the table is not kept: a profile edit, a language, a registration, an
erasure, the delivery engine marking a member unreachable is seen by the very next update.
A write by the row's id (a flush of a member, or any statement `WHERE members.id = :id`) drops
that member; an INSERT, the ids nobody has (a registration); anything else, everything.

Another process's change (several webhook processes) is seen within `ttl` seconds, as the other
caches' of the update path; long polling keeps entries longer (`sole_process`).
No other process writes members while a long-polling bot runs (the CLI's commands that write,
`restore` and `migrate`, run on a stopped bot). A member written from an entry another process
made stale meanwhile is caught where it matters: a flush of a member this cache handed out first
checks that the row still belongs to the same Telegram account, with the same status (one SELECT,
only for the rare update that writes its member), and fails the update (rolled back, the member
told to try again) if not, so an erasure is never undone by a stale copy.

Each `get` hands the session a fresh instance of its own (no query, no merge), so a handler may
change it and flush as before, and `touch_identity` still works.
"""

from __future__ import annotations

import time
import weakref
from typing import Any

from sqlalchemy import JSON, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql import operators
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.members import get_member
from bot.services.organization_cache import DEFAULT_TTL, WatchedCache, of_session, on_writes
from storage.models import Member, Organization

_MEMBERS = Member.__table__  # type: ignore[attr-defined]
_WATCHED = frozenset({_MEMBERS})  # `in`: an ORM statement's table is an annotated copy, equal to it
# Deleting an organization sets its members' acting organization to NULL.
_ORGANIZATIONS = Organization.__table__  # type: ignore[attr-defined]
_MAPPER = inspect(Member)
_COLUMNS = tuple(attribute.key for attribute in _MAPPER.column_attrs)
_ID = _COLUMNS.index("id")
_LISTS = frozenset(  # JSON lists (interests, muted topics): each instance gets copies
    attribute.key for attribute in _MAPPER.column_attrs if isinstance(attribute.columns[0].type, JSON)
)
_KEPT_MAX = 20_000  # members kept; beyond, the cache starts again (memory stays bounded)
_HANDED = "member-cache-handed"  # session.info: the instances handed out in this session
_CACHES: weakref.WeakKeyDictionary[Engine, MemberCache] = weakref.WeakKeyDictionary()

Values = tuple[Any, ...]  # a member's column values, in `_COLUMNS` order
_EVERYONE = "everyone"  # a write whose rows are not known: forget every member


class MemberCache(WatchedCache):
    def __init__(self, ttl: float = DEFAULT_TTL) -> None:
        super().__init__(ttl)
        self._rows: dict[int, tuple[float, Values]] = {}  # Telegram id → (read at, values)
        self._ids: dict[int, int] = {}  # member id → Telegram id of the rows kept
        self._absent: dict[int, float] = {}  # Telegram ids without a member → read at
        self.shared = True  # other processes may write members (`_still_theirs` guards writes)

    async def get(self, session: AsyncSession, telegram_id: int) -> Member | None:
        """The member with this Telegram id, as an instance of `session` (None if there is none)."""
        kept = self._rows.get(telegram_id)
        if kept is not None and self.fresh(kept[0]):
            return _attached(session, kept[1], self.shared)
        absent = self._absent.get(telegram_id)
        if absent is not None and self.fresh(absent):
            return None
        generation = self.generation
        member = await get_member(session, telegram_id)
        if await self.keeps(session, generation):
            if member is None:
                self._keep_absent(telegram_id)
            elif not inspect(member).modified:
                self._keep(telegram_id, member)
        return member

    def _keep(self, telegram_id: int, member: Member) -> None:
        if len(self._rows) >= _KEPT_MAX:
            self._rows.clear()
            self._ids.clear()
        loaded = member.__dict__
        if any(key not in loaded for key in _COLUMNS):
            return
        values = tuple(list(loaded[key]) if key in _LISTS else loaded[key] for key in _COLUMNS)
        self._rows[telegram_id] = (time.monotonic(), values)
        self._ids[member.id or 0] = telegram_id

    def _keep_absent(self, telegram_id: int) -> None:
        if len(self._absent) >= _KEPT_MAX:
            self._absent.clear()
        self._absent[telegram_id] = time.monotonic()

    def sole_process(self, ttl: float) -> None:
        """This process alone handles updates (long polling) and writes members: keep entries at
        least `ttl` seconds, and write them without checking their rows first."""
        self.keep_at_least(ttl)
        self.shared = False

    def invalidate(self) -> None:
        """Forget every member."""
        super().invalidate()
        self._rows.clear()
        self._ids.clear()
        self._absent.clear()

    def forget(self, member_ids: set[int]) -> None:
        """Forget these members (by row id), and which Telegram ids have none (a write may have
        given one of them a member)."""
        super().invalidate()
        for member_id in member_ids:
            telegram_id = self._ids.pop(member_id, None)
            if telegram_id is not None:
                self._rows.pop(telegram_id, None)
        self._absent.clear()

    def drop(self, written: set[int] | str) -> None:
        """Forget what a write changed: these members' ids, or `_EVERYONE`."""
        if written == _EVERYONE:
            self.invalidate()
        else:
            assert isinstance(written, set)
            self.forget(written)

    def watch(self, engine: AsyncEngine) -> None:
        """Forget what every write to the members table through `engine` may change; the cache of
        `engine`'s sessions from now on (`cache_of`)."""
        self._flag = flag = f"touched-members-{id(self)}"

        def written(conn: Any, statement: Any, context: Any) -> None:
            if statement.table in _WATCHED:
                rows: set[int] | str = _rows_written(statement, context)
            elif context.isdelete:  # an organization
                rows = _EVERYONE
            else:
                return
            pending = conn.info.get(flag)
            if rows == _EVERYONE or pending == _EVERYONE:
                conn.info[flag] = _EVERYONE
            else:
                conn.info[flag] = (pending or set()) | rows  # type: ignore[operator]
            self.drop(rows)

        def ended(conn: Any) -> None:
            rows = conn.info.pop(flag, None)
            if rows is not None:
                self.drop(rows)

        sync_engine = engine.sync_engine
        on_writes(engine, [_MEMBERS, _ORGANIZATIONS], written, ended)
        _CACHES[sync_engine] = self
        self.watching(engine)


def _rows_written(statement: Any, context: Any) -> set[int] | str:
    """The ids of the members a write to the members table may change: an INSERT, none already
    kept (only the Telegram ids without a member go); an UPDATE or DELETE by row id, that row;
    anything else, everyone."""
    if type(statement) is Insert:  # not a dialect's, whose ON CONFLICT may update a row
        return set() if statement.select is None else _EVERYONE
    if not isinstance(statement, Update | Delete):
        return _EVERYONE
    clause = statement.whereclause
    while isinstance(clause, BooleanClauseList) and len(clause.clauses) == 1:
        clause = clause.clauses[0]
    if not (
        isinstance(clause, BinaryExpression)
        and clause.operator is operators.eq
        and getattr(clause.left, "table", None) in _WATCHED
        and getattr(clause.left, "key", None) == "id"
        and isinstance(clause.right, BindParameter)
    ):
        return _EVERYONE
    name = context.compiled.bind_names.get(clause.right)
    ids = {params.get(name) for params in context.compiled_parameters}
    return _EVERYONE if None in ids else {int(value) for value in ids}


def _attached(session: AsyncSession, values: Values, guarded: bool) -> Member:
    """A new instance of the member in `session`, as if just loaded, without a query."""
    key = _MAPPER.identity_key_from_primary_key((values[_ID],))
    present = session.identity_map.get(key)
    if present is not None:
        return present  # type: ignore[return-value]
    member: Member = _MAPPER.class_manager.new_instance()
    member.__dict__.update(zip(_COLUMNS, values, strict=True))
    for name in _LISTS:
        member.__dict__[name] = list(member.__dict__[name])
    make_transient_to_detached(member)
    session.add(member)
    if guarded:
        _handed(session).append(member)
    return member


def _handed(session: AsyncSession) -> list[Member]:
    """The members this session got from a shared cache, not yet checked (`_still_theirs`)."""
    handed: list[Member] | None = session.info.get(_HANDED)
    if handed is None:
        handed = session.info[_HANDED] = []
    return handed


@event.listens_for(Session, "before_flush")
def _still_theirs(session: Session, _context: Any, _instances: Any) -> None:
    """A member handed out from a shared cache (several webhook processes) is written only if its
    row still belongs to the same Telegram account with the same status: another process may have
    erased or blocked it since the entry was read. Else the flush fails (the update is rolled back
    and the member told to try again) and the entry is forgotten."""
    handed: list[Member] | None = session.info.get(_HANDED)
    if not handed:
        return
    written = [member for member in handed if member in session.dirty or member in session.deleted]
    handed[:] = [member for member in handed if not any(member is other for other in written)]
    for member in written:
        attributes = inspect(member).attrs
        cached = tuple(_committed(attributes[key].history) for key in ("telegram_id", "status"))
        now = (
            session.connection()
            .execute(select(_MEMBERS.c.telegram_id, _MEMBERS.c.status).where(_MEMBERS.c.id == member.id))
            .first()
        )
        if now is None or tuple(now) != cached:
            cache = _CACHES.get(session.get_bind())  # type: ignore[arg-type]
            if cache is not None:
                cache.forget({member.id or 0})
            raise StaleDataError(f"member {member.id} was changed by another process since it was cached")


def _committed(history: Any) -> Any:
    """The value an attribute had when loaded (before this session changed it)."""
    return (history.deleted or history.unchanged or (None,))[0]


def cache_of(session: AsyncSession) -> MemberCache | None:
    """The member cache watching the session's engine, if any."""
    return of_session(_CACHES, session)


async def member_of(session: AsyncSession, telegram_id: int) -> Member | None:
    """The member behind an update: from the engine's cache when there is one, else read."""
    cache = cache_of(session)
    return await (cache.get(session, telegram_id) if cache is not None else get_member(session, telegram_id))

"""A joint position from draft to published, withdrawn or closed, and the drafting organization's
list of its positions.

Who is asked: `target` ALL (every active organization: the confederation's staff alone, refused
here for anyone else, whatever the buttons said) or CHOSEN (`target_organizations`, and always
the drafter's own). Publishing claims the draft once (a conditional update: a second tap finds
nothing) and, in the same transaction, asks each organization (`endorsements.ask`) and writes the
audit entry. Texts are checked here too, not only by the dialog."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import case, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.outbox_rows import cancel_pending
from bot.services.positions.endorsements import REQUEST_KIND, ask
from bot.services.positions.signatures import erase_position_signatures
from bot.services.positions.submission import change
from bot.services.refusal import Refusal
from bot.services.roles import Actor
from bot.services.rows import Page
from bot.services.text import TextRejected, clean_line, telegram_length
from storage.models import (
    Organization,
    OrgStatus,
    OutboxMessage,
    Position,
    PositionEndorsement,
    PositionStatus,
    PositionTarget,
)

TITLE_MAX: Final = 200
STATEMENT_MAX: Final = 2500  # with the request around it, one Telegram message (4,096)
ADDRESSEE_MAX: Final = 200
KEEP_DAYS: Final = 90  # members' names are kept this long after the deadline (by default)
PAGE_SIZE: Final = 8
LIVE: Final = (PositionStatus.DRAFT, PositionStatus.OPEN)


class PositionError(Refusal):
    """`reason`: "title_empty", "title_too_long", "statement_empty", "statement_too_long",
    "addressee_empty", "addressee_too_long" (`limit`), "deadline_past", "incomplete" (a text or
    the deadline missing), "target_all" (only the confederation's staff ask every organization)."""


def checked_line(text: str | None, field: str, limit: int) -> str:
    """A title or an addressee: one line, visible, within `limit`."""
    return PositionError.checked_line(text, limit, f"{field}_empty", f"{field}_too_long")


def checked_statement(text: str | None) -> str:
    """The statement: several lines allowed, visible, within `STATEMENT_MAX` (Telegram's units)."""
    try:
        clean_line(text, 10**6)  # something visible
    except TextRejected:
        raise PositionError("statement_empty") from None
    kept = (text or "").strip()
    if telegram_length(kept) > STATEMENT_MAX:
        raise PositionError("statement_too_long", STATEMENT_MAX)
    return kept


LIMITS: Final = {"title": TITLE_MAX, "statement": STATEMENT_MAX, "addressee": ADDRESSEE_MAX}


def checked_text(key: str, text: str | None) -> str:
    """One of the typed texts ("title", "statement", "addressee"), checked."""
    if key == "statement":
        return checked_statement(text)
    return checked_line(text, key, LIMITS[key])


def keep_until_for(deadline: datetime) -> datetime:
    return deadline + timedelta(days=KEEP_DAYS)


def is_super(actor: Actor | None) -> bool:
    return actor is not None and actor.is_super_admin


async def create_draft(
    session: AsyncSession, organization_id: int, title: str, language: str, created_by: int | None
) -> Position:
    position = Position(
        organization_id=organization_id,
        title=checked_line(title, "title", TITLE_MAX),
        language=language,
        created_by=created_by,
    )
    session.add(position)
    await session.flush()
    return position


async def set_translation(
    session: AsyncSession, position: Position, language: str, answers: dict[str, str | None]
) -> None:
    entry = {
        "title": checked_line(answers.get("title"), "title", TITLE_MAX),
        "statement": checked_statement(answers.get("statement")),
    }
    await change(session, position, translations={**position.translations, language: entry})


async def set_deadline(session: AsyncSession, position: Position, deadline: datetime, now: datetime) -> None:
    """The deadline (in the future) and, from it, until when members' names are kept."""
    if deadline <= now:
        raise PositionError("deadline_past")
    await change(session, position, deadline=deadline, keep_until=keep_until_for(deadline))


async def askable(session: AsyncSession, drafting_id: int) -> list[Organization]:
    """The active organizations a drafter may ask, besides their own (asked anyway)."""
    result = await session.exec(
        select(Organization)
        .where(Organization.status == OrgStatus.ACTIVE, Organization.id != drafting_id)
        .order_by(func.lower(Organization.name), col(Organization.id))
    )
    return list(result.all())


async def toggle_asked(session: AsyncSession, position: Position, organization_id: int) -> bool:
    """Ask (or no longer ask) one organization; False for one that may not be asked."""
    if not any(item.id == organization_id for item in await askable(session, position.organization_id)):
        return False
    chosen = set(position.target_organizations) ^ {organization_id}
    await change(session, position, target_organizations=sorted(chosen))
    return True


async def set_target(
    session: AsyncSession, position: Position, target: PositionTarget, actor: Actor | None
) -> None:
    """ALL only for the confederation's staff (`PositionError("target_all")` otherwise)."""
    if target == PositionTarget.ALL and not is_super(actor):
        raise PositionError("target_all")
    await change(session, position, target=target)


async def asked_ids(session: AsyncSession, position: Position) -> list[int]:
    """The active organizations a publication asks: every one (ALL), or the drafter's own and the
    chosen ones."""
    query = select(Organization.id).where(Organization.status == OrgStatus.ACTIVE)
    if position.target != PositionTarget.ALL:
        wanted = {position.organization_id, *position.target_organizations}
        query = query.where(col(Organization.id).in_(sorted(wanted)))
    result = await session.exec(query.order_by(col(Organization.id)))
    return [int(ident) for ident in result.all() if ident is not None]


def check_complete(position: Position, now: datetime) -> None:
    if not (position.title and position.statement and position.addressee and position.deadline):
        raise PositionError("incomplete")
    if position.deadline <= now:
        raise PositionError("deadline_past")


async def _moved(
    session: AsyncSession, position: Position, status: PositionStatus, values: dict[str, Any]
) -> bool:
    """Set `values` if the position is still in `status` (a conditional update: of two taps, one
    wins); False, with nothing written, otherwise."""
    statement = update(Position).where(col(Position.id) == position.id, col(Position.status) == status)
    moved = await (await session.connection()).execute(statement.values(**values))
    if not moved.rowcount:  # type: ignore[attr-defined]
        return False
    await session.refresh(position)
    return True


async def publish(
    session: AsyncSession, position: Position, actor: Actor | None, now: datetime
) -> int | None:
    """Draft → open, claimed once: one pending endorsement per organization asked and one request
    per admin of each (through the outbox). Returns how many organizations were asked; None when
    another tap published it first. `PositionError` when incomplete, past, or ALL for someone who
    is not the confederation's staff."""
    if position.target == PositionTarget.ALL and not is_super(actor):
        raise PositionError("target_all")
    check_complete(position, now)
    values = {"status": PositionStatus.OPEN, "published_at": now, "updated_at": now}
    if not await _moved(session, position, PositionStatus.DRAFT, values):
        return None
    organization_ids = await asked_ids(session, position)
    await ask(session, position, organization_ids, now)
    audit.record(
        session,
        "position.published",
        actor_telegram_id=actor.telegram_id if actor else None,
        organization_id=position.organization_id,
        details={"position_id": position.id, "target": str(position.target), "asked": len(organization_ids)},
    )
    return len(organization_ids)


async def withdraw(session: AsyncSession, position: Position, actor: Actor | None, now: datetime) -> bool:
    """The drafter takes an open position back, once: nothing more can be answered or signed, the
    requests not yet sent are no longer sent, and the members' names under it are deleted (nothing
    is submitted; members no longer see it). (Closing early is the submission's `close_now`.)"""
    values = {"status": PositionStatus.WITHDRAWN, "updated_at": now, "closed_at": now}
    if not await _moved(session, position, PositionStatus.OPEN, values):
        return False
    asked = select(PositionEndorsement.id).where(PositionEndorsement.position_id == position.id)
    await cancel_pending(session, OutboxMessage.kind == REQUEST_KIND, col(OutboxMessage.ref_id).in_(asked))
    erased = await erase_position_signatures(session, position.id or 0)
    audit.record(
        session,
        "position.withdrawn",
        actor_telegram_id=actor.telegram_id if actor else None,
        organization_id=position.organization_id,
        details={"position_id": position.id, "signatures_deleted": erased},
    )
    return True


async def discard(session: AsyncSession, position: Position) -> None:
    if position.status == PositionStatus.DRAFT:
        await session.delete(position)
        await session.flush()


async def organization_positions(
    session: AsyncSession, organization_id: int, offset: int = 0, limit: int = PAGE_SIZE
) -> Page[Position]:
    """The drafting organization's positions: drafts and open ones first, then closed and
    withdrawn ones, the newest first within each."""
    where = Position.organization_id == organization_id
    total = int((await session.exec(select(func.count()).select_from(Position).where(where))).one())
    live = case((col(Position.status).in_(LIVE), 0), else_=1)
    result = await session.exec(
        select(Position)
        .where(where)
        .order_by(live, col(Position.id).desc())
        .offset(max(0, offset))
        .limit(limit)
    )
    return Page(result.all(), total, max(0, offset))

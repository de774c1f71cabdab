"""The organizations asked to endorse a joint position, and their admins' answers.

Publishing writes one pending `PositionEndorsement` per organization asked and one request per
admin of each (outbox kind `REQUEST_KIND`, in the admin's language, speaking for the organization
asked). An admin's answer is one conditional update that also checks, in the same statement, that
the position is open and its deadline to come: an answer after the deadline, or on a withdrawn
or closed position, changes nothing. Each endorsement tells the drafter (`ENDORSED_KIND`, the list
of endorsing organizations rendered at send time, so it grows)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Final

from sqlalchemy import exists, func, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import audit
from bot.services.audience import reachable_members
from bot.services.confederation.listing import administered
from bot.services.outbox_rows import insert_rows, pending_row
from bot.services.positions.submission import recipients
from storage.models import (
    EndorsementDecision,
    Member,
    Membership,
    Organization,
    Position,
    PositionEndorsement,
    PositionSignature,
    PositionStatus,
    Role,
)

# Outbox kinds (one row per kind, ref_id and chat): to each admin of an organization asked, ref_id
# = its endorsement row; to the drafter at each endorsement, ref_id = that audit entry.
REQUEST_KIND: Final = "position_request"
ENDORSED_KIND: Final = "position_endorsed"


class Answer(Enum):
    """What an admin's press came to."""

    CHANGED = "changed"  # the organization's answer is now the one pressed
    SAME = "same"  # it already was
    CLOSED = "closed"  # past the deadline, or the position is closed or withdrawn: nothing changed


@dataclass(frozen=True)
class Asked:
    """An organization asked, with its answer."""

    endorsement: PositionEndorsement
    organization: Organization


def is_open(position: Position, now: datetime) -> bool:
    """May organizations still answer (and members sign)?"""
    return (
        position.status == PositionStatus.OPEN and position.deadline is not None and position.deadline > now
    )


async def ask(
    session: AsyncSession, position: Position, organization_ids: Sequence[int], now: datetime
) -> int:
    """One pending endorsement per organization and one request per admin of each (the row
    speaks for the organization asked). Returns how many requests were written."""
    if not organization_ids:
        return 0
    await (await session.connection()).execute(
        insert(PositionEndorsement),
        [
            {
                "position_id": position.id,
                "organization_id": ident,
                "decision": EndorsementDecision.PENDING,
                "created_at": now,
            }
            for ident in organization_ids
        ],
    )
    rows = []
    answers = await answers_of(session, position.id or 0)
    admins = await _admins_of(session, [asked.organization.id or 0 for asked in answers])
    for asked in answers:
        payload = {"position_id": position.id, "endorsement_id": asked.endorsement.id}
        default = asked.organization.default_language
        for member_id, chat_id, language in admins.get(asked.organization.id or 0, []):
            to = (member_id, chat_id, language or default)
            rows.append(
                pending_row(
                    REQUEST_KIND,
                    asked.endorsement.id,
                    to,
                    payload,
                    now,
                    now,
                    organization_id=asked.organization.id,
                )
            )
    await insert_rows(session, rows)
    return len(rows)


async def answers_of(session: AsyncSession, position_id: int) -> list[Asked]:
    """Every organization asked, with its answer, by name."""
    result = await session.exec(
        select(PositionEndorsement, Organization)
        .join(Organization, col(Organization.id) == col(PositionEndorsement.organization_id))
        .where(PositionEndorsement.position_id == position_id)
        .order_by(func.lower(Organization.name), col(Organization.id))
    )
    return [Asked(endorsement, organization) for endorsement, organization in result.all()]


async def without_admin(session: AsyncSession, answers: Sequence[Asked]) -> list[Organization]:
    """The organizations asked that have not answered and have no admin who can be told: nobody
    got their request (the drafter's card says so)."""
    pending = {
        asked.organization.id: asked.organization
        for asked in answers
        if asked.endorsement.decision == EndorsementDecision.PENDING
    }
    if not pending:
        return []
    told = await _admins_of(session, list(pending))
    return [organization for ident, organization in pending.items() if ident not in told]


async def _admins_of(
    session: AsyncSession, organization_ids: Sequence[int]
) -> dict[int, list[tuple[int, int, str | None]]]:
    """(member id, chat id, language) of the reachable admins of each organization, in one read
    (organizations without any are absent)."""
    if not organization_ids:
        return {}
    result = await session.exec(
        reachable_members()
        .join(Membership, col(Membership.member_id) == col(Member.id))
        .where(col(Membership.organization_id).in_(list(organization_ids)), Membership.role == Role.ADMIN)
        .add_columns(Membership.organization_id)
        .order_by(col(Member.id))
    )
    admins: dict[int, list[tuple[int, int, str | None]]] = {}
    for member_id, chat_id, language, _zone, organization_id in result.all():
        admins.setdefault(organization_id, []).append((member_id, chat_id, language))
    return admins


async def signature_count(session: AsyncSession, position_id: int) -> int:
    query = (
        select(func.count())
        .select_from(PositionSignature)
        .where(PositionSignature.position_id == position_id)
    )
    return int((await session.exec(query)).one())


async def answer(
    session: AsyncSession,
    endorsement: PositionEndorsement,
    decision: EndorsementDecision,
    member_id: int | None,
    actor_telegram_id: int | None,
    now: datetime,
) -> Answer:
    """Record an admin's answer for their organization (checked by the caller: the row was loaded
    through the policy, in the organization asked). Endorsing tells the drafter."""
    if decision == EndorsementDecision.PENDING:
        return Answer.SAME
    still_open = exists().where(
        col(Position.id) == col(PositionEndorsement.position_id),
        col(Position.status) == PositionStatus.OPEN,
        col(Position.deadline) > now,
    )
    changed = await (await session.connection()).execute(
        update(PositionEndorsement)
        .where(
            col(PositionEndorsement.id) == endorsement.id,
            col(PositionEndorsement.decision) != decision,
            still_open,
        )
        .values(decision=decision, decided_by=member_id, decided_at=now)
    )
    position = await session.get(Position, endorsement.position_id)
    if not changed.rowcount:  # type: ignore[attr-defined]
        await session.refresh(endorsement)
        if position is None or not is_open(position, now):
            return Answer.CLOSED
        return Answer.SAME
    await session.refresh(endorsement)
    entry = audit.record(
        session,
        f"position.{'endorsed' if decision == EndorsementDecision.ENDORSED else 'declined'}",
        actor_telegram_id=actor_telegram_id,
        organization_id=endorsement.organization_id,
        details={"position_id": endorsement.position_id},
    )
    if decision == EndorsementDecision.ENDORSED and position is not None:
        await session.flush()
        await tell_drafter(session, position, endorsement.organization_id, entry.id, now)
    return Answer.CHANGED


async def tell_drafter(
    session: AsyncSession, position: Position, endorser_id: int, ref_id: int | None, now: datetime
) -> int:
    """ "‹organization› endorses…" to whoever gets the submission (the drafter while an admin of
    the drafting organization, else its admins), speaking for the drafting organization; `ref_id`:
    the endorsement's audit entry."""
    addressees = await recipients(session, position)
    payload = {"position_id": position.id, "endorser_id": endorser_id}
    rows = [
        pending_row(ENDORSED_KIND, ref_id, to, payload, now, now, organization_id=position.organization_id)
        for to in addressees
    ]
    await insert_rows(session, rows)
    return len(rows)


async def endorsing(session: AsyncSession, position_id: int) -> list[Organization]:
    """The organizations that endorse the position, by name."""
    return [
        asked.organization
        for asked in await answers_of(session, position_id)
        if asked.endorsement.decision == EndorsementDecision.ENDORSED
    ]


async def awaiting(
    session: AsyncSession, member: Member | None, now: datetime
) -> list[tuple[PositionEndorsement, Position]]:
    """The requests still unanswered by organizations the member administers, on open positions,
    the nearest deadline first."""
    organization_ids = [organization.id for organization in await administered(session, member)]
    if not organization_ids:
        return []
    result = await session.exec(
        select(PositionEndorsement, Position)
        .join(Position, col(Position.id) == col(PositionEndorsement.position_id))
        .where(
            col(PositionEndorsement.organization_id).in_(organization_ids),
            PositionEndorsement.decision == EndorsementDecision.PENDING,
            Position.status == PositionStatus.OPEN,
            col(Position.deadline) > now,
        )
        .order_by(col(Position.deadline), col(PositionEndorsement.id))
        .limit(20)
    )
    return [(endorsement, position) for endorsement, position in result.all()]


@dataclass(frozen=True)
class Request:
    """What an admin's request shows: the position, who drafted it, who is asked and the answer."""

    endorsement: PositionEndorsement
    position: Position
    drafting: Organization | None
    asked: Organization | None


async def request_of(session: AsyncSession, endorsement: PositionEndorsement) -> Request | None:
    position = await session.get(Position, endorsement.position_id)
    if position is None:
        return None
    drafting = await session.get(Organization, position.organization_id)
    asked = await session.get(Organization, endorsement.organization_id)
    return Request(endorsement, position, drafting, asked)

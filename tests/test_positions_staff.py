"""Joint positions' staff rules against a real database (SQLite and PostgreSQL): who is asked when
publishing (and only the confederation's staff ask everyone), publishing claimed once, answers
refused after the deadline or once withdrawn, and the requests not yet sent cancelled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.positions import drafts, submission
from bot.services.positions.endorsements import REQUEST_KIND, Answer, answer, answers_of
from bot.services.roles import Actor
from storage.models import (
    DeliveryStatus,
    EndorsementDecision,
    Membership,
    Organization,
    OrgStatus,
    OutboxMessage,
    Position,
    PositionStatus,
    PositionTarget,
    Role,
)
from storage.types import utcnow
from tests.helpers import organization

ADMIN = Actor(telegram_id=501, is_super_admin=False)
ROOT = Actor(telegram_id=502, is_super_admin=True)


async def ready_draft(session: AsyncSession, organization_id: int, **fields: object) -> Position:
    draft = await drafts.create_draft(session, organization_id, "Fair visas", "en", None)
    await submission.change(
        session, draft, statement="We ask for fair visa fees.", addressee="The ministry", **fields
    )
    await drafts.set_deadline(session, draft, utcnow() + timedelta(days=3), utcnow())
    return draft


async def others(session: AsyncSession) -> tuple[Organization, Organization, Organization]:
    """An active organization (with an admin), a second active one, a suspended one."""
    from bot.services.members import TelegramIdentity, record_consent

    made = [
        Organization(slug=slug, name=slug.title(), status=status)
        for slug, status in (
            ("alpha", OrgStatus.ACTIVE),
            ("beta", OrgStatus.ACTIVE),
            ("gamma", OrgStatus.SUSPENDED),
        )
    ]
    session.add_all(made)
    await session.flush()
    admin = await record_consent(session, TelegramIdentity(7001, None, "Ivan"), "ru", "UTC", made[0].id)
    membership = (await session.exec(select(Membership).where(Membership.member_id == admin.id))).one()
    membership.role = Role.ADMIN
    session.add(membership)
    await session.flush()
    return made[0], made[1], made[2]


async def test_asking_everyone_is_the_confederation_staffs_alone(session: AsyncSession) -> None:
    home = await organization(session)
    alpha, beta, _suspended = await others(session)
    draft = await ready_draft(session, home.id or 0, target=PositionTarget.ALL)
    with pytest.raises(drafts.PositionError, match="target_all"):
        await drafts.set_target(session, draft, PositionTarget.ALL, ADMIN)
    with pytest.raises(drafts.PositionError, match="target_all"):
        await drafts.publish(session, draft, ADMIN, utcnow())
    assert draft.status == PositionStatus.DRAFT

    assert (
        await drafts.publish(session, draft, ROOT, utcnow()) == 3
    )  # home, alpha, beta: not the suspended one
    assert await drafts.publish(session, draft, ROOT, utcnow()) is None  # claimed once
    asked = {item.organization.id for item in await answers_of(session, draft.id or 0)}
    assert asked == {home.id, alpha.id, beta.id}
    requests = (await session.exec(select(OutboxMessage).where(OutboxMessage.kind == REQUEST_KIND))).all()
    assert [(row.chat_id, row.language, row.organization_id) for row in requests] == [(7001, "ru", alpha.id)]


async def test_chosen_organizations_and_the_drafters_own(session: AsyncSession) -> None:
    home = await organization(session)
    alpha, beta, suspended = await others(session)
    draft = await ready_draft(session, home.id or 0)
    assert await drafts.toggle_asked(session, draft, alpha.id or 0)
    assert not await drafts.toggle_asked(session, draft, suspended.id or 0)  # not askable
    assert not await drafts.toggle_asked(session, draft, home.id or 0)  # asked anyway
    assert await drafts.publish(session, draft, ADMIN, utcnow()) == 2
    assert {item.organization.id for item in await answers_of(session, draft.id or 0)} == {home.id, alpha.id}
    assert beta.id not in draft.target_organizations


async def test_answers_end_at_the_deadline_and_with_a_withdrawal(session: AsyncSession) -> None:
    home = await organization(session)
    alpha, _beta, _suspended = await others(session)
    draft = await ready_draft(session, home.id or 0, target_organizations=[alpha.id])
    await drafts.publish(session, draft, ADMIN, utcnow())
    row = next(
        item.endorsement
        for item in await answers_of(session, draft.id or 0)
        if item.organization.id == alpha.id
    )
    now = utcnow()
    assert await answer(session, row, EndorsementDecision.ENDORSED, None, 7001, now) is Answer.CHANGED
    assert await answer(session, row, EndorsementDecision.ENDORSED, None, 7001, now) is Answer.SAME
    late = draft.deadline + timedelta(seconds=1)  # type: ignore[operator]
    assert await answer(session, row, EndorsementDecision.DECLINED, None, 7001, late) is Answer.CLOSED
    assert row.decision == EndorsementDecision.ENDORSED

    assert await drafts.withdraw(session, draft, ADMIN, now)
    assert not await submission.close_now(session, draft, now, None)  # withdrawn: nothing to close
    assert await answer(session, row, EndorsementDecision.DECLINED, None, 7001, now) is Answer.CLOSED
    statuses = (
        await session.exec(select(OutboxMessage.status).where(col(OutboxMessage.kind) == REQUEST_KIND))
    ).all()
    assert set(statuses) == {DeliveryStatus.CANCELLED}  # the request not yet sent is not sent


async def test_texts_and_deadline_are_checked_by_the_service(session: AsyncSession) -> None:
    home = await organization(session)
    with pytest.raises(drafts.PositionError, match="title_empty"):
        await drafts.create_draft(session, home.id or 0, "\u200b ", "en", None)
    with pytest.raises(drafts.PositionError, match="statement_too_long"):
        drafts.checked_statement("x" * (drafts.STATEMENT_MAX + 1))
    draft = await drafts.create_draft(session, home.id or 0, "Title", "en", None)
    with pytest.raises(drafts.PositionError, match="deadline_past"):
        await drafts.set_deadline(session, draft, utcnow() - timedelta(minutes=1), utcnow())
    with pytest.raises(drafts.PositionError, match="incomplete"):
        await drafts.publish(session, draft, ADMIN, utcnow())

"""Leaving an organization: the membership row goes (so every audience, which joins memberships,
stops at once), the messages of that organization still waiting for the member are cancelled, and
the member's own history (event answers, survey answers, sign-ups) stays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.announcements.sending import KIND as ANNOUNCEMENT
from bot.services.events.notices import NOTICE_KIND as EVENT_NOTICE
from bot.services.events.reminders import KIND as EVENT_REMINDER
from bot.services.library.notices import DECISION_KIND as LIBRARY_DECISION
from bot.services.library.notices import SUGGESTION_KIND as LIBRARY_SUGGESTION
from bot.services.memberships.joining import membership_in
from bot.services.memberships.rules import DECIDED_KIND, LEFT, REQUEST_KIND, MembershipError
from bot.services.outbox_rows import cancel_pending
from bot.services.surveys.rules import KIND as SURVEY
from bot.services.surveys.rules import REMINDER_KIND as SURVEY_REMINDER
from bot.services.trainings.rules import NOTICE_KIND as TRAINING_NOTICE
from storage.models import (
    Announcement,
    AuditEntry,
    Event,
    EventNotice,
    Member,
    Membership,
    OutboxMessage,
    Reminder,
    Resource,
    Role,
    Survey,
    Training,
    TrainingNotice,
)


def organization_rows(organization_id: int) -> Any:
    """Outbox rows sent on behalf of the organization: by kind, the rows whose ref_id names one of
    its announcements, event notices and reminders, survey invitations and reminders, training
    notices, join requests and
    resource suggestions. (A native poll's "poll_stop" only closes a poll already sent: it
    stays.)"""
    own: dict[str, Any] = {
        ANNOUNCEMENT: select(Announcement.id).where(Announcement.organization_id == organization_id),
        EVENT_NOTICE: select(EventNotice.id)
        .join(Event, col(Event.id) == col(EventNotice.event_id))
        .where(Event.organization_id == organization_id),
        EVENT_REMINDER: select(Reminder.id)
        .join(Event, col(Event.id) == col(Reminder.event_id))
        .where(Event.organization_id == organization_id),
        SURVEY: select(Survey.id).where(Survey.organization_id == organization_id),
        SURVEY_REMINDER: select(Survey.id).where(Survey.organization_id == organization_id),
        TRAINING_NOTICE: select(TrainingNotice.id)
        .join(Training, col(Training.id) == col(TrainingNotice.training_id))
        .where(Training.organization_id == organization_id),
        # Join requests and answers are filed under their audit entry.
        REQUEST_KIND: select(AuditEntry.id).where(AuditEntry.organization_id == organization_id),
        DECIDED_KIND: select(AuditEntry.id).where(AuditEntry.organization_id == organization_id),
        # Suggested resources (to its staff, and the answer to the member). The weekly digest spans
        # every organization of the member: it stays, and leaves out what they no longer see.
        LIBRARY_SUGGESTION: select(Resource.id).where(Resource.organization_id == organization_id),
        LIBRARY_DECISION: select(Resource.id).where(Resource.organization_id == organization_id),
    }
    return or_(
        *(
            and_(col(OutboxMessage.kind) == kind, col(OutboxMessage.ref_id).in_(ids))
            for kind, ids in own.items()
        )
    )


async def is_last_admin(session: AsyncSession, organization_id: int, member_id: int) -> bool:
    admins = (
        await session.exec(
            select(Membership.member_id).where(
                Membership.organization_id == organization_id, Membership.role == Role.ADMIN
            )
        )
    ).all()
    return list(admins) == [member_id]


async def leave(session: AsyncSession, member: Member, organization_id: int, now: datetime) -> int:
    """The member leaves the organization ("not_member" if they do not belong to it, "last_admin"
    if no other admin would be left). Returns how many waiting messages were cancelled."""
    membership = await membership_in(session, organization_id, member.id)
    if membership is None or member.id is None:
        raise MembershipError("not_member")
    if membership.role == Role.ADMIN and await is_last_admin(session, organization_id, member.id):
        raise MembershipError("last_admin")
    await (await session.connection()).execute(delete(Membership).where(col(Membership.id) == membership.id))
    session.expunge(membership)
    session.add(
        AuditEntry(
            at=now,
            action=LEFT,
            organization_id=organization_id,
            target_member_id=member.id,
            details={"joined_at": membership.created_at.isoformat()},
        )
    )
    if member.acting_organization_id == organization_id:
        member.acting_organization_id = None
        session.add(member)
    cancelled = await cancel_pending(
        session, col(OutboxMessage.member_id) == member.id, organization_rows(organization_id)
    )
    await session.flush()
    return cancelled


async def membership_count(session: AsyncSession, member_id: int) -> int:
    """How many organizations the member belongs to."""
    query = select(func.count()).select_from(Membership).where(Membership.member_id == member_id)
    return int((await session.exec(query)).one())


async def leave_everywhere(session: AsyncSession, member: Member) -> None:
    """Before an erasure (/forget): the waiting messages of every organization are cancelled (the
    memberships themselves are deleted, and audited as "member.deleted" leaves, by the erasure; an
    admin's erasure is never refused)."""
    memberships = (await session.exec(select(Membership).where(Membership.member_id == member.id))).all()
    for membership in memberships:
        await cancel_pending(
            session, col(OutboxMessage.member_id) == member.id, organization_rows(membership.organization_id)
        )
    await session.flush()

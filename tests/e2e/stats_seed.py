"""Givens of the /stats and /audit tests: two organizations with members, staff, an event, a
training, a survey and an announcement, written as rows (what a year of use would have left)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import SimUser
from bot.services import audit
from bot.services.members import TelegramIdentity, complete_profile, record_consent, update_profile
from storage import models
from storage.db import create_session_factory
from storage.types import utcnow
from tests.e2e.conftest import Harness

# Organization A's 13 members: where they live, their language, where they come from.
PEOPLE_A = [
    *[("Berlin", "DE", "de", "SN")] * 6,
    *[("Hamburg", "DE", "en", "CM")] * 5,
    *[("Lyon", "FR", "fr", "SN")] * 2,
]
B_NAME = "Beta Network"


@dataclass
class Seeded:
    a_id: int
    b_id: int
    members_a: list[models.Member]
    admin_a: SimUser  # admin of A (and a member of it)
    coordinator_a: SimUser
    member_a: SimUser  # a plain member of A
    admin_b: SimUser  # admin of B only


async def _person(
    session: AsyncSession, user: SimUser, organization_id: int, place: tuple[str, str, str, str]
) -> models.Member:
    city, country, language, origin = place
    member = await record_consent(
        session, TelegramIdentity(user.id, user.username, user.first_name), language, "UTC", organization_id
    )
    await update_profile(
        session,
        member,
        display_name=user.first_name,
        residence_city=city,
        residence_country=country,
        origin_country=origin,
        interests=["culture"],
    )
    await complete_profile(session, member)
    return member


async def _role(
    session: AsyncSession, organization_id: int, member: models.Member, role: models.Role
) -> None:
    membership = models.Membership(organization_id=organization_id, member_id=member.id or 0, role=role)
    session.add(membership)
    await session.flush()


async def seed(harness: Harness) -> Seeded:
    emulator, now = harness.emulator, utcnow()
    async with create_session_factory(harness.app.engine)() as session:
        a_id = harness.app.dispatcher["organization"].id
        b = models.Organization(slug="beta", name=B_NAME, invite_code="beta-code-1")
        session.add(b)
        await session.flush()
        b_id = b.id or 0
        members_a = []
        for index, place in enumerate(PEOPLE_A):
            user = emulator.create_user(f"A{index}", language_code=place[2])
            members_a.append(await _person(session, user, a_id, place))
        for index in range(6):
            await _person(session, emulator.create_user(f"B{index}"), b_id, ("Oslo", "NO", "en", "NO"))
        admin_a = emulator.create_user("Adama", username="adama_admin", language_code="en")
        coordinator_a = emulator.create_user("Chidi", username="chidi_coord", language_code="en")
        member_a = emulator.create_user("Mariam", username="mariam_m", language_code="en")
        admin_b = emulator.create_user("Bjorn", username="bjorn_admin", language_code="en")
        staff = [
            (admin_a, a_id, models.Role.ADMIN),
            (coordinator_a, a_id, models.Role.COORDINATOR),
            (member_a, a_id, None),
            (admin_b, b_id, models.Role.ADMIN),
        ]
        for user, organization_id, role in staff:
            member = await record_consent(
                session, TelegramIdentity(user.id, user.username, user.first_name), "en", "UTC", None
            )
            await update_profile(session, member, display_name=user.first_name)
            await _role(session, organization_id, member, role or models.Role.MEMBER)
        # Someone who joined A and left it today, and a role change in each organization.
        audit.record(
            session,
            "membership.left",
            actor_telegram_id=None,
            organization_id=a_id,
            target_member_id=members_a[0].id,
            details={"joined_at": now.isoformat()},
        )
        for organization_id, actor, target in ((a_id, admin_a, members_a[1]), (b_id, admin_b, None)):
            audit.record(
                session,
                "role.granted",
                actor_telegram_id=actor.id,
                organization_id=organization_id,
                target_member_id=target.id if target else None,
                details={"role": "coordinator", "previous": "member"},
            )
        await _activity(session, a_id, b_id, members_a)
        # Registrations audit their joins; the trail these tests read holds only the entries above
        # (joins are counted from the memberships themselves).
        await session.exec(delete(models.AuditEntry).where(models.AuditEntry.action == "membership.joined"))  # type: ignore[call-overload]
        await session.commit()
    return Seeded(a_id, b_id, members_a, admin_a, coordinator_a, member_a, admin_b)


async def _activity(session: AsyncSession, a_id: int, b_id: int, members: list[models.Member]) -> None:
    """A's event two days ago (12 going, 10 came; 5 of them came 60 days ago too), a finished
    training (10 seats, 8 taken, 3 waiting, 6 at both sessions), a survey (10 invitations, 6
    responses), an announcement (8 sent, 2 blocked, 1 failed); B's event (to be left out of A's)."""
    now = utcnow()
    ids = [member.id or 0 for member in members]
    recent = models.Event(
        organization_id=a_id,
        title="Picnic",
        starts_at=now - timedelta(days=2),
        status=models.EventStatus.PUBLISHED,
    )
    earlier = models.Event(
        organization_id=a_id,
        title="Fair",
        starts_at=now - timedelta(days=60),
        status=models.EventStatus.PUBLISHED,
    )
    other = models.Event(
        organization_id=b_id,
        title="Beta meetup",
        starts_at=now - timedelta(days=2),
        status=models.EventStatus.PUBLISHED,
    )
    session.add_all([recent, earlier, other])
    await session.flush()
    rows = [
        models.Rsvp(
            event_id=recent.id or 0, member_id=ids[i], status=models.RsvpStatus.GOING, seq=i, attended=i < 10
        )
        for i in range(12)
    ]
    rows += [models.Rsvp(event_id=recent.id or 0, member_id=ids[12], status=models.RsvpStatus.MAYBE, seq=12)]
    rows += [
        models.Rsvp(
            event_id=earlier.id or 0, member_id=ids[i], status=models.RsvpStatus.GOING, seq=i, attended=True
        )
        for i in range(5)
    ]
    rows += [
        models.Rsvp(
            event_id=other.id or 0, member_id=ids[0], status=models.RsvpStatus.GOING, seq=0, attended=True
        )
    ]
    session.add_all(rows)
    training = models.Training(
        organization_id=a_id, title="Taxes", capacity=10, status=models.TrainingStatus.COMPLETED
    )
    session.add(training)
    await session.flush()
    sessions = [
        models.Event(
            organization_id=a_id,
            title="Taxes",
            training_id=training.id,
            starts_at=now - timedelta(days=days),
            status=models.EventStatus.PUBLISHED,
        )
        for days in (9, 5)
    ]
    session.add_all(sessions)
    await session.flush()
    for index in range(11):
        status = models.SignupStatus.CONFIRMED if index < 8 else models.SignupStatus.WAITLISTED
        session.add(
            models.TrainingSignup(
                training_id=training.id or 0, member_id=ids[index], status=status, seq=index
            )
        )
        if index < 6:
            session.add_all(
                models.Rsvp(
                    event_id=event.id or 0,
                    member_id=ids[index],
                    status=models.RsvpStatus.GOING,
                    seq=0,
                    attended=True,
                )
                for event in sessions
            )
    survey = models.Survey(
        organization_id=a_id, title="Needs", status=models.SurveyStatus.OPEN, opens_at=now - timedelta(days=3)
    )
    announcement = models.Announcement(
        organization_id=a_id,
        author_chat_id=1,
        status=models.AnnouncementStatus.SENT,
        started_at=now - timedelta(days=1),
    )
    session.add_all([survey, announcement])
    await session.flush()
    sent = models.DeliveryStatus.SENT
    _messages(session, "survey", survey.id or 0, ids, [sent] * 10)
    session.add_all(
        models.SurveyResponse(
            survey_id=survey.id or 0,
            member_id=member_id,
            respondent_key=f"m{member_id}",
            status=models.ResponseStatus.SUBMITTED,
        )
        for member_id in ids[:6]
    )
    outcomes = [sent] * 8 + [models.DeliveryStatus.BLOCKED] * 2 + [models.DeliveryStatus.FAILED]
    _messages(session, "announcement", announcement.id or 0, ids, outcomes)
    await session.flush()


def _messages(
    session: AsyncSession, kind: str, ref_id: int, ids: list[int], outcomes: list[models.DeliveryStatus]
) -> None:
    """Outbox rows of `kind` for `ref_id`, one per outcome, to the members in order."""
    session.add_all(
        models.OutboxMessage(kind=kind, ref_id=ref_id, member_id=member_id, chat_id=member_id, status=status)
        for member_id, status in zip(ids, outcomes, strict=False)
    )

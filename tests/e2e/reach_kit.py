"""Givens for the tests of a deployment with several organizations: organizations and memberships
written straight into the database (the /orgs dialogs are tested on their own), events, trainings,
surveys and announcements of any organization through the services, and what the emulator shows a
member (their messages, the toast of a pressed button)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from bot.sandbox import SimUser
from bot.services import events as event_service
from bot.services import surveys as survey_service
from bot.services import trainings as training_service
from bot.services.announcements import enqueue_announcement
from bot.services.trainings.rules import SessionInput
from storage.db import create_session_factory
from storage.models import Announcement, Member, Membership, Organization, OrgStatus, Role
from storage.types import utcnow
from tests.e2e.conftest import Harness
from tests.e2e.helpers import Question


def home_id(harness: Harness) -> int:
    """The deployment's own organization (the one every registered member joins)."""
    return int(harness.app.dispatcher["organization"].id)


async def add_organization(
    harness: Harness, name: str, *, countries: Sequence[str] = (), status: OrgStatus = OrgStatus.ACTIVE
) -> int:
    """A second (third...) organization, without quiet hours so that notices go at once."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = Organization(
            slug=f"org-{abs(hash(name)) % 10**8}",
            name=name,
            countries=list(countries),
            status=status,
            quiet_start=0,
            quiet_end=0,
        )
        session.add(organization)
        home = await session.get(Organization, home_id(harness))
        assert home is not None
        home.quiet_start = home.quiet_end = 0
        session.add(home)
        await session.commit()
        return organization.id or 0


async def member_row(harness: Harness, user: SimUser) -> Member:
    async with create_session_factory(harness.app.engine)() as session:
        return (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()


async def belongs_to(
    harness: Harness, user: SimUser, *organization_ids: int, role: Role = Role.MEMBER
) -> None:
    """The user's memberships become exactly these organizations (with `role` in each)."""
    member = await member_row(harness, user)
    async with create_session_factory(harness.app.engine)() as session:
        await session.exec(delete(Membership).where(col(Membership.member_id) == member.id))  # type: ignore[call-overload]
        for organization_id in organization_ids:
            session.add(Membership(organization_id=organization_id, member_id=member.id or 0, role=role))
        await session.commit()


async def published_event(harness: Harness, organization_id: int, title: str, **fields: Any) -> int:
    """A published event of the organization, in three days (no notice sent)."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        event = await event_service.create_event(
            session,
            organization_id=organization_id,
            title=title,
            starts_at=utcnow() + timedelta(days=3),
            now=utcnow(),
            **fields,
        )
        await event_service.publish(session, event, organization, utcnow(), announce=False)
        await session.commit()
        return event.id or 0


async def published_training(harness: Harness, organization_id: int, title: str) -> int:
    """An open training of the organization (one session in a week; its notice goes to its members)."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        training = await training_service.create_training(
            session,
            organization,
            None,
            title=title,
            capacity=10,
            sessions=[SessionInput(utcnow() + timedelta(days=7), 90)],
            now=utcnow(),
        )
        await training_service.publish_training(session, training, organization, utcnow())
        await session.commit()
    harness.app.delivery.wake()
    return training.id or 0


async def opened_survey_of(
    harness: Harness,
    organization_id: int,
    title: str,
    questions: list[Question],
    audience: dict[str, Any] | None = None,
    **fields: Any,
) -> int:
    """A survey of the organization opened through the service (its invitations queued)."""
    now = utcnow()
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        survey = await survey_service.create_survey(
            session, organization_id, title, now, closes_at=now + timedelta(days=2), **fields
        )
        for kind, text, settings in questions:
            await survey_service.add_question(session, survey, kind, text, **settings)
        if audience:
            survey.audience = audience
            session.add(survey)
        await survey_service.open_survey(session, survey, organization, now)
        await session.commit()
    harness.app.delivery.wake()
    return survey.id or 0


async def sent_announcement(harness: Harness, organization_id: int, author: SimUser, text: str) -> None:
    """An urgent announcement of the organization to all its members, queued through the service."""
    async with create_session_factory(harness.app.engine)() as session:
        organization = await session.get(Organization, organization_id)
        assert organization is not None
        announcement = Announcement(
            organization_id=organization_id, author_chat_id=author.id, text=text, urgent=True
        )
        session.add(announcement)
        await session.flush()
        await enqueue_announcement(session, announcement, organization)
        await session.commit()
    harness.app.delivery.wake()


async def row(harness: Harness, model: type[Any], ident: int) -> Any:
    async with create_session_factory(harness.app.engine)() as session:
        return await session.get(model, ident)


def received(harness: Harness, user: SimUser, fragment: str) -> list[dict[str, Any]]:
    """The bot's messages to `user` whose text, caption or poll question holds `fragment`."""
    found = []
    for message in harness.emulator.transcript(user.id):
        shown = message.get("text") or message.get("caption") or (message.get("poll") or {}).get("question")
        if message["outgoing"] and fragment in (shown or ""):
            found.append(message)
    return found


def toast(harness: Harness, query_id: str) -> str:
    return str(harness.emulator.callback_answers[query_id].get("text") or "")


async def caught_up(harness: Harness, user: SimUser, quiet: float = 1.0) -> None:
    """Read every message the bot has sent `user` so far (until `quiet` seconds pass without one),
    so that the next reply read is the answer to what they do next."""
    while True:
        try:
            await harness.reply(user, timeout=quiet)
        except TimeoutError:
            return

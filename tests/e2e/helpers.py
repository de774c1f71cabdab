"""Givens and checks the end-to-end tests share: what Telegram shows of an HTML text, the bot's own
organization, a survey opened through the service (the coordinators' side, without the dialog), and
the refusals every typed-time step gives."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import SimUser
from bot.services import surveys as survey_service
from storage.db import create_session_factory
from storage.models import Organization, Survey
from storage.types import utcnow
from tests.e2e.conftest import Harness

# (kind, text, the rest of add_question's fields: options, bounds, translations…)
Question = tuple[str, str, dict[str, Any]]

UNREADABLE_TIME = "I couldn't read that date. Please write it like 2027-03-14 18:30 or 14.03.2027 18:30."
PAST_TIME = "That time has already passed. Please send a time in the future."


def plain(html: str) -> str:
    """The text Telegram shows for an HTML message (tags gone, entities decoded)."""
    return unescape(re.sub(r"<[^>]+>", "", html))


async def our_organization(harness: Harness, session: AsyncSession) -> Organization:
    """The organization the bot serves, loaded in `session`."""
    organization = await session.get(Organization, harness.app.dispatcher["organization"].id)
    assert organization is not None
    return organization


async def opened_survey(harness: Harness, title: str, questions: list[Question], **fields: Any) -> Survey:
    """A survey of the bot's organization with `questions`, opened to its members through the service
    (closing in two days unless `fields` say otherwise); the delivery engine is woken for the
    invitations."""
    now = utcnow()
    async with create_session_factory(harness.app.engine)() as session:
        organization = await our_organization(harness, session)
        survey = await survey_service.create_survey(
            session, organization.id or 0, title, now, **({"closes_at": now + timedelta(days=2)} | fields)
        )
        for kind, text, settings in questions:
            await survey_service.add_question(session, survey, kind, text, **settings)
        await survey_service.open_survey(session, survey, organization, now)
        await session.commit()
    harness.app.delivery.wake()
    return survey


async def refuses_unreadable_and_past_times(
    harness: Harness, user: SimUser, locale: str, unreadable: str = "next tuesday-ish"
) -> None:
    """In a step that asks for a date and time: a text that is no date, then a time already past,
    are each refused with their reason (in `locale`), and the step still waits."""
    for typed, refusal in ((unreadable, UNREADABLE_TIME), ("01.01.2020 10:00", PAST_TIME)):
        reply = await harness.send(user, typed)
        assert reply["text"] == plain(harness.t(refusal, locale)), reply["text"]

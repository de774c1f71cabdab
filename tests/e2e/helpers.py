"""Givens and checks the end-to-end tests share: what Telegram shows of an HTML text, the bot's own
organization, a survey opened through the service (the coordinators' side, without the dialog), the
refusals every typed-time step gives, a wait that fails only when what it counts stops growing; and, for the bot run as
a process of its own, its members, a broadcast waiting in the outbox, the copies it sent, and a
newcomer's first steps."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import format_when
from bot.sandbox import BotAPIEmulator, SimUser
from bot.services import events as event_service
from bot.services import surveys as survey_service
from bot.services.announcements import enqueue_announcement
from bot.services.members import TelegramIdentity, record_consent
from bot.services.roles import ensure_default_organization
from storage.db import create_engine, create_session_factory
from storage.models import Announcement, Event, Member, Membership, Organization, Role, Survey
from storage.types import utcnow
from tests.e2e.conftest import Harness

# (kind, text, the rest of add_question's fields: options, bounds, translations…)
Question = tuple[str, str, dict[str, Any]]

UNREADABLE_TIME = "I couldn't read that date. Please write it like 2027-03-14 18:30 or 14.03.2027 18:30."
PAST_TIME = "{when} has already passed. Which date did you mean? Please send a date and time to come."
PAST_2020 = datetime(2020, 1, 1, 10, 0, tzinfo=UTC)  # what "01.01.2020 10:00" means in UTC


STALL = 120.0  # seconds with no progress before a wait on the bots fails (a guard, never a bound)


async def progress(emulator: BotAPIEmulator, count: Callable[[], int], goal: int) -> None:
    """Until `count()` reaches `goal` (looked at on every call the bots make), however long that
    takes while it grows; fails once it has not grown for `STALL` seconds."""
    loop = asyncio.get_running_loop()
    best, since = -1, loop.time()
    while (now := count()) < goal:
        if now > best:
            best, since = now, loop.time()
        remaining = since + STALL - loop.time()
        assert remaining > 0, f"{now} of {goal}, and no more for {STALL:.0f} s"
        with contextlib.suppress(TimeoutError):
            await emulator.wait_for(lambda _, seen=now: count() != seen, timeout=min(remaining, 1.0))


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
    are each refused with their reason (in `locale`; the past moment named), and the step still
    waits."""
    past_typed = "01.01.2020 10:00"
    past = format_when(PAST_2020, locale, "UTC", "words")
    for typed, refusal in (
        (unreadable, harness.t(UNREADABLE_TIME, locale)),
        (past_typed, harness.t(PAST_TIME, locale, when=past)),
    ):
        reply = await harness.send(user, typed)
        assert reply["text"] == plain(refusal), reply["text"]


async def give_role(harness: Harness, user: SimUser, organization_id: int, role: Role) -> int:
    """`user` (registered) holds `role` in the organization (joined to it if need be); returns their
    member id."""
    async with create_session_factory(harness.app.engine)() as session:
        member = (await session.exec(select(Member).where(Member.telegram_id == user.id))).one()
        membership = (
            await session.exec(
                select(Membership).where(
                    Membership.member_id == member.id, Membership.organization_id == organization_id
                )
            )
        ).first() or Membership(organization_id=organization_id, member_id=member.id or 0)
        membership.role = role
        session.add(membership)
        await session.commit()
        return member.id or 0


async def another_organization(harness: Harness, name: str = "Youth network", slug: str = "youth") -> int:
    """A second organization of the confederation (its invite code "<slug>-invite-1"); its id."""
    async with create_session_factory(harness.app.engine)() as session:
        other = Organization(slug=slug, name=name, invite_code=f"{slug}-invite-1")
        session.add(other)
        await session.commit()
        return other.id or 0


# -- the bot as a process of its own ---------------------------------------------------------------


async def bot_organization(session: AsyncSession) -> Organization:
    """The organization a bot process started with the default settings serves (created now, so the
    test can add its members first)."""
    return await ensure_default_organization(session, "Diaspora Bridge community", "en", "UTC")


async def consented(session: AsyncSession, organization_id: int | None, users: list[SimUser]) -> list[Member]:
    """Each user recorded as a member who consented (English, UTC), in order."""
    return [
        await record_consent(
            session, TelegramIdentity(user.id, None, user.first_name), "en", "UTC", organization_id
        )
        for user in users
    ]


async def meeting_reminded_in(session: AsyncSession, organization: Organization, seconds: int) -> Event:
    """A published "Meeting" an hour and `seconds` away with a reminder an hour before: the
    reminder is due in `seconds` (its members are the caller's to add)."""
    meeting = await event_service.create_event(
        session,
        organization_id=organization.id or 0,
        title="Meeting",
        starts_at=utcnow() + timedelta(minutes=60, seconds=seconds),
        now=utcnow(),
        reminder_offsets=[60],
    )
    await event_service.publish(session, meeting, organization, utcnow(), announce=False)
    return meeting


async def urgent_announcement(
    session: AsyncSession, organization: Organization, author: SimUser, text: str
) -> None:
    """An urgent announcement of `text` by `author`, enqueued to every member of the organization
    (committed with the caller's session)."""
    announcement = Announcement(
        organization_id=organization.id, author_chat_id=author.id, text=text, urgent=True
    )
    session.add(announcement)
    await session.flush()
    await enqueue_announcement(session, announcement, organization)


async def broadcast_waiting(
    emulator: BotAPIEmulator, database_url: str, count: int, text: str
) -> list[SimUser]:
    """In the migrated database (a test's `migrated_url`), `count` new users of the emulator (M0,
    M1…) are members who consented, and an urgent announcement of `text` waits in the outbox for
    them all; the emulator now enforces Telegram's limits, which the bot must keep to. Returns the
    users."""
    emulator.limits.flood_control = True
    users = [emulator.create_user(f"M{i}", language_code="en") for i in range(count)]
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            organization = await bot_organization(session)
            await consented(session, organization.id, users)
            await urgent_announcement(session, organization, users[0], text)
            await session.commit()
    finally:
        await engine.dispose()
    return users


def copies_sent(emulator: BotAPIEmulator, text: str) -> Counter[int]:
    """Per chat, how many messages of exactly `text` the bot sent (and Telegram took)."""
    return Counter(
        call.params.get("chat_id")
        for call in emulator.calls
        if call.method == "sendMessage" and call.ok and call.params.get("text") == text
    )


async def consents_in_swahili(emulator: BotAPIEmulator) -> SimUser:
    """Wanjiru, new, sends /start, picks Kiswahili and agrees to the privacy notice (through the
    emulator alone: the bot runs as a process of its own). The profile questions come next."""
    user = emulator.create_user("Wanjiru", language_code="sw")
    await emulator.send_text(user, "/start")
    greeting = await emulator.next_bot_message(user.id, timeout=30)
    await emulator.press_button(user, greeting, text="📱 Kiswahili")  # her app's language, first
    await emulator.wait_for(lambda emu: "/mydata" in emu.transcript(user.id)[-1]["text"], timeout=30)
    notice = emulator.transcript(user.id)[-1]
    await emulator.press_button(user, notice, text=notice["reply_markup"]["inline_keyboard"][0][0]["text"])
    return user


def answered_before(emulator: BotAPIEmulator, since: int, query_id: str, method: str) -> bool:
    """Whether the press `query_id` was answered once, before the first `method` call made since
    the emulator's `since`-th call (slow work, such as drawing a chart, comes after the answer)."""
    calls = emulator.calls[since:]
    answers = [
        index
        for index, call in enumerate(calls)
        if call.method == "answerCallbackQuery" and str(call.params.get("callback_query_id")) == query_id
    ]
    first = next(index for index, call in enumerate(calls) if call.method == method)
    return len(answers) == 1 and answers[0] < first

"""`diaspora-bridge sandbox`: the real bot against the local Bot API emulator, chatted with in a browser.

No token and no internet: the emulator plays Telegram (with its flood limits), the bot runs unchanged
on its own database (``./data/sandbox.sqlite3``) and ``web.py`` shows the chats. ``--demo`` seeds a
small community through the real services; ``seed_demo`` is the hook later features extend.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services import surveys as survey_service
from bot.services import trainings as training_service
from bot.services.events import create_event, publish
from bot.services.members import (
    TelegramIdentity,
    complete_profile,
    get_member,
    record_consent,
    update_profile,
)
from bot.services.roles import Actor, ensure_default_organization, grant_role, role_holders, role_of
from storage.db import create_session_factory
from storage.models import Event, Member, Organization, QuestionKind, Role, Survey, Training
from storage.types import utcnow

from .emulator import BotAPIEmulator
from .rules import Limits
from .web import RoleLookup, SandboxWeb

if TYPE_CHECKING:
    from bot.app import App

SANDBOX_TOKEN = "7000000001:SANDBOX-local-emulator-not-a-telegram-token"
SANDBOX_DATABASE_URL = "sqlite+aiosqlite:///./data/sandbox.sqlite3"
BOT_USERNAME = "diaspora_bridge_bot"


class SandboxError(Exception):
    """An expected problem (the port is taken...): one line for the terminal, no traceback."""


@dataclass(frozen=True)
class DemoPerson:
    """A simulated person of the demo community; ``telegram_id`` is also their emulator user id."""

    telegram_id: int
    first_name: str
    last_name: str
    username: str
    language: str
    timezone: str
    origin: str | None = None
    residence: str | None = None
    city: str | None = None
    interests: tuple[str, ...] = ()
    role: Role | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


DEMO_ADMIN = DemoPerson(700_000_001, "Admin", "", "sandbox_admin", "en", "UTC")
DEMO_PEOPLE = (
    DEMO_ADMIN,
    DemoPerson(
        700_000_002, "Fatou", "Diop", "fatou_diop", "fr", "Europe/Paris", "SN", "FR", "Lyon",
        ("events", "culture", "women"), Role.ORGANIZER,
    ),
    DemoPerson(
        700_000_003, "Oksana", "Kovalenko", "oksana_k", "uk", "Europe/Berlin", "UA", "DE", "Berlin",
        ("trainings", "volunteering", "legal"), Role.COORDINATOR,
    ),
    DemoPerson(
        700_000_004, "Amina", "Hassan", "amina_hassan", "ar", "Africa/Nairobi", "SD", "KE", "Nairobi",
        ("health", "women", "legal"),
    ),
    DemoPerson(
        700_000_005, "Carlos", "Mendoza", "carlos_mdz", "es", "America/Toronto", "CO", "CA", "Toronto",
        ("business", "events"),
    ),
    DemoPerson(
        700_000_006, "João", "Silva", "joao_silva", "pt", "Europe/Lisbon", "AO", "PT", "Lisbon",
        ("business", "youth", "culture"),
    ),
    DemoPerson(
        700_000_007, "Wanjiru", "Kamau", "wanjiru_k", "sw", "America/Toronto", "KE", "CA", "Toronto",
        ("trainings", "youth", "events"),
    ),
    DemoPerson(
        700_000_008, "Ivan", "Rusu", "ivan_rusu", "ru", "Europe/Berlin", "MD", "DE", "Berlin",
        ("trainings", "volunteering"),
    ),
    DemoPerson(
        700_000_009, "Emily", "Mensah", "emily_mensah", "en", "America/Toronto", "GH", "CA", "Toronto",
        ("volunteering", "culture", "health"),
    ),
)  # fmt: skip


async def seed_demo(session: AsyncSession, settings: Settings) -> Organization:
    """DEMO HOOK: fill the sandbox database with a small community, idempotently, through the services.

    Later features (events, trainings, surveys...) add their demo data here, after the people.
    Members already registered are left as they are (the demo user may have edited them in the bot).
    """
    organization = await ensure_default_organization(
        session, settings.organization_name, settings.default_language, settings.default_timezone
    )
    organization_id = organization.id or 0
    actor = Actor(telegram_id=DEMO_ADMIN.telegram_id, is_super_admin=True)
    for person in DEMO_PEOPLE:
        member = await get_member(session, person.telegram_id)
        if member is None or not member.is_registered:
            identity = TelegramIdentity(person.telegram_id, person.username, person.name)
            member = await record_consent(
                session, identity, person.language, person.timezone, organization_id
            )
            await update_profile(
                session,
                member,
                display_name=person.name,
                origin_country=person.origin,
                residence_country=person.residence,
                residence_city=person.city,
                timezone=person.timezone,
                interests=list(person.interests),
            )
            await complete_profile(session, member)
        if person.role is not None and await role_of(session, organization_id, member.id or 0) == Role.MEMBER:
            await grant_role(session, actor, organization_id, member, person.role)
    await _seed_events(session, organization)
    await _seed_training(session, organization)
    await _seed_surveys(session, organization)
    return organization


async def _seed_events(session: AsyncSession, organization: Organization) -> None:
    """Two upcoming events (published quietly: no notices), once."""
    events = select(func.count()).select_from(Event).where(col(Event.training_id).is_(None))
    if (await session.exec(events)).one():  # training sessions are events too: not counted
        return
    now = utcnow()
    soon = (now + timedelta(days=3)).replace(hour=17, minute=0, second=0, microsecond=0)
    samples = [
        {
            "title": "Assemblée générale de la diaspora",
            "description": "Bilan de l'année, budget 2027 et élection du bureau. Bienvenue à tous !",
            "language": "fr",
            "translations": {
                "en": {
                    "title": "Diaspora general assembly",
                    "description": "The year in review, the 2027 budget and the board election.",
                }
            },
            "place": "Maison des associations, Lyon",
            "starts_at": soon,
            "capacity": 40,
        },
        {
            "title": "Legal clinic: residence permits (online)",
            "description": "Volunteer lawyers answer your questions on permits and renewals, 90 minutes.",
            "language": "en",
            "online_url": "https://example.org/workshop",
            "starts_at": soon + timedelta(days=4),
            "ends_at": soon + timedelta(days=4, minutes=90),
            "capacity": 3,
        },
    ]
    for sample in samples:
        event = await create_event(
            session, organization_id=organization.id or 0, now=now, timezone=organization.timezone, **sample
        )
        await publish(session, event, organization, now, announce=False)


DEMO_TRAINING = "Grant writing for associations"
DEMO_SURVEY = "Community needs 2027"
DEMO_POLL = "Summer picnic day"
DEMO_TRAINEES = (700_000_008, 700_000_007, 700_000_004, 700_000_005)  # Ivan, Wanjiru, Amina; Carlos waits


async def _coordinator(session: AsyncSession) -> Member | None:
    return await get_member(session, DEMO_PEOPLE[2].telegram_id)  # Oksana, the demo coordinator


async def _seed_training(session: AsyncSession, organization: Organization) -> None:
    """An open training of two sessions, its three seats taken and one member on the waitlist, once."""
    if (await session.exec(select(Training.id).where(Training.title == DEMO_TRAINING))).first():
        return
    now = utcnow()
    first = (now + timedelta(days=9)).replace(hour=17, minute=0, second=0, microsecond=0)
    url = "https://example.org/grant-writing"
    training = await training_service.create_training(
        session,
        organization,
        await _coordinator(session),
        title=DEMO_TRAINING,
        description="Two evenings to find funders, write a convincing application and build its budget.",
        language="en",
        teaching_languages=["en", "fr"],
        trainer="Oksana Kovalenko",
        capacity=3,
        timezone=organization.timezone,
        questions=[
            {"text": "Which association are you with?"},
            {"text": "Have you written a grant application before?", "options": ["Yes", "No"]},
        ],
        translations={
            "fr": {
                "title": "Rédiger une demande de subvention pour son association",
                "description": "Deux soirées pour trouver des financeurs, rédiger un dossier convaincant "
                "et construire son budget.",
            }
        },
        sessions=[
            training_service.SessionInput(first, 120, online_url=url),
            training_service.SessionInput(first + timedelta(days=7), 120, online_url=url),
        ],
        now=now,
    )
    await training_service.publish_training(session, training, organization, now)
    associations = (
        "Berlin Moldova e.V.",
        "Toronto Kenyan Youth",
        "Sudanese Women Nairobi",
        "Colombia Toronto",
    )
    for telegram_id, association in zip(DEMO_TRAINEES, associations, strict=True):
        member = await get_member(session, telegram_id)
        if member is not None and member.id is not None:
            await training_service.sign_up(session, training.id or 0, member.id, [association, "No"], now)


async def _seed_surveys(session: AsyncSession, organization: Organization) -> None:
    """An open survey of several question kinds and an open native poll, closing in a week; their
    invitations go to every demo member through the outbox. Once each."""
    now = utcnow()
    closes = (now + timedelta(days=7)).replace(hour=18, minute=0, second=0, microsecond=0)
    coordinator = await _coordinator(session)
    creator = coordinator.id if coordinator else None
    seeded = set(
        (
            await session.exec(select(Survey.title).where(col(Survey.title).in_([DEMO_SURVEY, DEMO_POLL])))
        ).all()
    )
    if DEMO_SURVEY not in seeded:
        survey = await survey_service.create_survey(
            session,
            organization.id or 0,
            DEMO_SURVEY,
            now,
            translations={"fr": "Besoins de la communauté 2027"},
            closes_at=closes,
            created_by_member_id=creator,
        )
        questions = [
            (
                QuestionKind.MULTIPLE,
                "Which activities should we run more of?",
                ["Trainings", "Cultural events", "Legal help", "Job networking"],
                "Quelles activités devrions-nous proposer davantage ?",
                ["Formations", "Événements culturels", "Aide juridique", "Réseautage professionnel"],
            ),
            (
                QuestionKind.RATING,
                "How useful was the community this year?",
                None,
                "Quelle a été l'utilité de la communauté cette année ?",
                None,
            ),
            (
                QuestionKind.YES_NO,
                "Would you volunteer a few hours a month?",
                None,
                "Seriez-vous bénévole quelques heures par mois ?",
                None,
            ),
            (QuestionKind.TEXT, "Anything else we should know?", None, "Autre chose à nous dire ?", None),
        ]
        for kind, text, options, french, french_options in questions:
            translation: dict[str, object] = {"text": french}
            if french_options:
                translation["options"] = french_options
            await survey_service.add_question(
                session,
                survey,
                kind,
                text,
                options=options,
                translations={"fr": translation},
                optional=kind == QuestionKind.TEXT,
            )
        await survey_service.open_survey(session, survey, organization, now)
    if DEMO_POLL not in seeded:
        poll = await survey_service.create_survey(
            session,
            organization.id or 0,
            DEMO_POLL,
            now,
            translations={"fr": "Date du pique-nique d'été"},
            closes_at=closes,
            native_poll=True,
            created_by_member_id=creator,
        )
        await survey_service.add_question(
            session,
            poll,
            QuestionKind.SINGLE,
            "Which day suits you for the summer picnic?",
            options=["Saturday", "Sunday"],
            translations={
                "fr": {
                    "text": "Quel jour vous convient pour le pique-nique d'été ?",
                    "options": ["Samedi", "Dimanche"],
                }
            },
        )
        await survey_service.open_survey(session, poll, organization, now)


@dataclass
class Sandbox:
    """A running sandbox: the emulator, the bot polling it, and the web page at ``url``."""

    emulator: BotAPIEmulator
    app: App
    url: str
    polling: asyncio.Task[None]


@contextlib.asynccontextmanager
async def open_sandbox(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    web_port: int = 8765,
    demo: bool = False,
    database_url: str | None = None,
) -> AsyncIterator[Sandbox]:
    """Start the emulator, the real bot and the web page; stop them all on exit."""
    emulator = BotAPIEmulator(token=SANDBOX_TOKEN, limits=Limits(), bot_username=BOT_USERNAME)
    page = SandboxWeb(emulator)
    runner = web.AppRunner(page.app(), access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, web_port).start()  # first: a taken port fails before any work
    except OSError as error:
        await runner.cleanup()
        if error.errno == errno.EADDRINUSE:
            reason = "the port is in use (another sandbox?); choose another one with --port"
        else:
            reason = os.strerror(error.errno) if (error.errno or 0) > 0 else (error.strerror or str(error))
        raise SandboxError(f"cannot serve the sandbox on {host}:{web_port}: {reason}") from None
    from bot.app import create_app  # after the port check: importing the bot (and Alembic) takes a moment
    from bot.web.runner import BackgroundPolling

    app: App | None = None
    polling: BackgroundPolling | None = None
    try:
        api_url = await emulator.start(host="127.0.0.1", port=0)
        admin_ids = settings.admin_ids | {DEMO_ADMIN.telegram_id} if demo else settings.admin_ids
        app = await create_app(
            settings.model_copy(
                update={
                    "bot_token": SecretStr(SANDBOX_TOKEN),
                    "telegram_api_url": api_url,
                    "database_url": database_url or SANDBOX_DATABASE_URL,
                    "admin_ids": admin_ids,
                }
            )
        )
        sessions = create_session_factory(app.engine)
        organization: Organization = app.dispatcher["organization"]
        if demo:
            async with sessions() as session:
                await seed_demo(session, app.settings)
                await session.commit()
            for person in DEMO_PEOPLE:
                emulator.create_user(
                    person.first_name,
                    person.last_name or None,
                    person.username,
                    person.language,
                    user_id=person.telegram_id,
                )
        page.roles = _role_lookup(sessions, organization.id or 0, admin_ids)
        page.first_user_id = await _first_free_id(sessions)
        polling = BackgroundPolling(app)
        task = polling.task
        await emulator.wait_for(
            lambda emu: task.done() or any(call.method == "getUpdates" for call in emu.calls), timeout=60
        )
        if task.done():
            task.result()  # start-up failed: raise why
        bound_host, bound_port = runner.addresses[0][:2]
        yield Sandbox(emulator, app, f"http://{bound_host}:{bound_port}", task)
    finally:
        await runner.cleanup()
        if polling is not None:
            await polling.stop(timeout=15)
        if app is not None:
            await app.close()
        await emulator.stop()


def _role_lookup(
    sessions: async_sessionmaker[AsyncSession], organization_id: int, admin_ids: frozenset[int]
) -> RoleLookup:
    """Role badges for the page: organization roles, and super-admin for ADMIN_IDS."""

    async def roles() -> dict[int, str]:
        async with sessions() as session:
            holders = await role_holders(session, organization_id)
        badges = {member.telegram_id: str(role) for member, role in holders if member.telegram_id is not None}
        return badges | dict.fromkeys(admin_ids, "super-admin")

    return roles


async def _first_free_id(sessions: async_sessionmaker[AsyncSession]) -> int:
    """New simulated users get ids no member of the sandbox database has (it outlives the emulator)."""
    async with sessions() as session:
        highest = (await session.exec(select(func.max(Member.telegram_id)))).one()
    return max(100_001, (highest or 0) + 1)


async def run_sandbox(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    web_port: int = 8765,
    demo: bool = False,
    database_url: str | None = None,
) -> None:
    """Run the sandbox until Ctrl+C or SIGTERM."""
    async with open_sandbox(
        settings, host=host, web_port=web_port, demo=demo, database_url=database_url
    ) as sandbox:
        print(f"Sandbox ready: open {sandbox.url} in your browser (Ctrl+C to stop)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        handled = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
        try:  # until a signal, or the bot stopping by itself (its error then propagates)
            waiter = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, sandbox.polling}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if sandbox.polling.done():
                sandbox.polling.result()
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)


def sandbox_main(settings: Settings, *, host: str = "127.0.0.1", port: int = 8765, demo: bool = False) -> int:
    """The CLI's `sandbox` command: run it, and turn expected problems into one line and exit 1."""
    try:
        asyncio.run(run_sandbox(settings, host=host, web_port=port, demo=demo))
    except SandboxError as error:
        print(f"diaspora-bridge: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0

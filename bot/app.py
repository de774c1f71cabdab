"""Builds the application: engine, Bot (with the retry middleware), Dispatcher and routers.

Nothing heavy happens at import time; `create_app` is called by the CLI and by the tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial, wraps
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.enums import ParseMode
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.aiogram_tuning import (
    JsonRequestSession,
    flatten_bot_context,
    freeze_startup_heap,
    inline_sync_filters,
)
from bot.commands import refresh_chat_commands, set_default_commands
from bot.commit_before_send import CommitBeforeSendMiddleware
from bot.config import Settings
from bot.context import RightsMiddleware
from bot.delivery import DeliveryEngine, EngineConfig
from bot.delivery.announcements import AnnouncementDelivery
from bot.delivery.events import EventDelivery
from bot.delivery.library import LibraryDelivery
from bot.delivery.memberships import MembershipDelivery
from bot.delivery.positions import PositionDelivery
from bot.delivery.ratelimit import ChatBudget, TokenBucket
from bot.delivery.retention import FIRST_CHECK_SECONDS, RETENTION_CHECK_SECONDS, run_retention
from bot.delivery.shared_limits import SharedChatBudget, SharedReplyBudgetMiddleware, shared_limits
from bot.delivery.submissions import SubmissionDelivery
from bot.delivery.surveys import SurveyDelivery
from bot.delivery.trainings import TrainingDelivery
from bot.i18n import create_i18n
from bot.metrics import PROCESS
from bot.middlewares import (
    LocaleMiddleware,
    MemberMiddleware,
    UpdateMiddleware,
)
from bot.observability import FloodCountMiddleware, watch_scheduler_lag
from bot.press_answers import PressAnswerMiddleware
from bot.reply_requests import EditOutcomeMiddleware, ReplyBudgetMiddleware
from bot.routing_gates import gate_routing
from bot.services.announcements import KIND as ANNOUNCEMENT
from bot.services.events import NOTICE_KIND as EVENT_NOTICE
from bot.services.events.reminders import KIND as REMINDER
from bot.services.library import DECISION_KIND as LIBRARY_DECISION
from bot.services.library import DIGEST_KIND as LIBRARY_DIGEST
from bot.services.library import SUGGESTION_KIND as LIBRARY_SUGGESTION
from bot.services.library.digest import DIGEST_CHECK_SECONDS
from bot.services.member_cache import MemberCache
from bot.services.members import get_member
from bot.services.membership_cache import MembershipCache
from bot.services.memberships import DECIDED_KIND as JOIN_DECIDED
from bot.services.memberships import REQUEST_KIND as JOIN_REQUEST
from bot.services.organization_cache import OrganizationCache
from bot.services.positions.endorsements import ENDORSED_KIND as POSITION_ENDORSED
from bot.services.positions.endorsements import REQUEST_KIND as POSITION_REQUEST
from bot.services.positions.signatures import FIRST_PURGE_SECONDS, PURGE_CHECK_SECONDS, run_purge
from bot.services.positions.submission import KINDS as POSITION_SUBMISSION
from bot.services.roles import ensure_default_organization, staff_menus
from bot.services.surveys import KIND as SURVEY
from bot.services.surveys import POLL_STOP_KIND as POLL_STOP
from bot.services.surveys import REMINDER_KIND as SURVEY_REMINDER
from bot.services.trainings import NOTICE_KIND as TRAINING_NOTICE
from bot.services.translate import translator_from
from bot.services.upcoming_cache import UpcomingCache
from bot.telegram_retry import RetryMiddleware
from bot.web.inbox_worker import InboxMiddleware, InboxWorker, purge_handled
from handlers import get_routers, release_routers
from storage.db import create_engine, create_session_factory, pool_size_for
from storage.fsm import SQLStorage
from storage.migrate import upgrade_to_head
from storage.models import Role

if TYPE_CHECKING:
    from bot.web.polling import UpdatePoller

log = logging.getLogger(__name__)
UPDATES_GRACE_SECONDS = 10.0  # at a stop, updates being handled get this long to finish
JOBS_GRACE_SECONDS = 10.0  # and the scheduler's running jobs this long


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n
    delivery: DeliveryEngine
    announcements: AnnouncementDelivery
    scheduler: AsyncIOScheduler
    sessions: async_sessionmaker[AsyncSession]
    redis: Any | None = None  # redis.asyncio.Redis when REDIS_URL is set
    jobs_running: set[asyncio.Task[Any]] = field(default_factory=set)
    inbox: InboxWorker | None = None  # while serving updates (bot.web.runner)
    poller: UpdatePoller | None = None  # while long polling
    library: LibraryDelivery | None = None  # the library's notices and its weekly digest job

    @property
    def worker(self) -> str:
        """This process's name in claims (outbox, inbox) and in /metrics."""
        return self.delivery.config.worker

    async def start_background(self) -> None:
        """The delivery engine and the clock (started with polling, or by the webhook runner)."""
        self.delivery.start()
        if not self.scheduler.running:
            self.scheduler.start()

    async def stop_background(self) -> None:
        """The clock, then the delivery engine stop (updates being handled had their grace from
        the inbox worker's stop). Never raises: a shutdown step that fails is logged and the next
        one runs, so whoever stops the bot is never left waiting (once the rare hang of the test
        suite, under aiogram's own polling)."""
        for step, stop in (("scheduler", self._stop_scheduler), ("delivery", self.delivery.stop)):
            try:
                await stop()
            except Exception:
                log.exception("shutdown_step_failed", extra={"fields": {"step": step}})

    async def _stop_scheduler(self) -> None:
        """No new run starts; runs under way finish (bounded), so none is cancelled mid-way (a
        CancelledError traceback in the log), then the scheduler stops."""
        if self.scheduler.running:
            self.scheduler.pause()
            if self.jobs_running:
                await asyncio.wait(set(self.jobs_running), timeout=JOBS_GRACE_SECONDS)
            self.scheduler.shutdown(wait=False)

    async def _close_redis(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()

    async def close(self) -> None:
        await self.stop_background()
        for step, close in (
            ("bot", self.bot.session.close),
            ("delivery_bot", self.delivery.bot.session.close),
            ("database", self.engine.dispose),
            ("redis", self._close_redis),
        ):
            try:
                await close()
            except Exception:
                log.exception("shutdown_step_failed", extra={"fields": {"step": step}})
        release_routers(self.dispatcher)  # the next App of the process takes them, no copy


def create_bot(settings: Settings, *, for_replies: bool = True, budget: ChatBudget | None = None) -> Bot:
    """The Bot for direct replies (edits already done are done, commit before send, retries, each
    chat's budget shared with the outbox) or, with `for_replies=False`, the delivery engine's Bot,
    which handles 429 and 5xx itself. Request middlewares run in the order they are added."""
    assert settings.bot_token is not None
    session = JsonRequestSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    if for_replies:
        session.middleware(EditOutcomeMiddleware())  # outermost: its fallback is a whole new call
        session.middleware(CommitBeforeSendMiddleware())
        session.middleware(RetryMiddleware())
        if isinstance(budget, SharedChatBudget):  # after the commit, and booked again on every retry
            session.middleware(SharedReplyBudgetMiddleware(budget))
        elif budget is not None:
            session.middleware(ReplyBudgetMiddleware(budget))
        session.middleware(FloodCountMiddleware())  # innermost: sees each 429 before it is waited out
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def _flood_budget(
    settings: Settings, config: EngineConfig
) -> tuple[Any | None, TokenBucket | None, ChatBudget]:
    """The bot's flood budget: in this process, or shared by every process through Redis."""
    per_chat = (config.per_chat_interval, config.per_group_interval)
    if settings.redis_url is None or settings.bot_token is None:
        return None, None, ChatBudget(*per_chat)
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    bot_id = int(settings.bot_token.get_secret_value().split(":", 1)[0])
    bucket, budget = shared_limits(client, bot_id, config.rate, max(1.0, config.rate / 5), *per_chat)
    return client, bucket, budget


async def create_app(settings: Settings, *, migrate: bool = True) -> App:
    if migrate:
        await asyncio.to_thread(upgrade_to_head, settings.database_url)
    engine = create_engine(settings.database_url, pool_size=pool_size_for(settings.max_concurrent_updates))
    sessions = create_session_factory(engine)
    async with sessions() as session:
        organization = await ensure_default_organization(
            session, settings.organization_name, settings.default_language, settings.default_timezone
        )
        await session.commit()

    i18n = create_i18n(settings.default_language)
    engine_config = EngineConfig(
        rate=settings.delivery_rate,
        lease=settings.delivery_lease_seconds,
        per_chat_interval=settings.chat_interval,
        per_group_interval=3 * settings.chat_interval,
    )
    redis_client, bucket, budget = _flood_budget(settings, engine_config)
    bot = create_bot(settings, budget=budget)
    announcements = AnnouncementDelivery(bot, sessions, i18n, paid_broadcast=settings.paid_broadcast)
    events = EventDelivery(sessions, i18n, lease=timedelta(seconds=settings.delivery_lease_seconds))
    surveys = SurveyDelivery(sessions, i18n)
    trainings = TrainingDelivery(sessions, i18n)
    memberships = MembershipDelivery(sessions, i18n)
    library = LibraryDelivery(sessions, i18n, organization.id or 0)
    positions = PositionDelivery(sessions, i18n)
    submissions = SubmissionDelivery(sessions, i18n, settings.survey_min_group)
    delivery = DeliveryEngine(
        create_bot(settings, for_replies=False),
        sessions,
        renderers={
            ANNOUNCEMENT: announcements.render,
            EVENT_NOTICE: events.render_notice,
            REMINDER: events.render_reminder,
            SURVEY: surveys.render_invitation,
            SURVEY_REMINDER: surveys.render_reminder,
            POLL_STOP: surveys.render_poll_stop,
            TRAINING_NOTICE: trainings.render_notice,
            JOIN_REQUEST: memberships.render_request,
            JOIN_DECIDED: memberships.render_decision,
            LIBRARY_SUGGESTION: library.render_suggestion,
            LIBRARY_DECISION: library.render_decision,
            LIBRARY_DIGEST: library.render_digest,
            POSITION_REQUEST: positions.render_request,
            POSITION_ENDORSED: positions.render_endorsed,
            **dict.fromkeys(POSITION_SUBMISSION, submissions.render),
        },
        config=engine_config,
        reporters=[announcements.report],
        after_send={SURVEY: surveys.poll_sent},
        budget=budget,
        bucket=bucket,
    )
    announcements.on_enqueued.append(delivery.wake)
    events.on_enqueued.append(delivery.wake)
    surveys.on_enqueued.append(delivery.wake)
    trainings.on_enqueued.append(delivery.wake)
    library.on_enqueued.append(delivery.wake)
    submissions.on_enqueued.append(delivery.wake)
    scheduler = AsyncIOScheduler(timezone="UTC")
    jobs_running: set[asyncio.Task[Any]] = set()
    jobs = (
        (announcements.release_scheduled, 2, "announcements"),
        (events.release_due_reminders, 5, "reminders"),
        (events.expire_offers, settings.offer_check_seconds, "seat_offers"),
        (surveys.close_due, 10, "survey_closing"),
        (surveys.send_reminders, 30, "survey_reminders"),
        (trainings.send_due_feedback, 60, "training_feedback"),
        (library.write_digests, DIGEST_CHECK_SECONDS, "library_digests"),
        (submissions.close_due, 30, "position_deadlines"),
        (partial(purge_handled, sessions), 3600, "inbox_purge"),
    )
    for job, seconds, name in jobs:
        add_job(scheduler, jobs_running, job, seconds, name)
    if settings.retention_days:  # off by default: no job at all
        retention = partial(run_retention, sessions, settings.retention_days, settings.admin_ids)
        first = datetime.now(UTC) + timedelta(seconds=FIRST_CHECK_SECONDS)
        add_job(scheduler, jobs_running, retention, RETENTION_CHECK_SECONDS, "retention", next_run_time=first)
    purge = partial(run_purge, sessions)  # members' names under positions, once kept long enough
    first_purge = datetime.now(UTC) + timedelta(seconds=FIRST_PURGE_SECONDS)
    add_job(scheduler, jobs_running, purge, PURGE_CHECK_SECONDS, "signature_purge", next_run_time=first_purge)
    watch_scheduler_lag(scheduler)
    dispatcher = Dispatcher(
        storage=SQLStorage(engine),
        # One update of a chat at a time, in order (a double tap, the parts of a long text Telegram
        # cut): updates of different chats still run side by side.
        events_isolation=SimpleEventIsolation(),
        settings=settings,
        organization=organization,
        i18n=i18n,
        sessions=sessions,
        delivery=delivery,
        translator=translator_from(settings),
    )
    # The log line, the unit of work, and the event's user and chat (aiogram's own layer for them out)
    users = next(m for m in dispatcher.update.outer_middleware if isinstance(m, UserContextMiddleware))
    dispatcher.update.outer_middleware.unregister(users)
    dispatcher.update.outer_middleware(UpdateMiddleware(sessions))
    dispatcher.update.outer_middleware(InboxMiddleware())  # handled once, or skipped
    # The dialog state is read in the update's unit of work (aiogram reads it before ours), and
    # not at all for an update skipped.
    dispatcher.update.outer_middleware.unregister(dispatcher.fsm)
    dispatcher.update.outer_middleware(dispatcher.fsm)
    UpcomingCache().watch(engine)  # members' first /events pages (kept only under long polling)
    organizations = OrganizationCache()
    organizations.watch(engine)
    MembershipCache().watch(engine)  # who acts for which organization, roles and rights
    MemberCache().watch(engine)  # the member behind every update
    locales = LocaleMiddleware(i18n)
    # The member, `ctx` and the gettext locale of every event; the error handlers, which run
    # outside the update's middlewares, get the locale of their own.
    dispatcher.update.outer_middleware(
        MemberMiddleware(settings.admin_ids, settings.default_language, organizations, locales)
    )
    dispatcher.errors.outer_middleware(locales)
    dispatcher.callback_query.middleware(PressAnswerMiddleware())  # answered early before slow work
    for name, observer in dispatcher.observers.items():
        if name not in {"update", "error"}:
            observer.middleware(RightsMiddleware())  # names the handler; a refusal after the answer: a toast
    dispatcher.include_routers(*get_routers())
    inline_sync_filters(dispatcher)
    flatten_bot_context()
    gate_routing(dispatcher)
    app = App(
        settings,
        engine,
        bot,
        dispatcher,
        i18n,
        delivery,
        announcements,
        scheduler,
        sessions,
        redis_client,
        jobs_running,
        library=library,
    )
    PROCESS.info({"worker": app.worker})
    dispatcher.startup.register(_on_startup)
    dispatcher.startup.register(app.start_background)
    dispatcher.shutdown.register(app.stop_background)
    return app


def add_job(
    scheduler: AsyncIOScheduler,
    running: set[asyncio.Task[Any]],
    job: Callable[[], Awaitable[Any]],
    seconds: float,
    name: str,
    **options: Any,
) -> None:
    """Run `job` every `seconds` (never two runs at once), its task in `running` while it runs."""
    scheduler.add_job(
        _tracked(job, running),
        "interval",
        seconds=seconds,
        id=name,
        coalesce=True,
        max_instances=1,
        **options,
    )


def _tracked(
    job: Callable[[], Awaitable[Any]], running: set[asyncio.Task[Any]]
) -> Callable[[], Awaitable[None]]:
    """The job, its task known to `running` while it runs (for a clean stop)."""

    @wraps(job)
    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        try:
            await job()
        finally:
            running.discard(task)

    return run


async def _on_startup(
    bot: Bot, settings: Settings, i18n: I18n, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Command menus: per language for everyone, and per chat for role holders (their roles in
    every organization) and super-admins."""
    await set_default_commands(bot, i18n, settings.default_language)
    async with sessions() as session:
        menus = {
            member.telegram_id: (member.language or settings.default_language, roles)
            for member, roles in await staff_menus(session)
            if member.telegram_id is not None
        }
        for admin_id in settings.admin_ids:
            admin = await get_member(session, admin_id)
            if admin is None:  # never talked to the bot: Telegram has no chat to set a menu for
                continue
            language, roles = menus.get(admin_id, (settings.default_language, set()))
            menus[admin_id] = (admin.language or language, roles | {Role.ADMIN})
    for chat_id, (language, roles) in menus.items():
        await refresh_chat_commands(bot, i18n, chat_id, language, roles)
    freeze_startup_heap()

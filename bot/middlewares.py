"""Dispatcher middlewares: logging and one DB unit of work per update, the member, its context and
locale."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.middlewares.user_context import (
    EVENT_CHAT_KEY,
    EVENT_CONTEXT_KEY,
    EVENT_FROM_USER_KEY,
    EVENT_THREAD_ID_KEY,
    UserContextMiddleware,
)
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import resolve_locale
from bot.logs import log_event
from bot.observability import observe_update
from bot.services.acting import acting_organization
from bot.services.member_cache import member_of
from bot.services.members import TelegramIdentity, touch_identity
from bot.services.organization_cache import OrganizationCache
from bot.services.roles import Actor
from storage.db import commit_due, current_session
from storage.models import MemberStatus

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
update_log = logging.getLogger("bot.updates")


class UpdateMiddleware(BaseMiddleware):
    """Outermost of ours: one line per update with its id, type, handler and latency (and the same
    in the metrics), around the update's unit of work: one session, committed when the handler
    returns (if it left anything to keep), rolled back if it raises. One middleware for both, as
    they always run together (issue 15: every layer of the chain is calls and a frame per update).
    It also does the work of aiogram's `UserContextMiddleware`, which it replaces (the same keys:
    the event's context, its user, chat and thread), first, as aiogram's did before it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        started = time.perf_counter()
        context = data[EVENT_CONTEXT_KEY] = UserContextMiddleware.resolve_event_context(event)
        if context.user is not None:
            data[EVENT_FROM_USER_KEY] = context.user
        if context.chat is not None:
            data[EVENT_CHAT_KEY] = context.chat
        if context.thread_id is not None:
            data[EVENT_THREAD_ID_KEY] = context.thread_id
        trace: dict[str, str] = {}
        data["trace"] = trace
        outcome = "ok"
        try:
            async with self.sessions() as session:
                data["session"] = session
                token = current_session.set(session)
                try:
                    result = await handler(event, data)
                    if await commit_due(session):
                        await session.commit()
                    return result
                except Exception:
                    await session.rollback()
                    raise
                finally:
                    current_session.reset(token)
        except Exception:
            outcome = "error"
            raise
        finally:
            seconds = time.perf_counter() - started
            name, result = trace.get("handler", "none"), trace.get("outcome", outcome)
            log_event(
                update_log,
                "update",
                update_id=event.update_id,
                type=event.event_type,
                handler=name,
                outcome=result,
                latency_ms=round(seconds * 1000, 1),
            )
            observe_update(event.event_type, name, result, seconds)


class MemberMiddleware(BaseMiddleware):
    """Loads the member behind the update and who they act as, resolves their locale once, builds
    `ctx` from them, and runs the rest of the update in aiogram's gettext context in that locale.
    One middleware for what were three that always ran together (member, context, locale; issue 15:
    every layer of the chain is calls and a frame per update)."""

    def __init__(
        self,
        admin_ids: frozenset[int],
        default_language: str,
        organizations: OrganizationCache,
        locales: LocaleMiddleware,
    ) -> None:
        self.admin_ids = admin_ids
        self.default_language = default_language
        self.organizations = organizations
        self.locales = locales
        self.i18n = locales.i18n

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        member = None
        if user is not None and not user.is_bot:
            member = await member_of(session, user.id)  # cached: bot.services.member_cache
            if member is not None and member.status != MemberStatus.DECLINED and _is_from_member(event):
                await touch_identity(
                    session, member, TelegramIdentity(user.id, user.username, user.full_name)
                )
        actor = Actor(user.id, user.id in self.admin_ids) if user else None
        organization = data.get("organization")
        if organization is not None:  # as of its last change: admins change settings such as quiet hours
            default = await self.organizations.get(session, organization.id) or organization
            # Staff act for the organization they chose (or their own), everyone else for this one.
            data["organization"] = await acting_organization(session, member, actor, default)
        locale = resolve_locale(
            member.language if member else None,
            user.language_code if user else None,
            self.default_language,
        )
        data["member"] = member
        data["actor"] = actor
        data["locale"] = locale
        data["ctx"] = Context(
            session=session,
            actor=actor,
            member=member,
            organization=data["organization"],
            locale=locale,
            translator=data.get("translator"),
        )
        # What `LocaleMiddleware` did for each event type (the error handlers still have it).
        data[self.locales.i18n_key or "i18n"] = self.i18n
        data[self.locales.middleware_key] = self.locales
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)


def _is_from_member(event: TelegramObject) -> bool:
    """Messages and button presses show the person is reachable; `my_chat_member` says otherwise."""
    return isinstance(event, Update) and (event.message is not None or event.callback_query is not None)


class LocaleMiddleware(I18nMiddleware):
    """aiogram's gettext context, in the locale `MemberMiddleware` resolved: the error handlers'
    (they run outside the update's middlewares); every other event type is in it already."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        locale = data.get("locale")
        if locale:
            return str(locale)
        user: User | None = data.get("event_from_user")
        return resolve_locale(None, user.language_code if user else None, self.i18n.default_locale)

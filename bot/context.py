"""The context of one update, injected into handlers as `ctx`, and the middleware that enforces
the rights each handler declares (see `bot.policy`).

`ctx` carries what nearly every handler needs (the database session, who acts, the member, the
organization, the locale and time zone), so a handler's signature names only what is particular
to it: `async def open_event(query: CallbackQuery, callback_data: EventButton, ctx: Context)`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol, TypeVar

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import HandlerObject
from aiogram.dispatcher.flags import get_flag
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.logs import log_event
from bot.policy import (
    ANY_ORGANIZATION,
    LOADS_FLAG,
    REFUSAL_FLAG,
    RIGHTS_FLAG,
    ROLES_FOR,
    STALE,
    Action,
    Loads,
    holds_role_anywhere,
    refusal_text,
    role_allows,
    role_in,
)
from bot.services.audience import is_wide
from bot.services.roles import Actor
from bot.services.translate import Translator
from storage.models import Member, Organization, Role
from storage.types import ROW_ID_MAX

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
_log = logging.getLogger("bot.policy")


class Owned(Protocol):
    """A row that belongs to one organization (an event, a survey, a training, an announcement)."""

    id: int | None
    organization_id: int


OwnedT = TypeVar("OwnedT", bound=Owned)


@dataclass
class Context:
    session: AsyncSession
    actor: Actor | None
    member: Member | None
    organization: Organization
    locale: str
    translator: Translator | None = None  # machine-translation drafts, when TRANSLATE_URL is set
    _roles: dict[int, Role | None] = field(default_factory=dict, repr=False)

    @property
    def organization_id(self) -> int:
        return self.organization.id or 0

    @property
    def zone(self) -> str:
        """The member's time zone, else the organization's."""
        return (self.member.timezone if self.member else None) or self.organization.timezone

    @property
    def member_id(self) -> int | None:
        return self.member.id if self.member is not None else None

    @property
    def user_id(self) -> int | None:
        return self.actor.telegram_id if self.actor else None

    async def role(self, organization_id: int | None = None) -> Role | None:
        """The member's role in the organization (the update's one by default), read once."""
        key = self.organization_id if organization_id is None else organization_id
        if key not in self._roles:
            self._roles[key] = await role_in(self.session, self.member, key)
        return self._roles[key]

    async def may(self, action: Action, target: Owned | None = None) -> bool:
        """May the actor take `action` (on `target`, judged in the target's own organization)?
        A target whose audience reaches other organizations is the super-admins' alone: its
        counts and results are about members of organizations its own staff cannot see."""
        if action == Action.PUBLIC or (self.actor is not None and self.actor.is_super_admin):
            return role_allows(self.actor, None, action)
        if target is None and action in ANY_ORGANIZATION:
            return self.actor is not None and await holds_role_anywhere(
                self.session, self.member, ROLES_FOR[action]
            )
        if target is not None and is_wide(getattr(target, "audience", None)):
            return False
        organization_id = target.organization_id if target is not None else self.organization_id
        return role_allows(self.actor, await self.role(organization_id), action)

    async def load(self, action: Action, model: type[OwnedT], ident: int) -> OwnedT | None:
        """The row with this id if the actor may take `action` on it; None when it does not exist
        (or the id is forged) or belongs where the actor has no such right. A row of another
        organization the actor may act in (a button from before they switched) makes that
        organization the update's: what the handler does is done in the row's organization."""
        if not 0 < ident <= ROW_ID_MAX:
            return None
        row = await self.session.get(model, ident)
        if row is None or not await self.may(action, row):
            return None
        if row.organization_id != self.organization_id:
            organization = await self.session.get(Organization, row.organization_id)
            if organization is None:
                return None
            self.organization = organization
        return row


class RightsMiddleware(BaseMiddleware):
    """Inner middleware: tells the update log which handler took the event, then refuses, in the
    member's language, a handler whose declared right the actor lacks. A refused typed step also
    ends the dialog it belonged to. (The handler's name was a middleware of its own: one layer
    less on every update, issue 15.)"""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        handler_object: HandlerObject | None = data.get("handler")
        if handler_object is None:  # (aiogram always names it to inner middlewares)
            return await handler(event, data)
        trace = data.get("trace")
        if trace is not None:
            trace["handler"] = handler_name(handler_object.callback)
        action = handler_object.flags.get(RIGHTS_FLAG)
        if action is None or action == Action.PUBLIC:
            return await handler(event, data)
        ctx: Context = data["ctx"]
        if await ctx.may(action):
            loads: Loads | None = get_flag(data, LOADS_FLAG)
            if loads is None or await _load(ctx, action, loads, event, data):
                return await handler(event, data)
            return None
        text = refusal_text(action, get_flag(data, REFUSAL_FLAG))
        if isinstance(trace, dict):
            trace["outcome"] = "refused"
        log_event(_log, "refused", action=str(action), user_id=ctx.user_id)
        if isinstance(event, CallbackQuery):
            answer: CallbackAnswer | None = data.get("callback_answer")
            if answer is not None:
                answer.text, answer.show_alert = text, True
            return None
        if isinstance(event, Message):
            state: FSMContext | None = data.get("state")
            if state is not None and _waits_in_a_state(data):
                await state.clear()
            await event.answer(text) if event.chat.type == "private" else await event.reply(text)
        return None


@cache
def handler_name(callback: Callable[..., Any]) -> str:
    """`help.show_help`: the handler's module (its last part) and function, as logged."""
    return f"{callback.__module__.rsplit('.', 1)[-1]}.{callback.__name__}"


async def _load(
    ctx: Context, action: Action, loads: Loads, event: TelegramObject, data: dict[str, Any]
) -> bool:
    """Put the row the button names (and its `extra`) into the handler's arguments; False after
    answering that the button is stale (missing or forged id, another organization's row, a state
    that no longer allows the action, an extra that is not there)."""
    callback_data = data.get("callback_data")
    ident = getattr(callback_data, loads.field, 0)
    row = await ctx.load(action, loads.model, ident) if isinstance(ident, int) else None
    if row is not None and (loads.accepts is None or loads.accepts(row, callback_data)):
        extra = {} if loads.extra is None else await loads.extra(ctx, row, callback_data)
        if extra is not None:
            data[loads.name] = row
            data.update(extra)
            return True
    answer: CallbackAnswer | None = data.get("callback_answer")
    if isinstance(event, CallbackQuery) and answer is not None:
        answer.text = str(STALE)
    return False


def _waits_in_a_state(data: dict[str, Any]) -> bool:
    """Was the handler chosen because the sender is inside one of its dialog's states (a
    `StateFilter`, or a bare `State` given as a filter)?"""
    handler_object = data.get("handler")
    filters = getattr(handler_object, "filters", None) or ()
    return any(isinstance(item.callback, StateFilter | State) for item in filters)

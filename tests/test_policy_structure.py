"""Structure: every handler declares the right it needs, and the policy's rule table is whole.

A handler added without `flags=rights(...)` fails here, before it can leak a staff action to a
member: the rights middleware only enforces what is declared.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiogram import Router
from aiogram.dispatcher.event.handler import HandlerObject

from bot.policy import RIGHTS_FLAG, ROLES_FOR, Action, role_allows
from bot.services.roles import Actor
from handlers import get_routers
from storage.models import Role

UNCHECKED_OBSERVERS = {"errors", "error", "update"}


def _routers(routers: list[Router]) -> Iterator[Router]:
    for router in routers:
        yield router
        yield from _routers(list(router.sub_routers))


def _handlers() -> Iterator[tuple[str, str, HandlerObject]]:
    for router in _routers(get_routers()):
        for name, observer in router.observers.items():
            if name in UNCHECKED_OBSERVERS:
                continue
            for handler in observer.handlers:
                yield router.name, name, handler


def _label(router: str, observer: str, handler: HandlerObject) -> str:
    return f"{router}.{handler.callback.__name__} ({observer})"


def test_every_handler_declares_its_right() -> None:
    handlers = list(_handlers())
    assert len(handlers) > 50, "the walk found too few handlers: the routers were not reached"
    missing = [_label(*item) for item in handlers if not isinstance(item[2].flags.get(RIGHTS_FLAG), Action)]
    assert not missing, "handlers without a declared right (flags=rights(...)): " + ", ".join(missing)


def test_staff_commands_declare_a_staff_right() -> None:
    """The commands of the staff menus are never declared public."""
    from bot.commands import ROLE_COMMANDS

    staff_commands = {name for entries in ROLE_COMMANDS.values() for name, _ in entries}
    public = []
    for router, observer, handler in _handlers():
        if observer != "message" or handler.flags.get(RIGHTS_FLAG) != Action.PUBLIC:
            continue
        for item in handler.filters or ():
            commands = getattr(item.callback, "commands", ()) or ()
            if any(getattr(command, "command", command) in staff_commands for command in commands):
                public.append(_label(router, observer, handler))
    assert not public, "staff commands declared public: " + ", ".join(public)


@pytest.mark.parametrize("action", [action for action in Action if action != Action.PUBLIC])
def test_roles_per_action(action: Action) -> None:
    member = Actor(telegram_id=1, is_super_admin=False)
    allowed = {role for role in Role if role_allows(member, role, action)}
    assert allowed == ROLES_FOR[action]
    assert Role.MEMBER not in allowed
    assert not role_allows(member, None, action), "someone who is not a member is refused"
    assert not role_allows(None, Role.ADMIN, action), "no actor, no right"
    assert role_allows(Actor(telegram_id=2, is_super_admin=True), None, action), "super-admins may"


def test_a_refused_typed_step_is_recognised_with_either_kind_of_state_filter() -> None:
    """The rights middleware ends the dialog of a refused typed step: the step may be routed by a
    `StateFilter` or by a bare `State` given as a filter."""
    from aiogram.filters import Command, StateFilter
    from aiogram.fsm.state import State, StatesGroup

    from bot.context import _waits_in_a_state

    class Steps(StatesGroup):
        typed = State()

    router = Router()

    @router.message(Steps.typed)
    async def bare_state(_: object) -> None: ...

    @router.message(StateFilter(Steps.typed))
    async def state_filter(_: object) -> None: ...

    @router.message(Command("x"))
    async def command(_: object) -> None: ...

    bare, filtered, plain = router.message.handlers
    assert _waits_in_a_state({"handler": bare})
    assert _waits_in_a_state({"handler": filtered})
    assert not _waits_in_a_state({"handler": plain})

"""Who may do what: the one place that answers "may this actor do this action (on this object)".

Every staff handler declares the right it needs where it is registered,
`@router.callback_query(EventButton.filter(F.action == "open"), flags=rights(Action.MANAGE_EVENTS))`,
and `RightsMiddleware` (in `bot.context`) enforces it before the handler runs: commands, typed
dialog steps and buttons alike, since callback data can be forged by any client. Handlers that act
on an object from callback data load it with `Context.load`, which checks the right against the
object's own organization in the same call, so a handler cannot load without checking.

A member-facing handler declares `rights(Action.PUBLIC)`; `tests/test_policy_structure.py` walks
every router and fails when a handler declares nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from aiogram.utils.i18n import lazy_gettext as __
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.library.rules import LIBRARY_STAFF
from bot.services.membership_cache import memberships
from bot.services.roles import Actor
from storage.models import Member, MemberStatus, Role

RIGHTS_FLAG: Final = "rights"
REFUSAL_FLAG: Final = "refusal"
LOADS_FLAG: Final = "loads"
STALE: Final = __("This button is no longer active.")


class Action(StrEnum):
    """What a handler does, as far as rights go."""

    PUBLIC = "public"  # anyone talking to the bot (the handler checks registration itself)
    MANAGE_ROLES = "manage_roles"  # /admin: grant and revoke roles
    ANNOUNCE = "announce"  # /announce, /announcements
    MANAGE_EVENTS = "manage_events"  # /newevent, /myevents, /postevent
    RUN_SURVEYS = "run_surveys"  # /poll, /newsurvey, /results
    MANAGE_TRAININGS = "manage_trainings"  # /newtraining, /managetrainings
    MANAGE_ORGANIZATION = "manage_organization"  # /manageorgs: the organization's own card
    CONFEDERATION = "confederation"  # create, suspend, restore, archive organizations
    VIEW_STATS = "view_stats"  # /stats: the organization's statistics and their exports
    VIEW_AUDIT = "view_audit"  # /audit: the organization's audit trail
    MANAGE_RESOURCES = "manage_resources"  # /newresource, members' suggestions, usage on the card
    ADVOCACY = "advocacy"  # /newposition, /mypositions, endorsing a joint position for the organization


# The roles (in the object's organization) that may take each staff action; super-admins may take
# every action in every organization.
ROLES_FOR: Final[dict[Action, frozenset[Role]]] = {
    Action.MANAGE_ROLES: frozenset({Role.ADMIN}),
    Action.ANNOUNCE: frozenset({Role.ORGANIZER, Role.ADMIN}),
    Action.MANAGE_EVENTS: frozenset({Role.ORGANIZER, Role.ADMIN}),
    Action.RUN_SURVEYS: frozenset({Role.COORDINATOR, Role.ORGANIZER, Role.ADMIN}),
    Action.MANAGE_TRAININGS: frozenset({Role.COORDINATOR, Role.ORGANIZER, Role.ADMIN}),
    Action.MANAGE_ORGANIZATION: frozenset({Role.ADMIN}),
    Action.CONFEDERATION: frozenset(),  # the confederation's staff (super-admins) only
    Action.VIEW_STATS: frozenset({Role.COORDINATOR, Role.ORGANIZER, Role.ADMIN}),
    Action.VIEW_AUDIT: frozenset({Role.ADMIN}),
    Action.MANAGE_RESOURCES: LIBRARY_STAFF,
    Action.ADVOCACY: frozenset({Role.ADMIN}),
}

REFUSALS: Final = {
    Action.MANAGE_ROLES: __("Sorry, only administrators can do this."),
    Action.ANNOUNCE: __("Sorry, only organizers can send announcements."),
    Action.MANAGE_EVENTS: __("Sorry, only organizers can manage events."),
    Action.RUN_SURVEYS: __("Sorry, only coordinators and organizers can run surveys."),
    Action.MANAGE_TRAININGS: __("Sorry, only coordinators can manage trainings."),
    Action.MANAGE_ORGANIZATION: __("Sorry, only administrators can do this."),
    Action.CONFEDERATION: __("Sorry, only the confederation's staff can do this."),
    Action.VIEW_STATS: __(
        "Sorry, only the organization's coordinators, organizers and admins can see its statistics."
    ),
    Action.VIEW_AUDIT: __("Sorry, only the organization's admins can see its audit trail."),
    Action.MANAGE_RESOURCES: __(
        "Sorry, only coordinators, organizers and administrators can publish resources."
    ),
    Action.ADVOCACY: __("Sorry, only the organization's admins can draft or endorse joint positions."),
}
assert set(ROLES_FOR) == set(REFUSALS) == set(Action) - {Action.PUBLIC}
# Actions on an organization itself, named by the button or the dialog's step and checked when it is
# loaded (`Context.load`): the command and the typed steps only need the role in some organization,
# so an admin of B who acts for A still reaches B's card (and nothing else).
ANY_ORGANIZATION: Final = frozenset({Action.MANAGE_ORGANIZATION})


@dataclass(frozen=True)
class Loads:
    """The row a staff button names, loaded for the handler by the rights middleware: `model` by
    the callback data's `field`, injected as the handler argument `name` once the actor's right is
    checked against the row's own organization, and only when `accepts(row, callback_data)` (its
    state allows the action). A missing, foreign or refused row is a stale button, answered as
    such; the handler never runs without its row.

    `extra(ctx, row, callback_data)`, if given, loads what else the button names within that row
    (a participant of a training, one of its sessions): more handler arguments, or None for a
    stale button."""

    model: type[Any]
    name: str
    field: str = "id"
    accepts: Callable[[Any, Any], bool] | None = None
    extra: Callable[[Any, Any, Any], Awaitable[dict[str, Any] | None]] | None = None


def rights(action: Action, refusal: Any = None, *, loads: Loads | None = None) -> dict[str, Any]:
    """Handler flags declaring the right a handler needs (optionally its own refusal text, a lazy
    gettext string, and the row its button names: `loads`)."""
    flags: dict[str, Any] = {RIGHTS_FLAG: action}
    if refusal is not None:
        flags[REFUSAL_FLAG] = refusal
    if loads is not None:
        flags[LOADS_FLAG] = loads
    return flags


def refusal_text(action: Action, override: Any = None) -> str:
    return str(override if override is not None else REFUSALS.get(action, REFUSALS[Action.MANAGE_ROLES]))


async def role_in(session: AsyncSession, member: Member | None, organization_id: int) -> Role | None:
    """The member's role in the organization; None for someone who is not an active member."""
    if member is None or member.id is None or member.status != MemberStatus.ACTIVE:
        return None
    held = await memberships(session, member.id)
    return next((item.role for item in held if item.organization_id == organization_id), Role.MEMBER)


async def holds_role_anywhere(session: AsyncSession, member: Member | None, roles: frozenset[Role]) -> bool:
    """Does the active member hold one of `roles` in some organization that is not archived?"""
    if member is None or member.id is None or member.status != MemberStatus.ACTIVE:
        return False
    return any(item.role in roles and not item.archived for item in await memberships(session, member.id))


def role_allows(actor: Actor | None, role: Role | None, action: Action) -> bool:
    """The rule itself, free of any lookup."""
    if action == Action.PUBLIC:
        return True
    if actor is None:
        return False
    if actor.is_super_admin:
        return True
    return role is not None and role in ROLES_FOR[action]


async def allows(
    session: AsyncSession,
    actor: Actor | None,
    member: Member | None,
    action: Action,
    organization_id: int,
) -> bool:
    """May this person take `action` in the organization? (Without a `Context`, e.g. in services.)"""
    if action == Action.PUBLIC or (actor is not None and actor.is_super_admin):
        return role_allows(actor, None, action)
    return role_allows(actor, await role_in(session, member, organization_id), action)

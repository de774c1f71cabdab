"""What organization management's handlers share: the rights they declare, `org_button` (a
button that names an organization, loaded and checked by the rights middleware), sending an
organization's card (its logo first, when it has one), and the texts of refused changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, Loads, rights
from bot.services.confederation.listing import member_count
from bot.services.confederation.organizations import OrganizationError, invite_link
from handlers.composer import Turn, button_turn
from handlers.orgs_admin.buttons import OrgAdmin
from handlers.orgs_admin.views import card_keyboard, card_text
from storage.models import Organization, OrgStatus

Flags = dict[str, Any]
OrgStep = Callable[[Turn, Organization, OrgAdmin], Awaitable[None]]


def _editable(organization: Organization, data: Any) -> bool:
    return organization.status != OrgStatus.ARCHIVED


def _on(action: Action, accepts: Any = _editable) -> Flags:
    """The right, and the organization the button names (`managed`), loaded and checked in itself."""
    return rights(action, loads=Loads(Organization, "managed", field="org", accepts=accepts))


MANAGE: Final = rights(Action.MANAGE_ORGANIZATION)  # commands and typed steps (they load their own)
STAFF: Final = rights(Action.CONFEDERATION)
ON_CARD: Final = _on(Action.MANAGE_ORGANIZATION, accepts=None)  # an archived one's card too
EDIT: Final = _on(Action.MANAGE_ORGANIZATION)
STATUS: Final = _on(Action.CONFEDERATION, accepts=None)


def org_button(on: Router, flags: Flags, *actions: str) -> Callable[[OrgStep], OrgStep]:
    """Register `handler(turn, organization, callback_data)` for these `OrgAdmin` actions, with
    `flags` (one of EDIT, ON_CARD, STATUS: a forged organization is a stale button)."""

    def register(handler: OrgStep) -> OrgStep:
        async def on_button(
            query: CallbackQuery, callback_data: OrgAdmin, managed: Organization, **data: Any
        ) -> None:
            """`managed`: the organization, put there by the rights middleware (`Loads`)."""
            turn = button_turn(
                query, data["ctx"], data["state"], data["bot"], data["callback_answer"], data.get("delivery")
            )
            await handler(turn, managed, callback_data)

        on_button.__name__, on_button.__qualname__ = handler.__name__, handler.__qualname__
        on_button.__module__ = handler.__module__
        on.callback_query(OrgAdmin.filter(F.action.in_(set(actions))), flags=flags)(on_button)
        return handler

    return register


async def send_card(bot: Bot, chat_id: int, ctx: Context, organization: Organization) -> None:
    """The card with its edit buttons; the logo (a photo kept by its file_id) goes just before it."""
    if organization.logo_file_id:
        await bot.send_photo(
            chat_id, organization.logo_file_id, caption=f"<b>{escape(organization.name)}</b>"
        )
    username = (await bot.me()).username or ""
    members = await member_count(ctx.session, organization.id or 0)
    text = card_text(organization, members, invite_link(username, organization), ctx.locale)
    staff = ctx.actor is not None and ctx.actor.is_super_admin
    await bot.send_message(chat_id, text, reply_markup=card_keyboard(organization, staff))


async def show_card(turn: Turn, organization: Organization) -> None:
    await send_card(turn.bot, turn.chat_id, turn.ctx, organization)


def error_text(error: OrganizationError) -> str:
    texts = {
        "name_empty": _("The name looks empty. Please type it."),
        "name_too_long": _("The name is too long: {limit} characters at most."),
        "name_taken": _("Another organization already has this name. Please choose another one."),
        "description_too_long": _("The description is too long: {limit} characters at most."),
        "contact_empty": _("The contact looks empty. Please type it, or remove it."),
        "contact_too_long": _("The contact is too long: {limit} characters at most."),
        "city_empty": _("A city name looks empty. Please type the cities separated by commas."),
        "city_too_long": _("A city name is too long: {limit} characters at most."),
        "too_many_cities": _("That is too many cities: {limit} at most."),
        "too_many_countries": _("That is too many countries: {limit} at most."),
        "no_change": _("This organization is not in a state where this applies any more."),
        "own_organization": _("The deployment's own organization cannot be archived."),
    }
    text = texts.get(error.reason, _("This button is no longer active."))
    return text.format(limit=error.limit) if "{limit}" in text else text

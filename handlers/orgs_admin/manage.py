"""/manageorgs (and the /orgs card's "⚙️ Manage organizations", `OrgAdmin(action="home")`): the
organizations a person may manage, a page at a time; a new organization; an organization's card
and its one-tap changes (kind, visibility, join policy), its invite link, and suspending,
restoring and archiving it (each asked, then done).

Rights: the confederation's staff (super-admins) manage every organization and alone create,
suspend, restore and archive them (`Action.CONFEDERATION`); an organization's admins open and edit
their own organization's card only (`Action.MANAGE_ORGANIZATION`). The organization a button names
is loaded by the rights middleware and checked in itself, so a forged `OrgAdmin(org=...)` of
another organization is a stale button."""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.policy import Action, Loads, rights
from bot.services.confederation.listing import administered, organizations_page
from bot.services.confederation.organizations import (
    OrganizationError,
    change,
    create_organization,
    rotate_invite,
    set_status,
)
from handlers.composer import TextRule, echo_choice, read_text
from handlers.composer.router import button_turn
from handlers.fallback import stale_button, toast
from handlers.orgs_admin.buttons import OrgAdmin
from handlers.orgs_admin.card import error_text, send_card
from handlers.orgs_admin.states import OrgAdminStates
from handlers.orgs_admin.views import PAGE_SIZE, confirm_keyboard, join_keyboard, list_keyboard, list_text
from storage.models import JoinPolicy, Organization, OrgKind, OrgStatus, Visibility

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

MANAGE: Final = rights(Action.MANAGE_ORGANIZATION)
STAFF: Final = rights(Action.CONFEDERATION)


def _editable(organization: Organization, data: Any) -> bool:
    return organization.status != OrgStatus.ARCHIVED


def _on(action: Action, accepts: Any = _editable) -> dict[str, Any]:
    """The right, and the organization the button names (`organization`), loaded and checked."""
    return rights(action, loads=Loads(Organization, "organization", field="org", accepts=accepts))


ON_CARD: Final = _on(Action.MANAGE_ORGANIZATION, accepts=None)  # an archived one's card too
EDIT: Final = _on(Action.MANAGE_ORGANIZATION)
STATUS: Final = _on(Action.CONFEDERATION, accepts=None)
# The confirmations: the question asked, its button, and the status it sets.
STATUS_CHANGES: Final = {
    "suspend": (
        OrgStatus.SUSPENDED,
        lambda name: _(
            "Suspend {name}? Nothing will go out on its behalf (announcements, events, surveys, "
            "trainings, reminders) until it is restored; what is waiting is held. Its members keep "
            "their data."
        ).format(name=name),
        lambda: _("⏸ Yes, suspend it"),
    ),
    "restore": (
        OrgStatus.ACTIVE,
        lambda name: _("Restore {name}? What was held goes out, unless it has expired.").format(name=name),
        lambda: _("▶️ Yes, restore it"),
    ),
    "archive": (
        OrgStatus.ARCHIVED,
        lambda name: _(
            "Archive {name}? It disappears from every list and the directory, nothing goes out on "
            "its behalf and what is waiting is cancelled. Its history is kept."
        ).format(name=name),
        lambda: _("🗄 Yes, archive it"),
    ),
}


async def _manageable(ctx: Context) -> list[int] | None:
    """The ids of the organizations this person may manage (None: every one)."""
    if ctx.actor is not None and ctx.actor.is_super_admin:
        return None
    return [organization.id or 0 for organization in await administered(ctx.session, ctx.member)]


async def _list(ctx: Context, offset: int) -> tuple[str, Any]:
    page = await organizations_page(ctx.session, offset, PAGE_SIZE, await _manageable(ctx))
    staff = ctx.actor is not None and ctx.actor.is_super_admin
    return list_text(page, ctx.locale), list_keyboard(page, staff)


@router.message(Command("manageorgs"), flags=MANAGE)
async def manage_organizations(message: Message, ctx: Context, state: FSMContext) -> None:
    await state.set_state(None)
    text, keyboard = await _list(ctx, 0)
    await message.answer(text, reply_markup=keyboard)


@router.callback_query(OrgAdmin.filter(F.action.in_({"home", "page"})), flags=MANAGE)
async def list_page(query: CallbackQuery, callback_data: OrgAdmin, ctx: Context, bot: Bot) -> None:
    """ "home" (from /orgs, or a card's "← All organizations") sends the list; ◀️ ▶️ turn its page."""
    text, keyboard = await _list(ctx, callback_data.page)
    if callback_data.action == "page" and isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=keyboard)
    else:
        await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


@router.callback_query(OrgAdmin.filter(F.action == "open"), flags=ON_CARD)
async def open_card(query: CallbackQuery, organization: Organization, ctx: Context, bot: Bot) -> None:
    await send_card(bot, query.from_user.id, ctx, organization)


# -- a new organization ---------------------------------------------------------------------------


@router.callback_query(OrgAdmin.filter(F.action == "new"), flags=STAFF)
async def ask_name(query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    await state.set_state(OrgAdminStates.new_name)
    await bot.send_message(
        query.from_user.id, _("What is the new organization's name? Send it, or /cancel to stop.")
    )


@router.message(OrgAdminStates.new_name, F.text, flags=STAFF)
async def name_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot, settings: Settings) -> None:
    assert ctx.actor is not None
    name = await read_text(message, state, TextRule(128))
    if name is None:
        return
    try:
        organization = await create_organization(
            ctx.session,
            ctx.actor,
            name,
            language=settings.default_language,
            timezone=settings.default_timezone,
        )
    except OrganizationError as error:
        await message.answer(error_text(error))
        return
    await state.set_state(None)
    await message.answer(
        _("✅ {name} is created. Complete its card: description, countries, languages…").format(
            name=escape(organization.name)
        )
    )
    await send_card(bot, message.chat.id, ctx, organization)


@router.message(OrgAdminStates.new_name, flags=STAFF)
async def name_not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


# -- one-tap changes --------------------------------------------------------------------------------


async def _changed(
    query: CallbackQuery, ctx: Context, bot: Bot, organization: Organization, **fields: Any
) -> None:
    assert ctx.actor is not None
    await change(ctx.session, ctx.actor, organization, **fields)
    await send_card(bot, query.from_user.id, ctx, organization)


@router.callback_query(OrgAdmin.filter(F.action == "kind"), flags=EDIT)
async def toggle_kind(query: CallbackQuery, organization: Organization, ctx: Context, bot: Bot) -> None:
    kind = OrgKind.NETWORK if organization.kind == OrgKind.ORGANIZATION else OrgKind.ORGANIZATION
    await _changed(query, ctx, bot, organization, kind=kind)


@router.callback_query(OrgAdmin.filter(F.action == "vis"), flags=EDIT)
async def toggle_visibility(query: CallbackQuery, organization: Organization, ctx: Context, bot: Bot) -> None:
    listed = organization.visibility == Visibility.LISTED
    await _changed(
        query, ctx, bot, organization, visibility=Visibility.UNLISTED if listed else Visibility.LISTED
    )


@router.callback_query(OrgAdmin.filter(F.action == "join"), flags=EDIT)
async def ask_join_policy(query: CallbackQuery, organization: Organization, bot: Bot) -> None:
    await bot.send_message(
        query.from_user.id,
        _("Who may join {name}?").format(name=escape(organization.name)),
        reply_markup=join_keyboard(organization),
    )


@router.callback_query(OrgAdmin.filter(F.action == "join_set"), flags=EDIT)
async def join_policy_chosen(
    query: CallbackQuery,
    callback_data: OrgAdmin,
    organization: Organization,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.value not in {policy.value for policy in JoinPolicy}:
        stale_button(callback_answer)
        return
    await echo_choice(button_turn(query, ctx, state, bot, callback_answer))
    await _changed(query, ctx, bot, organization, join_policy=JoinPolicy(callback_data.value))


# -- the invite link ---------------------------------------------------------------------------------


@router.callback_query(OrgAdmin.filter(F.action == "link"), flags=EDIT)
async def ask_new_link(query: CallbackQuery, organization: Organization, bot: Bot) -> None:
    await bot.send_message(
        query.from_user.id,
        _("Make a new invite link for {name}? The current link stops working at once.").format(
            name=escape(organization.name)
        ),
        reply_markup=confirm_keyboard(organization, "link", _("🔄 Yes, make a new link")),
    )


@router.callback_query(OrgAdmin.filter(F.action == "link_yes"), flags=EDIT)
async def new_link(query: CallbackQuery, organization: Organization, ctx: Context, bot: Bot) -> None:
    assert ctx.actor is not None
    await rotate_invite(ctx.session, ctx.actor, organization)
    if isinstance(query.message, Message):
        await query.message.edit_text(_("🔄 A new invite link is ready; the old one no longer works."))
    await send_card(bot, query.from_user.id, ctx, organization)


@router.callback_query(OrgAdmin.filter(F.action == "keep"), flags=ON_CARD)
async def keep(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was changed."))


# -- suspend, restore, archive (the confederation's staff) ---------------------------------------


@router.callback_query(OrgAdmin.filter(F.action.in_(set(STATUS_CHANGES))), flags=STATUS)
async def ask_status(
    query: CallbackQuery, callback_data: OrgAdmin, organization: Organization, bot: Bot
) -> None:
    _status, question, yes = STATUS_CHANGES[callback_data.action]
    await bot.send_message(
        query.from_user.id,
        question(escape(organization.name)),
        reply_markup=confirm_keyboard(organization, callback_data.action, yes()),
    )


@router.callback_query(OrgAdmin.filter(F.action.in_({f"{key}_yes" for key in STATUS_CHANGES})), flags=STATUS)
async def change_status(
    query: CallbackQuery,
    callback_data: OrgAdmin,
    organization: Organization,
    ctx: Context,
    bot: Bot,
    delivery: DeliveryEngine,
    callback_answer: CallbackAnswer,
) -> None:
    assert ctx.actor is not None
    status = STATUS_CHANGES[callback_data.action.removesuffix("_yes")][0]
    try:
        await set_status(ctx.session, ctx.actor, organization, status)
    except OrganizationError as error:
        toast(callback_answer, error_text(error), alert=True)
        return
    await ctx.session.commit()
    done = {
        OrgStatus.SUSPENDED: _("⏸ {name} is suspended: nothing goes out on its behalf until it is restored."),
        OrgStatus.ACTIVE: _("▶️ {name} is restored: what was held goes out now."),
        OrgStatus.ARCHIVED: _("🗄 {name} is archived."),
    }[status].format(name=escape(organization.name))
    if isinstance(query.message, Message):
        await query.message.edit_text(done)
    if status == OrgStatus.ACTIVE:
        delivery.wake()
    await send_card(bot, query.from_user.id, ctx, organization)

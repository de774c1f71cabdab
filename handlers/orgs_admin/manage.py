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

from bot.config import Settings
from bot.context import Context
from bot.i18n import _
from bot.services.confederation.listing import administered, organizations_page
from bot.services.confederation.organizations import (
    NAME_MAX,
    OrganizationError,
    change,
    create_organization,
    rotate_invite,
    set_status,
)
from handlers.composer import TextRule, Turn, echo_choice, read_text
from handlers.orgs_admin.buttons import OrgAdmin
from handlers.orgs_admin.card import (
    EDIT,
    MANAGE,
    ON_CARD,
    STAFF,
    STATUS,
    error_text,
    org_button,
    send_card,
    show_card,
)
from handlers.orgs_admin.states import OrgAdminStates
from handlers.orgs_admin.views import PAGE_SIZE, confirm_keyboard, join_keyboard, list_keyboard, list_text
from storage.models import JoinPolicy, Organization, OrgKind, OrgStatus, Visibility

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

# The confirmations: the status each sets, the question asked and its button.
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


@org_button(router, ON_CARD, "open")
async def open_card(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    await show_card(turn, organization)


@org_button(router, ON_CARD, "keep")
async def keep(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    await turn.replace(_("Nothing was changed."))


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
    name = await read_text(message, state, TextRule(NAME_MAX))
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


async def _changed(turn: Turn, organization: Organization, **fields: Any) -> None:
    assert turn.ctx.actor is not None
    await change(turn.ctx.session, turn.ctx.actor, organization, **fields)
    await show_card(turn, organization)


@org_button(router, EDIT, "kind")
async def toggle_kind(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    kind = OrgKind.NETWORK if organization.kind == OrgKind.ORGANIZATION else OrgKind.ORGANIZATION
    await _changed(turn, organization, kind=kind)


@org_button(router, EDIT, "vis")
async def toggle_visibility(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    listed = organization.visibility == Visibility.LISTED
    await _changed(turn, organization, visibility=Visibility.UNLISTED if listed else Visibility.LISTED)


@org_button(router, EDIT, "join")
async def ask_join_policy(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    question = _("Who may join {name}?").format(name=escape(organization.name))
    await turn.say(question, join_keyboard(organization))


@org_button(router, EDIT, "join_set")
async def join_policy_chosen(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    if data.value not in {policy.value for policy in JoinPolicy}:
        turn.stale()
        return
    await echo_choice(turn)
    await _changed(turn, organization, join_policy=JoinPolicy(data.value))


# -- the invite link ---------------------------------------------------------------------------------


@org_button(router, EDIT, "link")
async def ask_new_link(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    await turn.say(
        _("Make a new invite link for {name}? The current link stops working at once.").format(
            name=escape(organization.name)
        ),
        confirm_keyboard(organization, "link", _("🔄 Yes, make a new link")),
    )


@org_button(router, EDIT, "link_yes")
async def new_link(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    assert turn.ctx.actor is not None
    await rotate_invite(turn.ctx.session, turn.ctx.actor, organization)
    await turn.replace(_("🔄 A new invite link is ready; the old one no longer works."))
    await show_card(turn, organization)


# -- suspend, restore, archive (the confederation's staff) ---------------------------------------


@org_button(router, STATUS, *STATUS_CHANGES)
async def ask_status(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    _status, question, yes = STATUS_CHANGES[data.action]
    await turn.say(question(escape(organization.name)), confirm_keyboard(organization, data.action, yes()))


@org_button(router, STATUS, *(f"{key}_yes" for key in STATUS_CHANGES))
async def change_status(turn: Turn, organization: Organization, data: OrgAdmin) -> None:
    assert turn.ctx.actor is not None
    status = STATUS_CHANGES[data.action.removesuffix("_yes")][0]
    try:
        await set_status(turn.ctx.session, turn.ctx.actor, organization, status)
    except OrganizationError as error:
        turn.toast(error_text(error), alert=True)
        return
    await turn.ctx.session.commit()
    done = {
        OrgStatus.SUSPENDED: _("⏸ {name} is suspended: nothing goes out on its behalf until it is restored."),
        OrgStatus.ACTIVE: _("▶️ {name} is restored: what was held goes out now."),
        OrgStatus.ARCHIVED: _("🗄 {name} is archived."),
    }[status]
    await turn.replace(done.format(name=escape(organization.name)))
    if status == OrgStatus.ACTIVE and turn.delivery is not None:
        turn.delivery.wake()
    await show_card(turn, organization)

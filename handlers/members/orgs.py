"""/orgs: the member's organizations, each with its card and 🚪 Leave (asked, then confirmed);
buttons to the directory and, for organization admins and super-admins, to the management."""

from __future__ import annotations

from typing import Final

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import memberships as service
from bot.services.memberships import MembershipError
from handlers.fallback import stale_button, toast
from handlers.filters import members_router
from handlers.members import org_views as views
from handlers.members.callbacks import MyOrgButton
from handlers.members.org_cards import card_text, organization_by_id, replace
from storage.models import Organization, Role
from storage.types import utcnow

router: Final[Router] = members_router(__name__)
PUBLIC: Final = rights(Action.PUBLIC)


async def _list(ctx: Context) -> tuple[str, InlineKeyboardMarkup]:
    assert ctx.member is not None
    entries = await service.memberships_of(ctx.session, ctx.member)
    manage = bool(ctx.actor and ctx.actor.is_super_admin) or await service.administers_any(
        ctx.session, ctx.member
    )
    return views.my_orgs_text(entries, ctx.locale), views.my_orgs_keyboard(entries, ctx.locale, manage)


async def _mine(ctx: Context, organization_id: int) -> Organization | None:
    """One of the member's organizations, by the id a button carries (None: not theirs, or forged)."""
    organization = await organization_by_id(ctx.session, organization_id)
    member_id = ctx.member.id if ctx.member else None
    if organization is None or await service.membership_in(ctx.session, organization_id, member_id) is None:
        return None
    return organization


@router.message(Command("orgs"), flags=PUBLIC)
async def my_organizations(message: Message, ctx: Context) -> None:
    text, markup = await _list(ctx)
    await message.answer(text, reply_markup=markup)


@router.callback_query(MyOrgButton.filter(F.action == "list"), flags=PUBLIC)
async def back_to_list(query: CallbackQuery, ctx: Context) -> None:
    await replace(query, *await _list(ctx))


@router.callback_query(MyOrgButton.filter(F.action == "open"), flags=PUBLIC)
async def open_mine(
    query: CallbackQuery, callback_data: MyOrgButton, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    organization = await _mine(ctx, callback_data.org)
    if organization is None:
        stale_button(callback_answer)
        return
    text, _standing = await card_text(ctx.session, organization, ctx.member, ctx.locale)
    await replace(query, text, views.my_org_keyboard(organization))


@router.callback_query(MyOrgButton.filter(F.action == "leave"), flags=PUBLIC)
async def ask_to_leave(
    query: CallbackQuery, callback_data: MyOrgButton, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    organization = await _mine(ctx, callback_data.org)
    member_id = ctx.member.id if ctx.member else None
    if organization is None or member_id is None:
        stale_button(callback_answer)
        return
    _standing, role = await service.standing(ctx.session, ctx.member, organization.id or 0)
    if role == Role.ADMIN and await service.is_last_admin(ctx.session, organization.id or 0, member_id):
        toast(callback_answer, views.refusal("last_admin"), alert=True)  # said before asking
        return
    last = await service.membership_count(ctx.session, member_id) == 1
    await replace(
        query, views.leave_question(organization, ctx.locale, last), views.leave_keyboard(organization)
    )


@router.callback_query(MyOrgButton.filter(F.action == "confirm"), flags=PUBLIC)
async def leave(
    query: CallbackQuery, callback_data: MyOrgButton, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    organization = await _mine(ctx, callback_data.org)
    if organization is None or ctx.member is None:
        stale_button(callback_answer)  # a second tap: already gone
        return
    try:
        await service.leave(ctx.session, ctx.member, organization.id or 0, utcnow())
    except MembershipError as error:
        toast(callback_answer, views.refusal(error.reason), alert=True)
        return
    builder = InlineKeyboardBuilder()
    builder.button(text=_("⬅️ My organizations"), callback_data=MyOrgButton(action="list"))
    await replace(query, views.left_text(organization, ctx.locale), builder.as_markup())

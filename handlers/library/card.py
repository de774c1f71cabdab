"""A resource's card for a member: opened from a list, a digest or a share link
(`?start=res_<id>`), only when the member may see it (their organizations' published resources and
the confederation's); its document or photo follows. ⭐ Save / Unsave and 👍 / 👎 (one vote per
member, changeable) change its buttons; the staff of its organization also see its usage and
their buttons (✏️ Edit, 🌐 Add a translation, 🚫 Withdraw: `handlers.library.edit`)."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import library
from bot.services.organizations import get_organization
from bot.views.library import card_messages, usage_line
from handlers.fallback import stale_button, toast
from handlers.filters import IsRegistered
from handlers.library.callbacks import Library, ResourceDraft
from handlers.library.links import share_link
from storage.models import Member, Organization, Resource, ResourceStatus

router: Final[Router] = Router(name=__name__)
router.callback_query.filter(IsRegistered())
PUBLIC: Final = rights(Action.PUBLIC)


def card_keyboard(resource_id: int, mine: library.Mine, staff: bool = False) -> InlineKeyboardMarkup:
    """⭐ Save / 👍 / 👎, and for its organization's staff ✏️ Edit, 🌐 Add a translation and
    🚫 Withdraw (the composer kit's edit steps, `handlers.library.edit`)."""
    builder = InlineKeyboardBuilder()
    if mine.saved:
        builder.button(text=_("★ Saved: remove"), callback_data=Library(action="unsave", id=resource_id))
    else:
        builder.button(text=_("⭐ Save"), callback_data=Library(action="save", id=resource_id))
    up, down = ("✅ " if mine.vote is True else ""), ("✅ " if mine.vote is False else "")
    builder.button(text=up + _("👍 Useful"), callback_data=Library(action="up", id=resource_id))
    builder.button(text=down + _("👎 Not useful"), callback_data=Library(action="down", id=resource_id))
    sizes = [1, 2]
    if staff:
        builder.button(text=_("✏️ Edit"), callback_data=ResourceDraft(action="edit", id=resource_id))
        builder.button(
            text=_("🌐 Add a translation"), callback_data=ResourceDraft(action="translate", id=resource_id)
        )
        builder.button(text=_("🚫 Withdraw"), callback_data=ResourceDraft(action="withdraw", id=resource_id))
        sizes += [2, 1]
    builder.adjust(*sizes)
    return builder.as_markup()


async def send_card(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    resource: Resource,
    member: Member,
    locale: str,
    usage_threshold: int | None = None,
    *,
    staff: bool = False,
    viewed: bool = True,
) -> None:
    """The card (with its usage line when `usage_threshold` is given; the staff's buttons for
    `staff`), then its file; `viewed`: counted as opened (not a card shown again after an edit)."""
    publisher = await get_organization(session, resource.organization_id)
    if viewed:
        await library.record_view(session, resource, member.id or 0)
    link = await share_link(bot, resource.id or 0)
    tail = ""
    if usage_threshold is not None:
        tail = "\n\n" + usage_line(await library.usage(session, resource.id or 0), usage_threshold)
    mine = await library.mine(session, resource.id or 0, member.id or 0)
    card, *rest = card_messages(resource, locale, publisher.name if publisher else "", link, tail)
    await bot.send_message(chat_id, card, reply_markup=card_keyboard(resource.id or 0, mine, staff))
    for text in rest:
        await bot.send_message(chat_id, text)
    if resource.file_id and resource.file_kind == "photo":
        await bot.send_photo(chat_id, resource.file_id)
    elif resource.file_id:
        await bot.send_document(chat_id, resource.file_id)


async def openable(ctx: Context, resource_id: int) -> Resource | None:
    """The resource if the member may see it, or if the actor is its organization's staff (a
    super-admin outside it) and it is published; None for anything else."""
    organizations = await library.member_organizations(ctx.session, ctx.member.id if ctx.member else None)
    resource = await library.visible_resource(ctx.session, resource_id, organizations)
    if resource is None:
        staff = await ctx.load(Action.MANAGE_RESOURCES, Resource, resource_id)
        resource = staff if staff is not None and staff.status == ResourceStatus.PUBLISHED else None
    return resource


@router.callback_query(Library.filter(F.action == "open"), flags=PUBLIC)
async def open_card(
    query: CallbackQuery,
    callback_data: Library,
    ctx: Context,
    bot: Bot,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    resource = await openable(ctx, callback_data.id)
    if resource is None or ctx.member is None:
        stale_button(callback_answer)
        return
    staff = await ctx.may(Action.MANAGE_RESOURCES, resource)
    threshold = settings.survey_min_group if staff else None
    await send_card(
        bot, query.from_user.id, ctx.session, resource, ctx.member, ctx.locale, threshold, staff=staff
    )


@router.callback_query(Library.filter(F.action.in_({"save", "unsave", "up", "down"})), flags=PUBLIC)
async def card_button(
    query: CallbackQuery, callback_data: Library, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    resource = await openable(ctx, callback_data.id)
    if resource is None or ctx.member is None or ctx.member.id is None:
        stale_button(callback_answer)
        return
    action = callback_data.action
    if action in ("save", "unsave"):
        await library.set_saved(ctx.session, resource, ctx.member.id, action == "save")
        toast(
            callback_answer,
            _("⭐ Saved. /saved lists them.")
            if action == "save"
            else _("Removed from your saved resources."),
        )
    else:
        await library.vote(ctx.session, resource, ctx.member.id, action == "up")
        toast(callback_answer, _("Thank you for telling us!"))
    if isinstance(query.message, Message):
        mine = await library.mine(ctx.session, resource.id or 0, ctx.member.id)
        staff = await ctx.may(Action.MANAGE_RESOURCES, resource)
        await query.message.edit_reply_markup(reply_markup=card_keyboard(resource.id or 0, mine, staff))


async def show_linked_resource(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    ident: int,
    member: Member,
    organization: Organization,
    locale: str,
) -> None:
    """`?start=res_<id>`: the card, if the member may see it."""
    organizations = await library.member_organizations(session, member.id)
    resource = await library.visible_resource(session, ident, organizations)
    if resource is None:
        await bot.send_message(
            chat_id, _("This resource is not available to you. Send /resources to browse the library.")
        )
        return
    await send_card(bot, chat_id, session, resource, member, locale)

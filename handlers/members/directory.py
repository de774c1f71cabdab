"""/directory: the listed organizations and networks, a page at a time, with filters (country of
activity, language, topic: buttons) and a search by name (`/directory <name>`, or 🔍 and the name
typed); each card with Join, Request to join, or withdrawing a waiting request."""

from __future__ import annotations

from typing import Any, Final

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.config import Settings
from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import memberships as service
from bot.services.memberships import DirectoryFilter, JoinOutcome, MembershipError, Via
from bot.services.text import TextRejected, clean_line
from handlers.fallback import stale_button, toast
from handlers.filters import members_router
from handlers.members.callbacks import DirectoryButton
from handlers.members.org_cards import card_text, organization_by_id, replace, show
from handlers.members.org_views import (
    directory_card_keyboard,
    directory_keyboard,
    directory_text,
    facet_keyboard,
    facet_text,
    outcome_text,
    refusal,
)
from handlers.members.states import DirectoryStates
from storage.types import utcnow

router: Final[Router] = members_router(__name__)
PUBLIC: Final = rights(Action.PUBLIC)
QUERY_KEY: Final = "directory_query"  # the name typed last, kept in the dialog state
FILTERS_KEY: Final = "directory_filters"  # the filters a search by name keeps


async def _wanted(button: DirectoryButton, state: FSMContext) -> DirectoryFilter:
    query = str((await state.get_data()).get(QUERY_KEY) or "") if button.q else ""
    return DirectoryFilter(button.country, button.language, button.topic, query)


async def _page(ctx: Context, wanted: DirectoryFilter, page: int) -> tuple[str, InlineKeyboardMarkup]:
    listing = await service.directory_page(ctx.session, wanted, page, ctx.locale)
    mine = {organization.id for organization, _role in await service.memberships_of(ctx.session, ctx.member)}  # type: ignore[arg-type]
    return directory_text(listing, wanted, ctx.locale), directory_keyboard(listing, wanted, ctx.locale, mine)


def _query(text: str | None) -> str | None:
    try:
        return clean_line(text, service.QUERY_MAX)
    except TextRejected:
        return None


@router.message(Command("directory"), flags=PUBLIC)
async def directory(message: Message, command: CommandObject, ctx: Context, state: FSMContext) -> None:
    """`/directory`, or `/directory <name>` to search."""
    if await state.get_state() == DirectoryStates.search.state:
        await state.set_state(None)
    query = _query(command.args) if command.args else None
    if query:
        await state.update_data(**{QUERY_KEY: query})
    text, markup = await _page(ctx, DirectoryFilter(query=query or ""), 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(DirectoryButton.filter(F.action == "page"), flags=PUBLIC)
async def page(query: CallbackQuery, callback_data: DirectoryButton, ctx: Context, state: FSMContext) -> None:
    text, markup = await _page(ctx, await _wanted(callback_data, state), callback_data.page)
    await show(query, text, markup)


@router.callback_query(DirectoryButton.filter(F.action == "facet"), flags=PUBLIC)
async def choose_facet(
    query: CallbackQuery,
    callback_data: DirectoryButton,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    facets = await service.facets(ctx.session)
    if callback_data.facet not in facets:
        stale_button(callback_answer)
        return
    wanted = await _wanted(callback_data, state)
    markup = facet_keyboard(callback_data.facet, facets[callback_data.facet], wanted, ctx.locale)
    await replace(query, facet_text(callback_data.facet), markup)


@router.callback_query(DirectoryButton.filter(F.action == "search"), flags=PUBLIC)
async def ask_name(query: CallbackQuery, callback_data: DirectoryButton, state: FSMContext) -> None:
    filters = {
        "country": callback_data.country,
        "language": callback_data.language,
        "topic": callback_data.topic,
    }
    await state.set_state(DirectoryStates.search)
    await state.update_data(**{FILTERS_KEY: filters})
    await query.message.answer(  # type: ignore[union-attr]
        _("🔍 Send the name of the organization, or part of it, in any language. /cancel stops.")
    )


@router.message(StateFilter(DirectoryStates.search), F.text, ~F.text.startswith("/"), flags=PUBLIC)
async def name_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    query = _query(message.text)
    if query is None:
        await message.answer(
            _("Please send a name of at most {limit} characters.").format(limit=service.QUERY_MAX)
        )
        return
    filters: dict[str, Any] = (await state.get_data()).get(FILTERS_KEY) or {}
    await state.set_state(None)
    await state.update_data(**{QUERY_KEY: query})
    wanted = DirectoryFilter(
        str(filters.get("country") or ""),
        str(filters.get("language") or ""),
        str(filters.get("topic") or ""),
        query,
    )
    text, markup = await _page(ctx, wanted, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(DirectoryButton.filter(F.action == "open"), flags=PUBLIC)
async def open_card(
    query: CallbackQuery, callback_data: DirectoryButton, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    organization = await organization_by_id(ctx.session, callback_data.org)
    if organization is None or not await service.listed_by_slug(ctx.session, organization.slug):
        toast(callback_answer, refusal("not_found"), alert=True)
        return
    text, standing = await card_text(ctx.session, organization, ctx.member, ctx.locale)
    await show(query, text, directory_card_keyboard(organization, standing, callback_data), organization)


@router.callback_query(DirectoryButton.filter(F.action == "join"), flags=PUBLIC)
async def join(
    query: CallbackQuery,
    callback_data: DirectoryButton,
    ctx: Context,
    settings: Settings,
    delivery: DeliveryEngine,
    callback_answer: CallbackAnswer,
) -> None:
    """Join, or ask to: re-checked here whatever the button said (a forged Join of an invite-only
    or unlisted organization changes nothing)."""
    organization = await organization_by_id(ctx.session, callback_data.org)
    assert ctx.member is not None
    try:
        outcome = await service.join_or_ask(
            ctx.session, ctx.member, organization, Via.DIRECTORY, settings.admin_ids, utcnow()
        )
    except MembershipError as error:
        toast(callback_answer, refusal(error.reason), alert=True)
        return
    assert organization is not None
    if outcome == JoinOutcome.REQUESTED:
        delivery.wake()  # the admins' notices are in the outbox
    text, standing = await card_text(ctx.session, organization, ctx.member, ctx.locale)
    shown = outcome_text(outcome, organization, ctx.locale) + "\n\n" + text
    await replace(query, shown, directory_card_keyboard(organization, standing, callback_data))


@router.callback_query(DirectoryButton.filter(F.action == "cancel"), flags=PUBLIC)
async def withdraw(
    query: CallbackQuery, callback_data: DirectoryButton, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    organization = await organization_by_id(ctx.session, callback_data.org)
    assert ctx.member is not None
    if organization is None or not await service.cancel_request(
        ctx.session, ctx.member, organization.id or 0, utcnow()
    ):
        stale_button(callback_answer)
        return
    toast(callback_answer, _("Your request was withdrawn."))
    text, standing = await card_text(ctx.session, organization, ctx.member, ctx.locale)
    await replace(query, text, directory_card_keyboard(organization, standing, callback_data))

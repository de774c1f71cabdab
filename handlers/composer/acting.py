"""Acting for an organization: the staff dialogs' first card.

Every staff dialog's command is registered with `staff_dialog(router, command, action)`: before its
first card, a person who may take that action in more than one organization sees "🏢 Acting for:
<name>" with a 🔄 Change button; Change lists the organizations, the choice is remembered
(`bot.services.acting.choose_acting`) and the dialog opens again, for the chosen one. A dialog that
publishes (`publishes=True`) does not open for a suspended organization: nothing goes out on its
behalf, and its staff are told why. Which organization an update acts for is decided in one place
(`MemberMiddleware`, through `bot.services.acting`); this module only offers the choice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import Final

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.acting import acting_choices, choose_acting
from bot.services.organizations import get_organization
from bot.services.origins import shows_origins
from handlers.composer.echo import echo_choice
from handlers.composer.router import button_turn
from handlers.composer.steps import silenced_text
from handlers.fallback import stale_button
from storage.models import Organization, OrgStatus
from storage.types import RowId

DialogStart = Callable[[Message, Context, FSMContext, Bot], Awaitable[None]]


class ActingFor(CallbackData, prefix="act"):
    action: str  # "list": the organizations to choose from; "set": the one chosen (`org`)
    command: str  # the staff dialog to open again once chosen
    org: RowId = 0


@dataclass(frozen=True)
class StaffDialog:
    command: str
    action: Action
    start: DialogStart
    publishes: bool


DIALOGS: Final[dict[str, StaffDialog]] = {}
router: Final[Router] = Router(name=__name__)


def staff_dialog(
    on: Router, command: str, action: Action, *aliases: str, publishes: bool = False
) -> Callable[[DialogStart], DialogStart]:
    """Register `start(message, ctx, state, bot)` as the handler of /`command` (and its older
    `aliases`), declaring `action`, behind the acting card (see the module docstring)."""

    def register(start: DialogStart) -> DialogStart:
        dialog = StaffDialog(command, action, start, publishes)
        DIALOGS[command] = dialog

        async def open_dialog(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
            await open_staff_dialog(dialog, message, ctx, state, bot)

        open_dialog.__name__, open_dialog.__qualname__ = start.__name__, start.__qualname__
        open_dialog.__module__ = start.__module__
        on.message(Command(command, *aliases), flags=rights(action))(open_dialog)
        return start

    return register


async def choices_for(ctx: Context, action: Action) -> list[Organization]:
    """The organizations this person may take `action` in (and may act for). None for someone not
    registered (a super-admin who never sent /start): the choice is remembered on the member."""
    if ctx.member is None or not ctx.member.is_registered:
        return []
    organizations = await acting_choices(ctx.session, ctx.member, ctx.actor)
    return [organization for organization in organizations if await ctx.may(action, organization)]


async def organization_line(session: AsyncSession, organization_id: int | None) -> str:
    """ "🏢 For: <name>" on a preview, when the deployment serves several organizations ("" else)."""
    organization = await get_organization(session, organization_id) if organization_id else None
    if organization is None or not await shows_origins(session):
        return ""
    return _("🏢 <b>For:</b> {organization}").format(organization=escape(organization.name))


async def open_staff_dialog(
    dialog: StaffDialog, message: Message, ctx: Context, state: FSMContext, bot: Bot
) -> None:
    """The acting card (when there is a choice), then the dialog's own first card."""
    if len(await choices_for(ctx, dialog.action)) > 1:
        builder = InlineKeyboardBuilder()
        builder.button(text=_("🔄 Change"), callback_data=ActingFor(action="list", command=dialog.command))
        await bot.send_message(
            message.chat.id,
            _("🏢 Acting for: <b>{organization}</b>").format(organization=escape(ctx.organization.name)),
            reply_markup=builder.as_markup(),
        )
    if dialog.publishes and ctx.organization.status != OrgStatus.ACTIVE:
        await state.set_state(None)
        await bot.send_message(message.chat.id, silenced_text(ctx.organization))
        return
    await dialog.start(message, ctx, state, bot)


def _choices_keyboard(
    dialog: StaffDialog, organizations: list[Organization], current: int
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for organization in organizations:
        mark = "✅ " if organization.id == current else ""
        paused = " ⏸" if organization.status == OrgStatus.SUSPENDED else ""
        builder.button(
            text=(mark + organization.name)[:56] + paused,
            callback_data=ActingFor(action="set", command=dialog.command, org=organization.id or 0),
        )
    builder.adjust(1)
    return builder.as_markup()


# The switcher's buttons declare no staff right: they only choose among the organizations the
# person may act for (`acting_choices`, checked again when chosen), and the dialog opened again
# checks its own right in the chosen organization.


@router.callback_query(ActingFor.filter(), flags=rights(Action.PUBLIC))
async def acting_button(
    query: CallbackQuery,
    callback_data: ActingFor,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    dialog = DIALOGS.get(callback_data.command)
    organizations = await choices_for(ctx, dialog.action) if dialog is not None else []
    if dialog is None or not isinstance(query.message, Message) or len(organizations) < 2:
        stale_button(callback_answer)
        return
    if callback_data.action == "list":
        await query.message.edit_text(
            _("Which organization do you act for?"),
            reply_markup=_choices_keyboard(dialog, organizations, ctx.organization_id),
        )
        return
    chosen = next((item for item in organizations if item.id == callback_data.org), None)
    if callback_data.action != "set" or chosen is None:
        stale_button(callback_answer)
        return
    organization = await choose_acting(ctx.session, ctx.member, ctx.actor, chosen.id or 0)
    if organization is None:
        stale_button(callback_answer)
        return
    ctx.organization = organization
    await echo_choice(button_turn(query, ctx, state, bot, callback_answer), escape(organization.name))
    await open_staff_dialog(dialog, query.message, ctx, state, bot)

"""Joint positions for members: `/positions` (the positions asked of their organizations, or of
every organization, in pages), a card (also from a share link `?start=pos_<id>`), and adding or
withdrawing their name. ✍️ Add my name shows a consent text first — exactly what is shared (their
name and country of residence, as stored now), with whom and until when — and only ✅ I agree adds
it. Every id is re-checked (`visible_position`): a draft, another organization's position or a
forged id gets the stale answer and changes nothing."""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.organizations import get_organization
from bot.services.positions import signatures
from bot.services.positions.visibility import card_facts, endorsement_counts, visible_page, visible_position
from handlers.fallback import stale_button, toast
from handlers.filters import IsRegistered
from handlers.positions.callbacks import PositionMember
from handlers.positions.member_views import (
    card_keyboard,
    card_messages,
    consent_keyboard,
    consent_text,
    list_view,
    outcome_text,
)
from handlers.ui import member_zone
from storage.models import Member, Organization, Position
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private", IsRegistered())
router.callback_query.filter(IsRegistered())
PUBLIC: Final = rights(Action.PUBLIC)


async def share_link(bot: Bot, position_id: int) -> str:
    me = await bot.me()
    return f"https://t.me/{me.username}?start=pos_{position_id}"


async def list_page(ctx: Context, page: int) -> tuple[str, InlineKeyboardMarkup]:
    assert ctx.member is not None
    found = await visible_page(ctx.session, ctx.member, ctx.locale, page)
    counts = await endorsement_counts(ctx.session, [position.id or 0 for position in found.items])
    return list_view(found, counts, ctx.locale, ctx.zone, utcnow())


@router.message(Command("positions"), flags=PUBLIC)
async def show_positions(message: Message, ctx: Context) -> None:
    text, markup = await list_page(ctx, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(PositionMember.filter(F.action == "list"), flags=PUBLIC)
async def positions_page(query: CallbackQuery, callback_data: PositionMember, ctx: Context) -> None:
    text, markup = await list_page(ctx, callback_data.page)
    if isinstance(query.message, Message) and query.message.text is not None:
        await query.message.edit_text(text, reply_markup=markup)
    else:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)  # type: ignore[union-attr]


async def card_parts(
    bot: Bot, session: AsyncSession, position: Position, member: Member, locale: str, zone: str
) -> tuple[list[str], InlineKeyboardMarkup]:
    """The card's messages (its statement split as needed) and the buttons of the last one."""
    now = utcnow()
    facts = await card_facts(session, position, member.id or 0)
    link = await share_link(bot, position.id or 0)
    texts = card_messages(position, facts, locale, zone, now, link)
    return texts, card_keyboard(position, facts.mine is not None, signatures.signing_refusal(position, now))


async def send_card(
    bot: Bot, chat_id: int, session: AsyncSession, position: Position, member: Member, locale: str, zone: str
) -> None:
    texts, markup = await card_parts(bot, session, position, member, locale, zone)
    for text in texts[:-1]:
        await bot.send_message(chat_id, text)
    await bot.send_message(chat_id, texts[-1], reply_markup=markup)


async def _visible(ctx: Context, position_id: int, callback_answer: CallbackAnswer) -> Position | None:
    """The position if the member may see it; else the stale answer (nothing about it told)."""
    position = await visible_position(ctx.session, ctx.member, position_id) if ctx.member else None
    if position is None:
        stale_button(callback_answer)
    return position


@router.callback_query(PositionMember.filter(F.action == "open"), flags=PUBLIC)
async def open_card(
    query: CallbackQuery,
    callback_data: PositionMember,
    ctx: Context,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    position = await _visible(ctx, callback_data.id, callback_answer)
    if position is not None and ctx.member is not None:
        await send_card(bot, query.from_user.id, ctx.session, position, ctx.member, ctx.locale, ctx.zone)


@router.callback_query(PositionMember.filter(F.action == "sign"), flags=PUBLIC)
async def ask_consent(
    query: CallbackQuery,
    callback_data: PositionMember,
    ctx: Context,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """✍️ Add my name: the consent text with the member's real name and country (nothing added yet)."""
    position = await _visible(ctx, callback_data.id, callback_answer)
    if position is None or ctx.member is None:
        return
    refusal = await signatures.consent_refusal(ctx.session, position, ctx.member, utcnow())
    if refusal is not None:
        toast(callback_answer, outcome_text(refusal), alert=True)
        return
    drafter = await get_organization(ctx.session, position.organization_id)
    text = consent_text(position, signatures.shared(ctx.member), drafter, ctx.locale, ctx.zone)
    await bot.send_message(query.from_user.id, text, reply_markup=consent_keyboard(position.id or 0))


@router.callback_query(PositionMember.filter(F.action.in_({"consent", "withdraw"})), flags=PUBLIC)
async def change_name(
    query: CallbackQuery,
    callback_data: PositionMember,
    ctx: Context,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """✅ I agree adds the name (a second tap changes nothing and says so); ↩️ withdraws it."""
    position = await _visible(ctx, callback_data.id, callback_answer)
    if position is None or ctx.member is None:
        return
    now = utcnow()
    if callback_data.action == "consent":
        outcome = await signatures.sign(ctx.session, position, ctx.member, now)
    else:
        outcome = await signatures.withdraw(ctx.session, position, ctx.member.id or 0, now)
    done = outcome in (signatures.Outcome.SIGNED, signatures.Outcome.WITHDRAWN)
    toast(callback_answer, outcome_text(outcome), alert=not done)
    if isinstance(query.message, Message):  # the consent text, or the card: now the card's last part
        texts, markup = await card_parts(bot, ctx.session, position, ctx.member, ctx.locale, ctx.zone)
        await query.message.edit_text(texts[-1], reply_markup=markup)


@router.callback_query(PositionMember.filter(F.action == "cancel"), flags=PUBLIC)
async def decline_consent(
    query: CallbackQuery, callback_data: PositionMember, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    position = await _visible(ctx, callback_data.id, callback_answer)
    if position is not None and isinstance(query.message, Message):
        await query.message.edit_text(_("Nothing was shared: your name is not added."))


async def show_linked_position(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    ident: int,
    member: Member,
    organization: Organization,
    locale: str,
) -> None:
    """`?start=pos_<id>`: the card, if the member may see it."""
    position = await visible_position(session, member, ident)
    if position is None:
        await bot.send_message(
            chat_id, _("This position is not available to you. Send /positions to see the joint positions.")
        )
        return
    await send_card(bot, chat_id, session, position, member, locale, member_zone(member, organization))

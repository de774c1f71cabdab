"""Showing an organization's card (with its logo when it has one) and what the deep links
`?start=org_<code>` (an invitation: join, or ask to) and `?start=dir_<slug>` (a directory card)
open, for a registered member at /start or for a newcomer once registered."""

from __future__ import annotations

import re
from html import unescape

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services import memberships as service
from bot.services.memberships import MembershipError, Standing, Via
from bot.services.organizations import get_organization
from bot.services.text import telegram_length
from handlers.members.callbacks import DirectoryButton
from handlers.members.org_views import (
    directory_card_keyboard,
    invalid_invite,
    organization_card,
    outcome_text,
    refusal,
)
from storage.models import Member, Organization
from storage.types import ROW_ID_MAX, utcnow

CAPTION_MAX = 1024


async def organization_by_id(session: AsyncSession, ident: int) -> Organization | None:
    """The organization a button names (None: a missing or forged id)."""
    return await get_organization(session, ident) if 0 < ident <= ROW_ID_MAX else None


async def card_text(
    session: AsyncSession, organization: Organization, member: Member | None, locale: str
) -> tuple[str, Standing]:
    """The organization's card as this member sees it, and where they stand with it."""
    standing, role = await service.standing(session, member, organization.id or 0)
    facts = await service.facts(session, organization.id or 0, utcnow())
    return organization_card(organization, locale, facts, standing, role), standing


def _fits_a_caption(text: str) -> bool:
    return telegram_length(unescape(re.sub(r"<[^>]+>", "", text))) <= CAPTION_MAX


async def send_card(
    bot: Bot, chat_id: int, organization: Organization, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """A new message: the logo with the card as its caption, else (no logo, a card too long for a
    caption, a logo Telegram no longer knows) the card as text."""
    if organization.logo_file_id and _fits_a_caption(text):
        try:
            await bot.send_photo(chat_id, organization.logo_file_id, caption=text, reply_markup=markup)
            return
        except TelegramBadRequest:
            pass
    await bot.send_message(chat_id, text, reply_markup=markup)


async def show(
    query: CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None,
    organization: Organization | None = None,
) -> None:
    """Show a page, or `organization`'s card, in place of the pressed message; as a new message
    when a logo comes or goes (a text message cannot become a photo, nor a logo a page)."""
    message = query.message
    has_logo = isinstance(message, Message) and bool(message.photo)
    if has_logo == bool(organization and organization.logo_file_id):
        await replace(query, text, markup)
    elif organization is not None:
        await send_card(query.bot, query.from_user.id, organization, text, markup)  # type: ignore[arg-type]
    else:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)  # type: ignore[union-attr]


async def replace(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show `text` in place of the pressed message (its caption, when it is a logo)."""
    message = query.message
    if isinstance(message, Message) and message.photo:
        await message.edit_caption(caption=text, reply_markup=markup)
    elif isinstance(message, Message):
        await message.edit_text(text, reply_markup=markup)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)


async def open_invite(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    code: str,
    member: Member,
    locale: str,
    super_admins: frozenset[int],
) -> None:
    """An invite link: the member joins (or asks to, where admins approve), and sees the outcome
    above the organization's card. An unknown or rotated code, or an archived organization, says
    that the link is no longer valid."""
    organization = await service.by_invite_code(session, code)
    try:
        outcome = await service.join_or_ask(session, member, organization, Via.INVITE, super_admins, utcnow())
    except MembershipError as error:
        await bot.send_message(
            chat_id, invalid_invite() if error.reason == "not_found" else refusal(error.reason)
        )
        return
    assert organization is not None
    text, _standing = await card_text(session, organization, member, locale)
    await send_card(
        bot, chat_id, organization, outcome_text(outcome, organization, locale) + "\n\n" + text, None
    )


async def open_listed(
    bot: Bot, chat_id: int, session: AsyncSession, slug: str, member: Member, locale: str
) -> None:
    """A directory link: the card of a listed organization, with Join (or Request to join)."""
    organization = await service.listed_by_slug(session, slug)
    if organization is None:
        await bot.send_message(chat_id, refusal("not_found"))
        return
    text, standing = await card_text(session, organization, member, locale)
    markup = directory_card_keyboard(organization, standing, DirectoryButton(action="page"))
    await send_card(bot, chat_id, organization, text, markup)

"""Sending an organization's card (its logo first, when it has one), and the texts of refused
changes."""

from __future__ import annotations

from html import escape

from aiogram import Bot

from bot.context import Context
from bot.i18n import _
from bot.services.confederation.listing import member_count
from bot.services.confederation.organizations import OrganizationError, invite_link
from handlers.orgs_admin.views import card_keyboard, card_text
from storage.models import Organization


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

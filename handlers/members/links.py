"""Deep links (`?start=event_12`, `?start=org_<code>`, `?start=dir_<slug>`) that open something
once the member is registered: at /start, or at the end of registration for a newcomer who came
through one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiogram import Bot
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import Context
from bot.services.deep_links import DeepLink
from handlers.members.org_cards import open_invite, open_listed
from storage.models import Member, Organization

Opener = Callable[[Bot, int, AsyncSession, int, Member, Organization, str], Awaitable[None]]


def _openers() -> dict[str, Opener]:
    # Imported when used: the capabilities' routers import the members' package, not the reverse.
    from handlers.events.member import show_linked_event
    from handlers.library import show_linked_resource
    from handlers.positions import show_linked_position
    from handlers.surveys import show_linked_survey
    from handlers.trainings import show_linked_training

    return {
        "event": show_linked_event,
        "training": show_linked_training,
        "survey": show_linked_survey,
        "res": show_linked_resource,
        "pos": show_linked_position,
    }


async def open_link(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    link: DeepLink,
    member: Member,
    organization: Organization,
    locale: str,
    super_admins: frozenset[int] = frozenset(),
) -> bool:
    """Open what the link names (a card, an invitation); False when it names nothing we open.
    `super_admins` are told of a join request to an organization that has no admin yet."""
    if link.kind == "org":
        await open_invite(bot, chat_id, session, link.value, member, locale, super_admins)
        return True
    if link.kind == "dir":
        await open_listed(bot, chat_id, session, link.value, member, locale)
        return True
    opener = _openers().get(link.kind)
    if opener is None or not link.value.isdigit():
        return False
    await opener(bot, chat_id, session, int(link.value), member, organization, locale)
    return True


async def open_linked(
    bot: Bot, chat_id: int, ctx: Context, link: DeepLink, super_admins: frozenset[int] = frozenset()
) -> bool:
    if ctx.member is None:
        return False
    return await open_link(
        bot, chat_id, ctx.session, link, ctx.member, ctx.organization, ctx.locale, super_admins
    )

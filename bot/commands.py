"""The command menus: set for every shipped language at start, and per chat for members whose
chosen language or role differs from what the default menu shows."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES, menu_language_code
from bot.logs import log_event
from bot.services.roles import Actor, effective_roles
from storage.models import Member, Role

log = logging.getLogger(__name__)

MEMBER_COMMANDS = (
    ("start", __("Start or restart")),
    ("events", __("Upcoming events")),
    ("surveys", __("Open surveys to answer")),
    ("trainings", __("Trainings open for sign-up")),
    ("mytrainings", __("Your trainings")),
    ("orgs", __("Your organizations")),
    ("directory", __("Find organizations and networks")),
    ("resources", __("Resource library")),
    ("saved", __("Your saved resources")),
    ("suggest", __("Suggest a resource")),
    ("positions", __("Joint positions to support")),
    ("profile", __("Your profile")),
    ("language", __("Change language")),
    ("help", __("What I can do")),
    ("mydata", __("Get a copy of your data")),
    ("forget", __("Erase your data")),
    ("cancel", __("Stop the current dialog")),
)
# Extra commands per role; later capabilities add theirs (events, announcements, surveys).
_ORGANIZER_COMMANDS = (
    ("announce", __("Write an announcement")),
    ("announcements", __("Scheduled announcements")),
    ("newevent", __("Create an event")),
    ("myevents", __("Manage events")),
)
# Surveys, quick polls and trainings: coordinators, and organizers and admins too.
_COORDINATOR_COMMANDS = (
    ("poll", __("Ask a quick poll")),
    ("newsurvey", __("Create a survey")),
    ("results", __("Survey results")),
    ("newtraining", __("Create a training")),
    ("managetrainings", __("Manage trainings")),
    ("stats", __("Statistics")),
    ("newresource", __("Publish a resource")),
)
ROLE_COMMANDS: dict[Role, tuple[tuple[str, object], ...]] = {
    Role.ADMIN: (
        ("admin", __("Manage roles")),
        ("manageorgs", __("Manage organizations")),
        ("audit", __("Audit trail")),
        ("newposition", __("Draft a joint position")),
        ("mypositions", __("Joint positions and requests to endorse")),
        *_ORGANIZER_COMMANDS,
        *_COORDINATOR_COMMANDS,
    ),
    Role.ORGANIZER: (*_ORGANIZER_COMMANDS, *_COORDINATOR_COMMANDS),
    Role.COORDINATOR: _COORDINATOR_COMMANDS,
}


def command_list(i18n: I18n, language: str, roles: Iterable[Role] = ()) -> list[BotCommand]:
    return list(_command_list(_Catalogs(i18n), language, tuple(roles)))


class _Catalogs:
    """An I18n as a cache key: its catalogs (its class, directory and domain), not the instance
    (each App loads its own I18n from the same files: a test process builds an App a test)."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n
        self.key = (type(i18n), i18n.path, i18n.domain)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Catalogs) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)


@lru_cache(maxsize=512)
def _command_list(catalogs: _Catalogs, language: str, roles: tuple[Role, ...]) -> tuple[BotCommand, ...]:
    """Built once per catalogs, language and roles (every /help shows one; the catalogs do not
    change while the bot runs)."""
    i18n = catalogs.i18n
    entries = list(MEMBER_COMMANDS)
    for role in roles:
        entries.extend(entry for entry in ROLE_COMMANDS.get(role, ()) if entry not in entries)
    with i18n.context(), i18n.use_locale(language):
        return tuple(BotCommand(command=name, description=str(description)) for name, description in entries)


async def set_default_commands(bot: Bot, i18n: I18n, default_language: str) -> None:
    """One menu per shipped language (Telegram picks by the user's app language), plus a fallback."""
    await bot.set_my_commands(command_list(i18n, default_language), scope=BotCommandScopeDefault())
    for language in SHIPPED_LANGUAGES:
        await bot.set_my_commands(
            command_list(i18n, language),
            scope=BotCommandScopeDefault(),
            language_code=menu_language_code(language),
        )


async def refresh_chat_commands(
    bot: Bot, i18n: I18n, chat_id: int, language: str, roles: Iterable[Role]
) -> None:
    """The member's own menu: in the language they chose, with their role's commands."""
    try:
        await bot.set_my_commands(
            command_list(i18n, language, roles), scope=BotCommandScopeChat(chat_id=chat_id)
        )
    except (TelegramBadRequest, TelegramForbiddenError) as error:
        log_event(log, "commands_not_set", logging.WARNING, chat_id=chat_id, error=type(error).__name__)


async def clear_chat_commands(bot: Bot, chat_id: int) -> None:
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
    except (TelegramBadRequest, TelegramForbiddenError) as error:
        log_event(log, "commands_not_cleared", logging.WARNING, chat_id=chat_id, error=type(error).__name__)


async def refresh_member_menu(
    bot: Bot, i18n: I18n, session: AsyncSession, actor: Actor, member: Member
) -> None:
    """After any change (consent, language, a role granted or taken): the person's own menu, in
    their language, with the commands of the roles they really hold in any organization — a
    super-admin's included."""
    roles = await effective_roles(session, actor, member)
    language = member.language or i18n.default_locale
    await refresh_chat_commands(bot, i18n, actor.telegram_id, language, roles)

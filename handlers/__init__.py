"""aiogram routers: thin Telegram I/O over `bot.services`. The order matters: the catch-all
fallback comes last, and /help and /cancel come before any dialog that waits for text."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import (
        admin,
        announcements,
        chat_member,
        errors,
        event_admin,
        events,
        fallback,
        help,
        language,
        privacy,
        profile,
        start,
        survey_admin,
        survey_results,
        surveys,
        training_admin,
        training_dialog,
        trainings,
    )

    return [
        errors.router,
        chat_member.router,
        help.router,
        start.router,
        admin.router,
        *announcements.get_routers(),
        event_admin.router,
        survey_admin.router,
        survey_results.router,
        training_dialog.router,
        training_admin.router,
        language.router,
        privacy.router,
        profile.router,
        events.router,
        surveys.router,
        trainings.router,
        fallback.router,
    ]

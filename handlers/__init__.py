"""aiogram routers: thin Telegram I/O over `bot.services`. The order matters: the catch-all
fallback comes last, and /help and /cancel come before any dialog that waits for text."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers import (
        announcements,
        errors,
        events,
        fallback,
        help,
        orgs_admin,
        surveys,
        trainings,
    )
    from handlers.admin import quiet_hours, roles
    from handlers.composer import acting
    from handlers.members import blocking, calendar, language, privacy, profile, profile_steps, start

    return [
        errors.router,
        blocking.router,
        help.router,
        start.router,
        acting.router,
        roles.router,
        quiet_hours.router,
        *orgs_admin.get_routers(),
        *announcements.get_routers(),
        *events.staff_routers,
        *surveys.staff_routers,
        *trainings.coordinator_routers,
        language.router,
        privacy.router,
        profile.router,
        profile_steps.router,
        calendar.router,
        *events.member_routers,
        *surveys.member_routers,
        *trainings.member_routers,
        fallback.router,
    ]

"""aiogram routers: thin Telegram I/O over `bot.services`. The order matters: the catch-all
fallback comes last, and /help and /cancel come before any dialog that waits for text."""

from __future__ import annotations

from functools import cache

from aiogram import Router


def get_routers() -> list[Router]:
    """The routers for one App. An App takes the routers the modules declare, as they are, when
    no other App holds them: the bot's process builds one (a copy of them all is some 3 MB that
    would stay resident), and a test process one after another, each closed App giving them back
    (`release_routers`). An App built while they are attached (another App alive, or one that
    failed half-built and was never closed) gets fresh copies (`fresh_router`): aiogram attaches a
    router to one parent only."""
    declared = _declared_routers()
    if all(router.parent_router is None for router in declared):
        return list(declared)
    from bot.aiogram_tuning import fresh_router

    return [fresh_router(router) for router in declared]


def release_routers(parent: Router) -> int:
    """Give back the declared routers `parent` (a closing App's dispatcher) took, so that the next
    App takes them rather than copies. Returns how many."""
    from bot.aiogram_tuning import detach_routers

    return detach_routers(parent, _declared_routers())


@cache
def _declared_routers() -> tuple[Router, ...]:
    """The routers as the modules declare them, in order; built once."""
    from handlers import (
        announcements,
        audit,
        errors,
        events,
        fallback,
        help,
        library,
        orgs_admin,
        positions,
        stats,
        surveys,
        trainings,
    )
    from handlers.admin import quiet_hours, roles
    from handlers.composer import acting
    from handlers.members import (
        blocking,
        calendar,
        directory,
        join_requests,
        language,
        orgs,
        privacy,
        profile,
        profile_steps,
        start,
    )

    return (
        errors.router,
        blocking.router,
        help.router,
        start.router,
        acting.router,
        roles.router,
        quiet_hours.router,
        *orgs_admin.get_routers(),
        stats.router,
        audit.router,
        *announcements.get_routers(),
        *events.staff_routers,
        *surveys.staff_routers,
        *trainings.coordinator_routers,
        *library.get_staff_routers(),
        *positions.get_staff_routers(),
        language.router,
        privacy.router,
        profile.router,
        profile_steps.router,
        calendar.router,
        orgs.router,
        directory.router,
        join_requests.router,
        *events.member_routers,
        *surveys.member_routers,
        *trainings.member_routers,
        *library.member_routers,
        *positions.member_routers,
        fallback.router,
    )

"""Organization management for confederation staff (super-admins) and organization admins:
/manageorgs, the list of organizations, each one's card and its changes."""

from __future__ import annotations

from aiogram import Router


def get_routers() -> list[Router]:
    from handlers.composer import composer_router
    from handlers.orgs_admin import manage, pickers
    from handlers.orgs_admin.composer import COMPOSER

    return [composer_router(COMPOSER), manage.router, pickers.router]

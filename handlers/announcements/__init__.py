"""/announce and /announcements: the organizer's composer on the composer kit, and what is
scheduled or going out.

Every handler declares `rights(Action.ANNOUNCE)` (organizers and admins of the organization; the
rights middleware refuses others before the handler runs) and loads the announcement a button or a
typed step names with `ctx.load` (through `composer.load_announcement`), which checks the right
against the announcement's own organization: callback data can be forged.

Modules: `composer` (the kit declaration: translations, the text edit, Send's claim, Discard),
`compose` (/announce and the card's own buttons), `audience`, `schedule` (send now, at a time, at
members' local time), `manage` (/announcements), `views`, `callbacks`, `states`.
"""

from __future__ import annotations

from aiogram import Router

from handlers.announcements import audience, compose, manage, schedule
from handlers.announcements.composer import COMPOSER
from handlers.composer import composer_router


def get_routers() -> list[Router]:
    """The kit's handlers first (a continuation of a cut text must not become a draft), then the
    capability's, `compose` last (its `not_text` takes what the typed steps before did not); an
    unknown action falls through to the catch-all fallback (stale button)."""
    return [composer_router(COMPOSER), audience.router, schedule.router, manage.router, compose.router]

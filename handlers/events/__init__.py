"""Events in Telegram: the organizer's dialogs and buttons (/newevent, its draft on the composer
kit, /myevents, edits, attendees, check-in codes, /postevent) and the member's side (/events,
RSVP, calendar files, typed check-in codes).

`staff_routers` go with the other staff dialogs, before the member handlers; `member_routers`
go with the member handlers (the typed check-in code after every dialog that waits for text).
The commands come before the typed steps: /myevents or /postevent sent while a dialog waits is
the command, not an answer (and /newevent starts afresh)."""

from __future__ import annotations

from aiogram import Router

from handlers.composer import composer_router
from handlers.events import attendees, checkin, composer, group, manage, member, new_event

staff_routers: list[Router] = [
    manage.router,  # /myevents
    group.router,  # /postevent
    new_event.router,  # /newevent, then its typed steps
    composer_router(composer.COMPOSER),  # the preview: translations, ✏️ Edit, Publish, Discard
    composer.router,  # the edit step's own buttons
    attendees.router,
    checkin.router,
]
member_routers: list[Router] = [member.router, checkin.member_router]
routers: list[Router] = [*staff_routers, *member_routers]

"""Events in Telegram: the organizer's dialogs and buttons (/newevent, drafts, /myevents, edits,
attendees, check-in codes, /postevent) and the member's side (/events, RSVP, calendar files,
typed check-in codes).

`staff_routers` go with the other staff dialogs, before the member handlers; `member_routers`
go with the member handlers (the typed check-in code after every dialog that waits for text).
Inside each list the order matters only for the one text handler without a state (the code)."""

from __future__ import annotations

from aiogram import Router

from handlers.events import attendees, checkin, drafts, edit, group, manage, member, new_event

staff_routers: list[Router] = [
    new_event.router,
    drafts.router,
    edit.router,
    manage.router,
    attendees.router,
    checkin.router,
    group.router,
]
member_routers: list[Router] = [member.router, checkin.member_router]
routers: list[Router] = [*staff_routers, *member_routers]

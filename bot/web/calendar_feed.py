"""GET /calendar/<token>.ics: a member's private calendar feed (see `bot.services.calendar_feed`).

One VCALENDAR with a VEVENT per event or training session, titles and descriptions in the
member's language, times in UTC (every calendar app places them in the reader's zone), the same
UID as the "Add to calendar" file so an event imported both ways is one entry. Calendar apps
refresh a subscription every few hours; `REFRESH-INTERVAL` asks for hourly. An unknown or revoked
token gets a plain 404 (nothing tells whether it ever existed).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram.utils.i18n import I18n
from aiohttp import web
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.services.calendar_feed import feed_events, member_of_feed
from bot.services.events import version_for
from bot.services.events.calendar import calendar_entry, new_calendar
from storage.models import Event
from storage.types import utcnow

log = logging.getLogger(__name__)
PRODID = "-//Diaspora Bridge//Calendar feed//EN"


def feed_ics(events: list[Event], language: str, default_language: str, name: str) -> bytes:
    calendar = new_calendar(PRODID)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = utcnow().replace(microsecond=0)
    for event in events:
        calendar.add_component(calendar_entry(event, version_for(event, language, default_language), stamp))
    return calendar.to_ical()


class CalendarFeedRoute:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: I18n, settings: Settings) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.settings = settings

    async def serve(self, request: web.Request) -> web.Response:
        token = request.match_info.get("token", "")
        async with self.sessions() as session:
            member = await member_of_feed(session, token)
            if member is None or member.id is None:
                return web.Response(status=404, text="not found")
            events = await feed_events(session, member.id, utcnow())
        language = member.language or self.settings.default_language
        name = self.i18n.gettext("My events", locale=language)
        body = feed_ics(events, language, self.settings.default_language, name)
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={
                "Cache-Control": "private, max-age=300",
                "Content-Disposition": "inline; filename=events.ics",
            },
        )

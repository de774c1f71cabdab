"""The end of /newevent: the draft (or a series of drafts) is written and previewed exactly as
members will see it, with the composer kit's buttons (Publish, Add a translation, Discard)."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.context import Context
from bot.i18n import _, ngettext
from bot.services import events as service
from bot.services.audience import is_wide
from bot.services.events.rules import EventError
from bot.services.events.series import create_drafts as write_drafts
from handlers.composer import Turn
from handlers.events.common import ComposedEvent
from handlers.events.composer import COMPOSER
from handlers.events.new_event_steps import REMINDERS, RULES, SERIES_COUNT, ask, moment
from handlers.events.texts import error_text, expired, rule_label
from storage.models import Event
from storage.types import utcnow


def _fields(ctx: Context, draft: dict[str, Any]) -> dict[str, Any]:
    """What every date of the new event shares, from the dialog's answers."""
    return {
        "title": draft["title"],
        "description": draft.get("description") or "",
        "language": draft.get("language") or ctx.organization.default_language,
        "place": draft.get("place"),
        "online_url": draft.get("online_url"),
        "capacity": draft.get("capacity"),
        "reminder_offsets": draft.get("reminders", REMINDERS["dh"]),
        "audience": draft.get("audience") or {},
        # Announced beyond its organization (a super-admin's choice): open to those it is told of.
        "open_to_all": is_wide(draft.get("audience")),
        "claim_window_hours": draft.get("claim_window") if draft.get("capacity") is not None else None,
        "created_by_member_id": ctx.member.id if ctx.member else None,
    }


async def create_drafts(turn: Turn, draft: dict[str, Any]) -> None:
    """The end of the dialog: the draft (or the series of drafts) is written, then previewed; a
    refused answer (a start passed meanwhile) is asked again."""
    ctx, zone = turn.ctx, draft["zone"]
    starts_at = moment(draft.get("starts_at"))
    if starts_at is None or not draft.get("title"):
        await turn.state.clear()
        await turn.say(expired())
        return
    repeat = draft.get("repeat", "once")
    try:
        events = await write_drafts(
            ctx.session,
            organization=ctx.organization,
            rule=RULES.get(repeat),
            starts_at=starts_at,
            ends_at=moment(draft.get("ends_at")),
            rsvp_deadline=moment(draft.get("rsvp_deadline")),
            timezone=zone,
            now=utcnow(),
            count=SERIES_COUNT,
            **_fields(ctx, draft),
        )
    except EventError as error:
        await ctx.session.rollback()
        await turn.say(error_text(error))
        await ask(
            turn, {"past_start": "start", "deadline_in_past": "deadline"}.get(error.reason, "repeat"), draft
        )
        return
    await turn.state.clear()
    await turn.say(await _header(ctx, events, repeat, starts_at, zone))
    await COMPOSER.show_preview(turn, ComposedEvent(events[0], zone))


async def _header(ctx: Context, events: list[Event], repeat: str, starts_at: datetime, zone: str) -> str:
    """Above the preview: nothing is sent yet, how many it reaches, and a series' dates."""
    reach = await service.count_audience(ctx.session, events[0])
    header = (
        _("👁 Preview: this is how members will see it. Nothing is sent until you press Publish.")
        + "\n"
        + ngettext(
            "This event reaches <b>{count}</b> member.", "This event reaches <b>{count}</b> members.", reach
        ).format(count=reach)
    )
    if repeat == "once":
        return header
    last = format_date(events[-1].starts_at.astimezone(ZoneInfo(zone)), "long", locale=ctx.locale)
    return (
        header
        + "\n"
        + ngettext(
            "🔁 {rule}: {count} date, the last on {last}.",
            "🔁 {rule}: {count} dates, the last on {last}.",
            len(events),
        ).format(rule=escape(rule_label(repeat, starts_at, zone)), count=len(events), last=escape(last))
    )

"""Which organization a card or a message comes from: one line above it, the same in every card
(events, trainings, surveys) and every message the delivery engine composes (announcements,
notices, reminders, invitations, polls). The name is None when the deployment does not show it
(`bot.services.origins`): then nothing changes."""

from __future__ import annotations

from html import escape

from bot.services.text import clip, telegram_length, visible_length

MESSAGE_MAX = 4096  # a message's text as Telegram counts it
CAPTION_MAX = 1024  # a media caption's


def origin_line(name: str | None) -> str:
    """ "🏛 <i>Name</i>" (HTML, escaped), or "" when no name is shown."""
    return f"🏛 <i>{escape(name)}</i>" if name else ""


def with_origin(text: str, name: str | None, limit: int = MESSAGE_MAX) -> str:
    """`text` (HTML) under the line naming its organization; `text` alone when the line would take
    it over Telegram's `limit` (an organizer's text already as long as a message may be)."""
    if not name:
        return text
    labelled = f"{origin_line(name)}\n{text}"
    return labelled if visible_length(labelled) <= limit else text


def plain_with_origin(text: str, name: str | None, limit: int) -> str:
    """A plain text (a native poll's question: no HTML there) led by the organization's name, kept
    within `limit` characters by shortening the name, never the text."""
    if not name:
        return text
    room = limit - telegram_length(f"🏛 : {text}")
    if room < 4:  # no room for a name worth reading: the question alone
        return text
    shown = name if telegram_length(name) <= room else clip(name, room)
    return f"🏛 {shown}: {text}"

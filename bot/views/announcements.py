"""What a member reads of an announcement (`member_text`: the delivery code and the organizer's
preview of each version), and what the organizer reads about a broadcast that is not out yet: how
many messages wait for members' quiet hours (or their own local time) and until when, in the
organizer's zone, and how many are retried or failed, by reason. The caller sets the gettext
locale."""

from __future__ import annotations

from collections import Counter

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.lists import format_list

from bot.i18n import format_when
from bot.services.announcements import Waiting, text_for
from bot.views.origin import CAPTION_MAX, MESSAGE_MAX, origin_line, with_origin
from storage.models import Announcement, DeliveryStatus


def member_text(announcement: Announcement, language: str, origin: str | None) -> str | None:
    """What a member reads: their language's version under its organization's name (`origin`, when
    the deployment shows it); None for a photo or document without a caption."""
    text = text_for(announcement, language)
    if not text:
        return origin_line(origin) or None
    return with_origin(text, origin, CAPTION_MAX if announcement.media_kind else MESSAGE_MAX)


def counts_line(counts: dict[DeliveryStatus, int]) -> str:
    """Sent, failed and blocked so far."""
    return _("Sent: {sent} · Failed: {failed} · Blocked: {blocked}").format(
        sent=counts.get(DeliveryStatus.SENT, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0) + counts.get(DeliveryStatus.UNREACHABLE, 0),
        blocked=counts.get(DeliveryStatus.BLOCKED, 0),
    )


def _reasons(counts: Counter[str], locale: str) -> str:
    names = {
        "flood": _("Telegram asked the bot to slow down"),
        "server": _("Telegram's servers had an error"),
        "network": _("the network failed"),
        "other": _("another error"),
    }
    return format_list(
        [f"{names[reason]} ({count})" for reason, count in counts.most_common()], locale=locale
    )


def waiting_lines(waiting: Waiting, locale: str, zone: str, local_time: bool) -> list[str]:
    """One line per cause that holds messages back; none when nothing does."""
    lines: list[str] = []
    if waiting.held and waiting.until is not None:
        when = format_when(waiting.until, locale, zone, "short")
        if local_time:
            text = ngettext(
                "🕒 {count} message waits for the member's local time (the last at {when}).",
                "🕒 {count} messages wait for the members' local time (the last at {when}).",
                waiting.held,
            )
        else:
            text = ngettext(
                "🌙 {count} message waits for the member's quiet hours to end (the last at {when}).",
                "🌙 {count} messages wait for the members' quiet hours to end (the last at {when}).",
                waiting.held,
            )
        lines.append(text.format(count=waiting.held, when=when))
    if waiting.retrying:
        total = sum(waiting.retrying.values())
        text = ngettext(
            "🔁 {count} message will be tried again: {reasons}.",
            "🔁 {count} messages will be tried again: {reasons}.",
            total,
        )
        lines.append(text.format(count=total, reasons=_reasons(waiting.retrying, locale)))
    return lines


def failure_line(waiting: Waiting, locale: str) -> str | None:
    """Why messages failed, for the final report (None when none failed for a known reason)."""
    if not waiting.failed:
        return None
    return _("Why they failed: {reasons}.").format(reasons=_reasons(waiting.failed, locale))

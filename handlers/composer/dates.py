"""What every staff dialog says about a typed date it did not take (`DateError`): not understood,
already past (naming the moment read), or readable two ways (naming both, with a way to say which)."""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n

from bot.i18n import _, format_when
from bot.services.dates import DateError


def date_error_text(error: DateError) -> str:
    locale = get_i18n().current_locale
    words = [escape(format_when(moment, locale, error.zone, "words")) for moment in error.moments]
    if error.reason == "past" and words:
        return _(
            "{when} has already passed. Which date did you mean? Please send a date and time to come."
        ).format(when=words[0])
    if error.reason == "past":
        return _("That time has already passed. Please send a time in the future.")
    if error.reason == "ambiguous" and len(words) == 2:
        example = error.moments[0].astimezone(ZoneInfo(error.zone)).strftime("%Y-%m-%d %H:%M")
        return _(
            "Did you mean {first} or {second}? Please send it again with the month in words, or the "
            "year first, for example {example}."
        ).format(first=words[0], second=words[1], example=example)
    return _("I couldn't read that date. Please write it like 2027-03-14 18:30 or 14.03.2027 18:30.")

"""/stats as pictures: joins and leaves per week, then members by country of residence, language
and interest (the groups /stats shows, small ones merged into "Other"). matplotlib is imported only
when a chart is drawn (`bot.charts`), and each chart is drawn in a worker thread."""

from __future__ import annotations

import unicodedata
from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile

from bot.i18n import _
from bot.press_answers import render
from bot.services.stats import FEW, Stats
from bot.services.suppression import Breakdown
from handlers.stats.views import PROFILE_TITLES, group_name, number, period_line, week_label

CHART_FIELDS = ("residence_country", "language", "interests")
BARS_MAX = 12  # per breakdown chart; the exports have every group


async def send_charts(bot: Bot, chat_id: int, stats: Stats, title: str, locale: str) -> int:
    """The charts as photos (sendPhoto); returns how many were sent."""
    from bot.charts import render_bar_chart, render_week_chart  # matplotlib: only now

    low = stats.min_group
    weeks = list(stats.joins)
    hidden = sum(1 for value in [*stats.joins.values(), *stats.leaves.values()] if isinstance(value, str))
    note = (
        _("Weeks with fewer than {min} joins or leaves (and as many others as needed) are not drawn.").format(
            min=low
        )
        if hidden
        else ""
    )
    week_chart = await render(
        render_week_chart,
        _("Joined and left per week"),
        [week_label(monday, locale) for monday in weeks],
        [
            (_("Joined"), [_value(stats.joins[week]) for week in weeks]),
            (_("Left"), [_value(stats.leaves[week]) for week in weeks]),
        ],
        note,
    )
    caption = f"{escape(title)}\n{period_line(stats, locale)}"
    await bot.send_photo(
        chat_id, BufferedInputFile(week_chart.png, filename="stats-weeks.png"), caption=caption
    )
    sent = 1
    for field in CHART_FIELDS:
        groups = stats.profile[field]
        if not groups.shown and not groups.other:
            continue
        labels, counts, notes = _bars(field, groups, locale, low)
        title_words = _without_symbols(str(PROFILE_TITLES[field]))
        chart = await render(render_bar_chart, title_words, labels, counts, notes)
        await bot.send_photo(
            chat_id, BufferedInputFile(chart.png, filename=f"stats-{field}.png"), caption=escape(title)
        )
        sent += 1
    return sent


def _without_symbols(text: str) -> str:
    """A title without its emoji (the chart fonts have none)."""
    kept = "".join(char for char in text if unicodedata.category(char) != "So" and char != "\ufe0f")
    return " ".join(kept.split())


def _value(value: int | str) -> int | None:
    return None if isinstance(value, str) else value


def _bars(field: str, groups: Breakdown, locale: str, low: int) -> tuple[list[str], list[int], list[str]]:
    """The shown groups (the largest `BARS_MAX`), then "Other" with the rest merged."""
    shown = groups.shown[:BARS_MAX]
    rest = sum(count for _, count in groups.shown[BARS_MAX:]) + groups.other
    labels = [_without_symbols(group_name(field, group, locale)) for group, _ in shown]
    counts = [count for _, count in shown]
    notes = [number(count, locale, low) for count in counts]
    if rest:
        labels.append(_("Other"))
        counts.append(rest if rest >= low else 0)
        notes.append(number(rest if rest >= low else FEW, locale, low))
    return labels, counts, notes

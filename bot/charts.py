"""Survey charts as PNG images, readable on a phone: horizontal bars, large type, the count and the
percentage written on each bar, long labels wrapped.

Rendered with matplotlib's object API on the Agg canvas (no pyplot, no GUI, no global figure state),
so `render_bar_chart` is safe to run in a worker thread: the handlers call it through
`asyncio.to_thread`. Texts come in already translated, in any script: a fallback list of Noto fonts
(Debian's fonts-noto-core and fonts-noto-cjk; `.ci/run` and the Dockerfile install them) gives
Latin, Cyrillic, Arabic, Persian and Urdu, Devanagari, Bengali and Chinese real glyphs, shaped and
ordered by matplotlib's text layout (libraqm). A missing font is logged once, clearly; its script
then shows as boxes, and the chart is still produced. matplotlib is imported at the first chart,
not at start-up (tens of megabytes and a second of CPU that most runs never need).
"""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bot.bidi import strip_controls
from bot.logs import log_event

WIDTH_INCHES = 8.0
DPI = 120
HEADER_INCHES = 1.5  # the title above the bars, and the bottom margin
BOTTOM_INCHES = 0.3
BAR_INCHES = 0.75  # per bar (room for a label wrapped on three lines)
LABEL_WIDTH = 22  # characters per line of an option label
LABEL_LINES = 3
TITLE_WIDTH = 48
TITLE_LINES = 3
FONT = 15
BAR_COLOR = "#3b7dd8"

# Tried in order for each character: matplotlib's own font first (Latin, Cyrillic, Greek), then one
# Noto font per script the shipped languages write in (Debian package and file in the comments).
FONT_FILES = {
    "DejaVu Sans": None,  # bundled with matplotlib
    "Noto Sans": "NotoSans-Regular",  # fonts-noto-core
    "Noto Sans Arabic": "NotoSansArabic-Regular",  # fonts-noto-core: Arabic, Persian, Urdu
    "Noto Sans Devanagari": "NotoSansDevanagari-Regular",  # fonts-noto-core: Hindi
    "Noto Sans Bengali": "NotoSansBengali-Regular",  # fonts-noto-core
    "Noto Sans CJK SC": "NotoSansCJK-Regular",  # fonts-noto-cjk: Simplified Chinese
}
log = logging.getLogger(__name__)
# matplotlib's "font family not found" lines, once per text: `chart_fonts` says it once, clearly.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


@cache
def chart_fonts() -> tuple[str, ...]:
    """The fallback list of the fonts present, installed fonts added to matplotlib's cache if it
    was built before them; a warning names the missing ones (once per process)."""
    from matplotlib import font_manager  # matplotlib is imported when a chart is first drawn

    known = {entry.name for entry in font_manager.fontManager.ttflist}
    wanted = {family: stem for family, stem in FONT_FILES.items() if family not in known and stem}
    if wanted:
        stems = set(wanted.values())
        for path in font_manager.findSystemFonts():
            if Path(path).stem in stems:
                font_manager.fontManager.addfont(path)
        known = {entry.name for entry in font_manager.fontManager.ttflist}
    fonts_missing("chart_fonts_missing", [family for family in FONT_FILES if family not in known])
    return tuple(family for family in FONT_FILES if family in known)


def fonts_missing(event: str, missing: list[str]) -> None:
    """Say once, clearly, which fonts are missing and how to install them (charts and documents)."""
    if missing:
        log_event(
            log,
            event,
            logging.WARNING,
            fonts=",".join(missing),
            effect="those scripts are drawn as boxes",
            fix="apt-get install fonts-noto-core fonts-noto-cjk",
        )


@dataclass(frozen=True)
class Chart:
    png: bytes
    width: int  # pixels
    height: int
    texts: list[str]  # every text drawn: the title, then each bar's label and its annotation


def chart_size(bars: int) -> tuple[int, int]:
    """The image's size in pixels for a chart of `bars` bars."""
    return round(WIDTH_INCHES * DPI), round((HEADER_INCHES + BAR_INCHES * max(bars, 1)) * DPI)


def wrap(text: str, width: int, lines: int) -> str:
    """`text` on at most `lines` lines of about `width` characters (the rest cut with "…")."""
    wrapped = textwrap.wrap(" ".join(text.split()), width, break_long_words=True) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(width - 1, 1)] + "…"
    return "\n".join(wrapped)


def render_bar_chart(
    title: str, labels: Sequence[str], counts: Sequence[int], annotations: Sequence[str]
) -> Chart:
    """One bar per label (top to bottom in the given order), `annotations[i]` written at the end of
    bar i (for example "12 · 40 %")."""
    if not (len(labels) == len(counts) == len(annotations)):
        raise ValueError("labels, counts and annotations must have the same length")
    # Directional isolates help Telegram's text layout; matplotlib's draws them as boxes.
    title, labels = strip_controls(title), [strip_controls(label) for label in labels]
    annotations = [strip_controls(note) for note in annotations]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fonts = {"fontfamily": list(chart_fonts())}
    width, height = chart_size(len(labels))
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    inches = height / DPI
    axes = figure.add_axes((0.36, BOTTOM_INCHES / inches, 0.6, (inches - HEADER_INCHES) / inches))
    positions = list(range(len(labels)))[::-1]  # the first option at the top
    wrapped = [wrap(label, LABEL_WIDTH, LABEL_LINES) for label in labels]
    axes.barh(positions, list(counts), color=BAR_COLOR, height=0.6)
    axes.set_yticks(positions, wrapped, fontsize=FONT, parse_math=False, **fonts)  # "$10" is money, not TeX
    axes.set_xlim(0, max([*counts, 1]) * 1.45)  # room for the annotations to the right of the bars
    axes.set_ylim(-0.6, len(labels) - 0.4)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    notes = []
    for position, count, note in zip(positions, counts, annotations, strict=True):
        notes.append(
            axes.text(
                count, position, "  " + note, va="center", ha="left", fontsize=FONT, parse_math=False, **fonts
            )
        )
    heading = figure.suptitle(
        wrap(title, TITLE_WIDTH, TITLE_LINES), fontsize=FONT + 2, fontweight="bold", parse_math=False, **fonts
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    drawn = sorted(axes.get_yticklabels(), key=lambda label: -label.get_position()[1])  # top first
    texts = [heading.get_text()]
    for label, note in zip(drawn, notes, strict=True):
        texts += [label.get_text(), note.get_text().strip()]
    return Chart(buffer.getvalue(), width, height, texts)


WEEK_HEIGHT_INCHES = 6.0
WEEK_TICKS = 8  # week labels drawn at most under the bars; the others are every n-th week
LEAVE_COLOR = "#d8733b"


def render_week_chart(
    title: str,
    weeks: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | None]]],
    hidden_note: str = "",
) -> Chart:
    """Vertical bars per week (left to right), one colour per series (`series`: its legend label and
    one value per week; None: a value not shown, drawn as no bar and counted in `hidden_note`, written
    under the chart). Week labels are thinned out to at most `WEEK_TICKS`."""
    if any(len(values) != len(weeks) for _, values in series):
        raise ValueError("every series needs one value per week")
    title, weeks = strip_controls(title), [strip_controls(week) for week in weeks]
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fonts = {"fontfamily": list(chart_fonts())}
    figure = Figure(figsize=(WIDTH_INCHES, WEEK_HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.1, 0.16, 0.86, 0.68))
    width = 0.8 / max(len(series), 1)
    colors = (BAR_COLOR, LEAVE_COLOR)
    top = 1
    for index, (label, values) in enumerate(series):
        positions = [week + (index - (len(series) - 1) / 2) * width for week in range(len(weeks))]
        heights = [value or 0 for value in values]
        top = max(top, *heights) if heights else top
        axes.bar(
            positions, heights, width=width, color=colors[index % len(colors)], label=strip_controls(label)
        )
    step = max(1, -(-len(weeks) // WEEK_TICKS))
    ticks = list(range(0, len(weeks), step))
    axes.set_xticks(ticks, [weeks[tick] for tick in ticks], fontsize=FONT - 3, parse_math=False, **fonts)
    axes.set_ylim(0, top * 1.15)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=FONT - 3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    legend = axes.legend(
        loc="upper left", fontsize=FONT - 3, frameon=False, prop={"family": fonts["fontfamily"]}
    )
    heading = figure.suptitle(
        wrap(title, TITLE_WIDTH, 2), fontsize=FONT + 2, fontweight="bold", parse_math=False, **fonts
    )
    texts = [heading.get_text(), *(text.get_text() for text in legend.get_texts())]
    if hidden_note:
        note = figure.text(
            0.5, 0.03, wrap(strip_controls(hidden_note), 70, 2), ha="center", fontsize=FONT - 4, **fonts
        )
        texts.append(note.get_text())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    texts += [label.get_text() for label in axes.get_xticklabels()]
    return Chart(buffer.getvalue(), round(WIDTH_INCHES * DPI), round(WEEK_HEIGHT_INCHES * DPI), texts)

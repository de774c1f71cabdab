"""A joint position's submission as files: a printable PDF (`render_pdf`), a CSV and an XLSX
(`render_csv`, `render_xlsx`, through the one spreadsheet writer `bot.services.spreadsheets`), all
from a plain `Submission` (what `bot.services.positions.submission.gather` reads from the database).

The PDF is laid out by fpdf2 with text shaping by HarfBuzz (uharfbuzz) and the Noto fonts the
charts use (`bot.charts.FONT_FILES`: fonts-noto-core and fonts-noto-cjk) as fallback fonts, so
Latin, Cyrillic, Arabic, Persian and Urdu (joined and right to left), Devanagari, Bengali and
Chinese get real glyphs, and their text can be copied out of the PDF. Only the fonts of the scripts
present are loaded (the CJK collection alone takes half a second). A missing font is logged once;
its script then shows as boxes and the document is still produced. fpdf2 is imported at the first
document, not at start-up."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from bot.charts import FONT_FILES, fonts_missing
from bot.i18n import format_when, is_rtl
from bot.services import spreadsheets

if TYPE_CHECKING:
    from fpdf import FPDF

BOLD = "NotoSans-Bold"  # fonts-noto-core; headings fall back to the regular face without it
CJK_FAMILY = "Noto Sans CJK SC"
# The fallback fonts by the characters they are needed for (the base font covers Latin and Cyrillic).
SCRIPTS: dict[str, str] = {
    "Noto Sans Arabic": r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]",
    "Noto Sans Devanagari": r"[\u0900-\u097f\ua8e0-\ua8ff]",
    "Noto Sans Bengali": r"[\u0980-\u09ff]",
    CJK_FAMILY: r"[\u2e80-\u2fff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]",
}
MARGIN = 18  # millimetres
BODY = 11  # points
LINE = 6  # millimetres per body line


@dataclass(frozen=True)
class Signature:
    name: str
    country: str  # the country of residence's name, in the document's language


@dataclass(frozen=True)
class Labels:
    """The document's own words, in its language (English by default)."""

    addressee: str = "Addressed to"
    deadline: str = "Deadline"
    organizations: str = "Endorsed by"
    no_organizations: str = "No organization has endorsed this position."
    signatures: str = "Signatures"
    name: str = "Name"
    country: str = "Country"
    kind: str = "Type"
    organization: str = "Organization"
    signature: str = "Signature"
    results: str = "Consultation results"
    generated: str = "Generated on {when}"
    position: str = "Position"
    statement: str = "Statement"


@dataclass
class Submission:
    title: str
    statement: str
    addressee: str
    deadline: datetime | None
    language: str  # the language of the title, the statement and `labels`
    organizations: list[str]  # endorsing organizations' names
    signatures: list[Signature]
    generated_at: datetime
    timezone: str = "UTC"  # dates are shown in this zone
    # The attached consultation's results: headings then rows, small groups already suppressed.
    results: list[list[Any]] | None = None
    results_note: str = ""  # e.g. how small groups were suppressed
    labels: Labels = field(default_factory=Labels)

    def when(self, moment: datetime) -> str:
        return format_when(moment, self.language, self.timezone)


@cache
def font_paths() -> dict[str, tuple[str, int]]:
    """{font family: (file, index in a collection)} of the Noto fonts installed (found as
    `bot.charts` finds them); a warning names the missing ones, once per process."""
    from matplotlib import font_manager

    stems = {stem: family for family, stem in FONT_FILES.items() if stem} | {BOLD: BOLD}
    found: dict[str, tuple[str, int]] = {}
    for path in sorted(font_manager.findSystemFonts()):
        family = stems.get(path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        if family and family not in found:
            found[family] = (path, _collection_index(path, family))
    fonts_missing("document_fonts_missing", [family for family in stems.values() if family not in found])
    return found


def _collection_index(path: str, family: str) -> int:
    """The font's number in a collection (.ttc: the CJK fonts hold Japanese, Korean, Simplified
    Chinese...; the document takes the Simplified Chinese one)."""
    if not path.endswith(".ttc"):
        return 0
    from fontTools.ttLib import TTCollection

    names = [font["name"].getDebugName(1) for font in TTCollection(path, lazy=True).fonts]
    return names.index(family) if family in names else 0


def _add_fonts(pdf: FPDF, text: str) -> None:
    paths = font_paths()
    base = paths.get("Noto Sans")
    if base is None:  # matplotlib's own DejaVu Sans: Latin and Cyrillic at least
        from matplotlib import get_data_path

        base = (f"{get_data_path()}/fonts/ttf/DejaVuSans.ttf", 0)
    pdf.add_font("base", fname=base[0])
    pdf.add_font("base", style="B", fname=(paths.get(BOLD) or base)[0])
    fallbacks = []
    for family, characters in SCRIPTS.items():
        if family in paths and re.search(characters, text):
            path, index = paths[family]
            name = family.lower().replace(" ", "")
            pdf.add_font(name, fname=path, collection_font_number=index)
            fallbacks.append(name)
    pdf.set_fallback_fonts(fallbacks, exact_match=False)
    pdf.set_text_shaping(True)


def _all_text(submission: Submission) -> str:
    parts = [submission.title, submission.statement, submission.addressee, submission.results_note]
    parts += submission.organizations + [f"{s.name} {s.country}" for s in submission.signatures]
    parts += [str(value) for row in submission.results or [] for value in row]
    return "\n".join(parts + [str(value) for value in vars(submission.labels).values()])


def render_pdf(submission: Submission) -> bytes:
    """The printable document: title, addressee and deadline, the statement, the endorsing
    organizations, the signatures (name and country), the consultation's results, and when it was
    generated; right-aligned for a right-to-left language. CPU-bound: run it in a worker thread."""
    from fpdf import FPDF
    from fpdf.enums import Align

    words = submission.labels
    rtl = is_rtl(submission.language)
    align = Align.R if rtl else Align.L
    pdf = FPDF(format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, MARGIN)
    pdf.set_title(submission.title)
    pdf.set_creation_date(submission.generated_at)
    _add_fonts(pdf, _all_text(submission))
    pdf.add_page()

    def paragraph(text: str, size: float = BODY, style: str = "", gap: float = 2) -> None:
        pdf.set_font("base", style=style, size=size)
        pdf.multi_cell(0, size * 0.5 + 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    paragraph(submission.title, size=18, style="B", gap=4)
    if submission.addressee:
        paragraph(f"{words.addressee}: {submission.addressee}", gap=1)
    if submission.deadline is not None:
        paragraph(f"{words.deadline}: {submission.when(submission.deadline)}", gap=1)
    pdf.ln(4)
    for part in submission.statement.split("\n"):
        paragraph(part, gap=1)
    pdf.ln(4)
    paragraph(words.organizations, size=14, style="B")
    for name in submission.organizations or [words.no_organizations]:
        paragraph(f"• {name}" if submission.organizations else name, gap=0.5)
    if submission.signatures:
        pdf.ln(4)
        paragraph(f"{words.signatures} ({len(submission.signatures)})", size=14, style="B")
        signed = [[words.name, words.country]] + [[s.name, s.country] for s in submission.signatures]
        _table(pdf, signed, rtl)
    if submission.results:
        pdf.ln(4)
        paragraph(words.results, size=14, style="B")
        if submission.results_note:
            paragraph(submission.results_note, size=9)
        _table(pdf, submission.results, rtl)
    pdf.ln(6)
    paragraph(words.generated.format(when=submission.when(submission.generated_at)), size=8)
    return bytes(pdf.output())


def _table(pdf: FPDF, rows: Sequence[Sequence[Any]], rtl: bool) -> None:
    pdf.set_font("base", size=BODY - 1)
    align = "RIGHT" if rtl else "LEFT"
    with pdf.table(line_height=LINE, text_align=align, first_row_as_headings=True) as table:
        for row in rows:  # right to left: the first column on the right
            line = table.row()
            for value in reversed(row) if rtl else row:
                line.cell(str(value))


def rows(submission: Submission) -> list[list[Any]]:
    """The CSV's rows: the endorsing organizations, then the signatures (type, name, country)."""
    words = submission.labels
    lines: list[list[Any]] = [[words.kind, words.name, words.country]]
    lines += [[words.organization, name, ""] for name in submission.organizations]
    lines += [[words.signature, s.name, s.country] for s in submission.signatures]
    return lines


def render_csv(submission: Submission) -> bytes:
    return spreadsheets.csv_bytes(rows(submission))


def render_xlsx(submission: Submission) -> bytes:
    """A workbook: the position (title, addressee, deadline, statement), the endorsing
    organizations and signatures, and the consultation's results when one is attached."""
    words = submission.labels
    workbook = spreadsheets.new_workbook()
    deadline = submission.when(submission.deadline) if submission.deadline else ""
    spreadsheets.add_sheet(
        workbook,
        words.position,
        [
            [words.position, submission.title],
            [words.addressee, submission.addressee],
            [words.deadline, deadline],
            [words.statement, submission.statement],
        ],
    )
    spreadsheets.add_sheet(workbook, words.organizations, rows(submission))
    if submission.results:
        spreadsheets.add_sheet(workbook, words.results, submission.results)
    return spreadsheets.workbook_bytes(workbook)


def file_stem(submission: Submission, position_id: int) -> str:
    """The files' name without extension: `position-12-fr`."""
    return f"position-{position_id}-{submission.language}"

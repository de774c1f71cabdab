"""A joint position's submission files: the PDF renders every shipped script (its text extracted
back with pypdf, word by word and in order), the CSV and the XLSX hold the endorsing organizations
and the signatures (text cells neutralized against formulas)."""

from __future__ import annotations

import io
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from bot.services import spreadsheets
from bot.services.positions import document
from bot.services.positions.document import Labels, Signature, Submission

# One line per language, as a member would write it (Persian with its zero-width non-joiner).
LINES = {
    "en": "We stand together for fair residence rules",
    "ru": "Мы вместе выступаем за справедливые правила",
    "ar": "نحن نقف معا من أجل قواعد إقامة عادلة",
    "fa": "ما با هم برای قوانین اقامت عادلانه ایستاده‌ایم",
    "ur": "ہم منصفانہ رہائشی قوانین کے لیے ایک ساتھ کھڑے ہیں",
    "hi": "हम उचित निवास नियमों के लिए एक साथ खड़े हैं",
    "bn": "আমরা ন্যায্য বসবাসের নিয়মের জন্য একসাথে দাঁড়িয়ে আছি",
    "zh_Hans": "我们共同支持公平的居留规则",
}
RTL = {"ar", "fa", "ur"}
NAMES = {
    "en": "Diaspora Bridge Berlin",
    "ru": "Союз мигрантов",
    "ar": "جمعية الجالية",
    "fa": "انجمن ایرانیان",
    "ur": "پاکستانی برادری",
    "hi": "भारतीय संघ",
    "bn": "বাংলাদেশ সমিতি",
    "zh_Hans": "华人协会",
}


def _submission(language: str = "en", **changes: object) -> Submission:
    values: dict[str, object] = {
        "title": "Fair residence rules",
        "statement": "\n".join(LINES.values()),
        "addressee": "Bundestag, Committee on Internal Affairs",
        "deadline": datetime(2027, 3, 1, 12, tzinfo=UTC),
        "language": language,
        "organizations": list(NAMES.values()),
        "signatures": [
            Signature("Amina Diallo", "Germany"),
            Signature("李明", "德国"),
            Signature("=cmd()", "ألمانيا"),
        ],
        "generated_at": datetime(2027, 3, 1, 12, 5, tzinfo=UTC),
        "results": [
            ["Question", "Answer", "Count"],
            ["Do you agree?", "yes", 12],
            ["Do you agree?", "no", 8],
        ],
        "results_note": "Groups smaller than 5 are merged into Other.",
    }
    values.update(changes)
    return Submission(**values)  # type: ignore[arg-type]


def extracted(pdf: bytes) -> str:
    """The PDF's text, presentation forms (Arabic contextual glyphs) folded by NFKC."""
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return unicodedata.normalize("NFKC", text)


def _letters(text: str) -> str:
    """Only letters, marks and digits: pypdf puts spaces between CJK glyphs, and a control code or
    a stray sign where a shaped glyph (an Indic vowel sign moved before its consonant) has no text of
    its own, and breaks a Bengali line where a mark sits above it."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch)[0] in "LMN")


def found(line: str, text: str, rtl: bool) -> bool:
    """`line`'s words, each whole and in their order, close together in the extracted `text`. A
    right-to-left line may come out in visual order (its words last to first, each word itself in
    reading order): that order is accepted for it, and only for it. (A zero-width non-joiner
    splits a Persian word in two for the extractor: it counts as a word break.)"""
    words = [_letters(word) for word in line.replace("\u200c", " ").split()]
    letters = _letters(text)
    span = 2 * sum(map(len, words))
    for order in [words, words[::-1]] if rtl else [words]:
        start = letters.find(order[0])
        while start >= 0:
            at = start
            for word in order:
                at = letters.find(word, at)
                if at < 0 or at + len(word) - start > span:
                    break
                at += len(word)
            else:
                return True
            start = letters.find(order[0], start + 1)
    return False


def missing(pdf: bytes) -> list[str]:
    text = extracted(pdf)
    gone = [code for code, line in LINES.items() if not found(line, text, code in RTL)]
    return gone + [f"name:{code}" for code, name in NAMES.items() if not found(name, text, code in RTL)]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_shipped_script_comes_back_out_of_the_pdf(language: str) -> None:
    pdf = document.render_pdf(_submission(language))
    assert pdf.startswith(b"%PDF-")
    assert missing(pdf) == []
    text = extracted(pdf)
    for expected in ("Fair residence rules", "Bundestag", "Amina Diallo", "Do you agree?", "Endorsed by"):
        assert expected in text, expected


def test_a_script_without_its_font_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is real: with no Arabic nor Chinese font the glyphs are boxes (no text behind them)
    and those lines are reported missing."""
    fonts = {family: chars for family, chars in document.SCRIPTS.items() if "Arabic" not in family}
    monkeypatch.setattr(document, "SCRIPTS", {f: c for f, c in fonts.items() if "CJK" not in f})
    gone = missing(document.render_pdf(_submission()))
    assert {"ar", "fa", "ur", "zh_Hans", "name:ar", "name:zh_Hans"} <= set(gone)
    assert "ru" not in gone and "hi" not in gone


def test_the_rtl_order_is_only_accepted_for_rtl_lines() -> None:
    assert found("one two three", "one two three", rtl=False)
    assert not found("one two three", "three two one", rtl=False)
    assert found("one two three", "three two one", rtl=True)
    assert not found("one two three", "two one three", rtl=True)
    assert not found("one two three", "one two " + "x" * 40 + " three", rtl=False)  # scattered


def test_csv_lists_the_organizations_then_the_signatures() -> None:
    labels = Labels(
        kind="Art", name="Name", country="Land", organization="Organisation", signature="Unterschrift"
    )
    rows = spreadsheets.csv_rows(document.render_csv(_submission(labels=labels)))
    assert rows[0] == ["Art", "Name", "Land"]
    assert rows[1:9] == [["Organisation", name, ""] for name in NAMES.values()]
    assert rows[9:] == [
        ["Unterschrift", "Amina Diallo", "Germany"],
        ["Unterschrift", "李明", "德国"],
        ["Unterschrift", "'=cmd()", "ألمانيا"],
    ]


def test_xlsx_holds_the_position_the_names_and_the_results() -> None:
    workbook = load_workbook(io.BytesIO(document.render_xlsx(_submission("ar"))))
    assert workbook.sheetnames == ["Position", "Endorsed by", "Consultation results"]
    position = [[cell.value for cell in row] for row in workbook["Position"].iter_rows()]
    assert position[0] == ["Position", "Fair residence rules"]
    assert position[3] == ["Statement", "\n".join(LINES.values())]
    names = [[cell.value for cell in row] for row in workbook["Endorsed by"].iter_rows()]
    assert ["Organization", NAMES["ar"], None] in names
    assert ["Signature", "'=cmd()", "ألمانيا"] in names
    results = [[cell.value for cell in row] for row in workbook["Consultation results"].iter_rows()]
    assert results == [
        ["Question", "Answer", "Count"],
        ["Do you agree?", "yes", 12],
        ["Do you agree?", "no", 8],
    ]


def test_without_results_or_signatures_the_document_still_renders() -> None:
    submission = _submission(results=None, signatures=[], organizations=[], deadline=None)
    text = extracted(document.render_pdf(submission))
    assert "No organization has endorsed this position." in text
    assert "Signatures" not in text and "Consultation results" not in text
    assert load_workbook(io.BytesIO(document.render_xlsx(submission))).sheetnames == [
        "Position",
        "Endorsed by",
    ]


def test_the_pdf_library_is_not_loaded_at_start_up() -> None:
    """fpdf2, HarfBuzz and fontTools load at the first document, not with the bot (issue 15)."""
    code = (
        "import sys, bot.app, handlers; handlers.get_routers(); "
        "print(sorted(m for m in ('fpdf', 'uharfbuzz', 'fontTools', 'pypdf') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"

"""Survey charts: valid PNG images of the announced size, with the texts the coordinator reads, in
every script the shipped languages write in."""

from __future__ import annotations

import io
import logging
import struct
import warnings

import pytest
from matplotlib import image

from bot import charts
from bot.charts import FONT_FILES, LABEL_LINES, chart_fonts, chart_size, render_bar_chart, wrap


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_chart_in_french_is_a_png_of_its_size_with_every_label_and_figure() -> None:
    chart = render_bar_chart(
        "Dans quelle ville vivez-vous ?",
        ["Paris", "Lyon", "Autre"],
        [4, 2, 1],
        ["4 · 57 %", "2 · 29 %", "1 · 14 %"],
    )
    assert png_size(chart.png) == chart_size(3) == (chart.width, chart.height) == (960, 450)
    pixels = image.imread(io.BytesIO(chart.png))  # decodes: the file is whole
    assert pixels.shape[:2] == (450, 960)
    assert chart.texts == [
        "Dans quelle ville vivez-vous ?",
        "Paris",
        "4 · 57 %",
        "Lyon",
        "2 · 29 %",
        "Autre",
        "1 · 14 %",
    ]


def test_long_and_right_to_left_labels_are_wrapped_and_drawn() -> None:
    long_label = "Une option vraiment très longue qui ne tiendrait jamais sur une seule ligne de téléphone"
    chart = render_bar_chart(
        "ما هي المدينة التي تعيش فيها؟",
        ["باريس", "ليون", long_label, "Да"],
        [3, 0, 1, 2],
        ["3 · 50٪", "0 · 0٪", "1 · 17٪", "2 · 33٪"],
    )
    assert png_size(chart.png) == chart_size(4)
    assert chart.texts[0] == "ما هي المدينة التي تعيش فيها؟"
    assert chart.texts[1::2] == ["باريس", "ليون", wrap(long_label, 22, LABEL_LINES), "Да"]
    assert chart.texts[5].count("\n") == LABEL_LINES - 1 and chart.texts[5].endswith("…")
    assert chart.texts[2::2] == ["3 · 50٪", "0 · 0٪", "1 · 17٪", "2 · 33٪"]


def test_a_chart_without_answers_and_mismatched_input() -> None:
    chart = render_bar_chart("Oui ou non ?", ["Oui", "Non"], [0, 0], ["0", "0"])
    assert png_size(chart.png) == chart_size(2)
    with pytest.raises(ValueError):
        render_bar_chart("?", ["a", "b"], [1], ["1", "2"])


def test_dollar_signs_are_money_not_tex() -> None:
    """Labels are the coordinator's and members' text: "$" is drawn as typed, never parsed as a
    formula (a stray "$\\frac$" or "$^$" used to fail the whole chart)."""
    labels = ["Under $10", "$10 to $20", "a $\\frac$ b", "x_$^$"]
    chart = render_bar_chart("Price $5 or $9?", labels, [1, 2, 3, 4], ["1", "2", "3", "4"])
    assert png_size(chart.png) == chart_size(4)
    assert chart.texts == ["Price $5 or $9?", *[t for pair in zip(labels, "1234", strict=True) for t in pair]]


# One survey question per script the shipped languages write in, as a coordinator would type it.
SCRIPTS = {
    "latin-cyrillic": ("Which city? Quelle ville ? В каком городе?", ["Paris", "Київ", "Nairobi"]),
    "arabic": ("ما هي المدينة التي تعيش فيها؟", ["باريس", "ليون", "مدينة أخرى"]),
    "persian": ("در کدام شهر زندگی می‌کنید؟", ["تهران", "هامبورگ", "شهر دیگر"]),
    "urdu": ("آپ کس شہر میں رہتے ہیں؟", ["لاہور", "مانچسٹر", "کوئی اور شہر"]),
    "devanagari": ("आप किस शहर में रहते हैं?", ["दिल्ली", "मुंबई", "कोई और शहर"]),
    "bengali": ("আপনি কোন শহরে থাকেন?", ["ঢাকা", "লন্ডন", "অন্য শহর"]),
    "chinese": ("您住在哪个城市？", ["北京", "温哥华", "其他城市"]),
}


def missing_glyphs(title: str, labels: list[str]) -> list[str]:
    """matplotlib's warnings about characters no font in the fallback list has."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart = render_bar_chart(
            title, labels, [3, 2, 1][: len(labels)], ["3 · 50%", "2 · 33%", "1 · 17%"][: len(labels)]
        )
    assert png_size(chart.png) == chart_size(len(labels))
    return [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_is_drawn_with_real_glyphs(script: str) -> None:
    absent = [family for family in FONT_FILES if family not in chart_fonts()]
    if absent:
        pytest.skip(
            f"fonts not installed ({', '.join(absent)}): apt-get install fonts-noto-core fonts-noto-cjk"
        )
    title, labels = SCRIPTS[script]
    assert missing_glyphs(title, labels) == []


def test_a_script_without_a_font_is_reported() -> None:
    """The check above can fail: Tibetan has no font in the list, and matplotlib says so."""
    assert missing_glyphs("བོད་ཡིག", ["ལྷ་ས"])


def test_directional_isolates_are_not_drawn() -> None:
    chart = render_bar_chart("\u2068Café\u2069 ؟", ["\u2068Ali\u2069"], [1], ["\u20681\u2069"])
    assert chart.texts == ["Café ؟", "Ali", "1"]


def test_a_missing_font_is_logged_once_and_clearly(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(charts.FONT_FILES, "Noto Sans Imaginary", "NotoSansImaginary-Regular")
    charts.chart_fonts.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.charts"):
            assert "Noto Sans Imaginary" not in charts.chart_fonts()
            charts.chart_fonts()
        [record] = [record for record in caplog.records if record.getMessage() == "chart_fonts_missing"]
        assert "Noto Sans Imaginary" in record.fields["fonts"]  # type: ignore[attr-defined]
    finally:
        charts.chart_fonts.cache_clear()

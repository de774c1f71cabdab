"""Survey charts: valid PNG images of the announced size, with the texts the coordinator reads."""

from __future__ import annotations

import io
import struct

import pytest
from matplotlib import image

from bot.charts import LABEL_LINES, chart_size, render_bar_chart, wrap


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

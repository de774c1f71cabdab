"""Input cleaning, country search, deep links, and Telegram's HTML read by the bot itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.deep_links import DeepLink, parse_deep_link
from bot.services.geo import country_zones, find_countries, zone_label
from bot.services.text import TextRejected, clean_line
from bot.telegram_html import EntityParseError, parse_html

ROOT = Path(__file__).resolve().parents[1]


def test_clean_line_collapses_spaces_and_drops_invisible_characters() -> None:
    assert clean_line("  Amina \u200b  Diallo\n", 64) == "Amina Diallo"
    assert clean_line("<b>Ali</b> & co", 64) == "<b>Ali</b> & co"  # kept as typed, escaped when shown


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200c\u200d\ufeff", "\u2066\u2069 \t\n", None])
def test_empty_looking_input_is_rejected(text: str | None) -> None:
    with pytest.raises(TextRejected) as error:
        clean_line(text, 64)
    assert error.value.reason == "empty"


def test_overlong_input_is_rejected_with_the_limit() -> None:
    with pytest.raises(TextRejected) as error:
        clean_line("x" * 5000, 64)
    assert (error.value.reason, error.value.limit) == ("too_long", 64)


@given(st.text(max_size=300))
def test_clean_line_never_returns_blank_or_overlong(text: str) -> None:
    try:
        cleaned = clean_line(text, 100)
    except TextRejected:
        return
    assert cleaned.strip() == cleaned and cleaned
    assert len(cleaned) <= 100
    assert "\n" not in cleaned and "\u200b" not in cleaned


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Senegal", "SN"),
        ("sénégal", "SN"),
        ("Сенегал", "SN"),
        ("السنغال", "SN"),
        ("Marocco", "MA"),
        ("Ukraine", "UA"),
        ("Україна", "UA"),
        ("ca", "CA"),
        ("Brasil", "BR"),
    ],
)
def test_countries_are_found_in_any_shipped_language(typed: str, expected: str) -> None:
    assert find_countries(typed)[0] == expected


def test_ambiguous_country_offers_several() -> None:
    assert {"CG", "CD"} <= set(find_countries("Congo"))
    assert find_countries("zzzzqqq") == []
    assert find_countries("   ") == []


def test_zones_of_a_country() -> None:
    assert country_zones("SN") == ("Africa/Dakar",)
    brazil = country_zones("BR")
    assert "America/Sao_Paulo" in brazil and len(brazil) > 5
    assert zone_label("Africa/Nairobi", "fr") == "Nairobi (UTC+3)"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("event_12", DeepLink("event", "12")),
        ("org_lyon-senegal", DeepLink("org", "lyon-senegal")),
        ("training_7", DeepLink("training", "7")),
        ("event_", None),
        ("event_12x", None),
        ("<script>", None),
        ("", None),
        (None, None),
        ("x" * 64, None),
    ],
)
def test_deep_links(payload: str | None, expected: DeepLink | None) -> None:
    assert parse_deep_link(payload) == expected


@pytest.mark.parametrize(
    ("typed", "expected_utc"),
    [
        ("2027-03-14 18:30", "2027-03-14T17:30"),
        ("14.03.2027 18:30", "2027-03-14T17:30"),
        ("14/03/2027 6:30pm", "2027-03-14T17:30"),
        ("14-03-2027 18h", "2027-03-14T17:00"),
        ("18:30", "2027-03-10T17:30"),  # today, still to come
        ("11:00", "2027-03-11T10:00"),  # passed today: tomorrow
        ("tomorrow 6pm", "2027-03-11T17:00"),
        ("Demain à 18h30", "2027-03-11T17:30"),
        ("après-demain 10:00", "2027-03-12T09:00"),
        ("mañana a las 18:30", "2027-03-11T17:30"),
        ("amanhã às 18h", "2027-03-11T17:00"),
        ("завтра в 18:30", "2027-03-11T17:30"),
        ("завтра о 18:30", "2027-03-11T17:30"),
        ("غدًا الساعة 18:30", "2027-03-11T17:30"),
        ("kesho saa 18:00", "2027-03-11T17:00"),
    ],
)
def test_dates_typed_in_the_organizers_zone(typed: str, expected_utc: str) -> None:
    from datetime import UTC, datetime

    from bot.services.dates import parse_local_datetime

    now = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)
    moment = parse_local_datetime(typed, "Europe/Paris", now)
    assert moment.utc.strftime("%Y-%m-%dT%H:%M") == expected_utc


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("hoy 11:00", "past"),
        ("2020-01-01 10:00", "past"),
        ("31.02.2027 10:00", "format"),
        ("next week", "format"),
        ("demain", "format"),
        ("25:00", "format"),
    ],
)
def test_bad_dates_say_why(typed: str, reason: str) -> None:
    from datetime import UTC, datetime

    from bot.services.dates import DateError, parse_local_datetime

    with pytest.raises(DateError) as error:
        parse_local_datetime(typed, "Europe/Paris", datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    assert error.value.reason == reason


def test_the_bot_reads_telegram_html_with_its_own_parser() -> None:
    assert parse_html("<b>Picnic</b> &amp; games") == (
        "Picnic & games",
        [{"type": "bold", "offset": 0, "length": 6}],
    )
    with pytest.raises(EntityParseError):
        parse_html("<b>unclosed")


def test_production_code_never_imports_the_emulator() -> None:
    """The emulator (`bot.sandbox`) is a test and demo tool: only the CLI's `sandbox` command loads it."""
    offenders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py"), *ROOT.glob("storage/**/*.py")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("bot/sandbox/") or relative == "bot/cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            offenders += [f"{relative}: {name}" for name in names if name.startswith("bot.sandbox")]
    assert not offenders

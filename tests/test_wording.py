"""Wording slips of issue 16 that need no chat: case and number in the Slavic catalogs, and the
zones a country's members are offered first."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.i18n import create_i18n
from bot.services.geo import zone_choices
from bot.services.surveys.rules import SurveyError
from bot.views.surveys import closes_text
from handlers.surveys.texts import error_text

SUNDAY = datetime(2027, 3, 14, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("uk", 3, "рівно 3 варіанти"),
        ("uk", 5, "рівно 5 варіантів"),
        ("uk", 21, "рівно 21 варіант"),
        ("ru", 3, "ровно 3 варианта"),
        ("ru", 11, "ровно 11 вариантов"),
    ],
)
def test_a_count_takes_its_own_form(language: str, count: int, expected: str) -> None:
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale(language):
        assert expected in error_text(SurveyError("bad_translation", count))


@pytest.mark.parametrize(("language", "weekday"), [("uk", "неділя"), ("ru", "воскресенье")])
def test_a_date_in_words_never_follows_a_preposition(language: str, weekday: str) -> None:
    """The weekday CLDR gives is in the nominative ("неділя"): "до неділя" is wrong, so the
    Slavic catalogs put it after a colon."""
    i18n = create_i18n("en")
    survey = SimpleNamespace(closes_at=SUNDAY)
    with i18n.context(), i18n.use_locale(language):
        text = closes_text(survey, language, "Europe/Kyiv")  # type: ignore[arg-type]
    assert text is not None and f": {weekday}," in text
    assert f"до {weekday}" not in text


@pytest.mark.parametrize(
    ("country", "first", "rare"),
    [
        ("DE", ("Europe/Berlin",), "Europe/Busingen"),  # Büsingen keeps Berlin's time
        ("ES", ("Europe/Madrid", "Atlantic/Canary"), "Africa/Ceuta"),
        ("UA", ("Europe/Kyiv", "Europe/Simferopol"), None),
        ("FR", ("Europe/Paris",), None),
    ],
)
def test_the_main_zone_comes_first_and_rare_ones_wait_under_other(
    country: str, first: tuple[str, ...], rare: str | None
) -> None:
    shown, others = zone_choices(country)
    assert shown == first
    assert (rare in others) if rare else others == ()
    assert zone_choices("RU")[0][0] == "Europe/Moscow" and zone_choices("US")[0][0] == "America/New_York"
    # Where the tz database's order misleads: the city most people live by comes first.
    assert [zone_choices(country)[0][0] for country in ("CA", "BR", "MX", "AR")] == [
        "America/Toronto",
        "America/Sao_Paulo",
        "America/Mexico_City",
        "America/Argentina/Buenos_Aires",
    ]
    assert "America/Vancouver" in zone_choices("CA")[0] and "America/Halifax" in zone_choices("CA")[0]

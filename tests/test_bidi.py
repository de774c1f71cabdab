"""Right to left done right, and lists, dates and typed dates in every shipped language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.bidi import FSI, LRI, PDI, isolate, localize, may_localize, strip_controls
from bot.config import SHIPPED_LANGUAGES
from bot.i18n import create_i18n, format_list, format_when, language_name, zone_city
from bot.services.dates import parse_local_datetime


def test_placeholders_and_commands_are_isolated_in_right_to_left_text() -> None:
    assert localize("مرحبًا {name}! أرسل /help") == f"مرحبًا {FSI}{{name}}{PDI}! أرسل {LRI}/help{PDI}"
    # Not inside a tag, not a lone placeholder, not a link or a date.
    assert localize('<a href="{url}">{title}</a>') == f'<a href="{{url}}">{FSI}{{title}}{PDI}</a>'
    assert localize("{card}") == "{card}"
    assert localize("https://t.me/bot 14/03/2027") == "https://t.me/bot 14/03/2027"
    assert isolate("") == "" and strip_controls(isolate("Ali")) == "Ali"


def test_a_translation_with_nothing_to_isolate_needs_no_direction() -> None:
    """The message layer skips the direction look-up (CLDR data) when `may_localize` says no:
    every such translation of the right-to-left catalogs is indeed left as it is."""
    i18n = create_i18n("en")
    skipped = 0
    for language in ("ar", "fa", "ur"):
        for translated in i18n.locales[language]._catalog.values():  # type: ignore[attr-defined]
            if isinstance(translated, str) and not may_localize(translated):
                assert localize(translated) == translated
                skipped += 1
    assert skipped > 100 and may_localize("{name}") and may_localize("/help")


def test_the_message_layer_isolates_only_right_to_left_languages() -> None:
    i18n = create_i18n("en")
    message = "👋 Welcome back, {name}! Send /help to see what I can do, or /profile to see your profile."
    for language in ("ar", "fa", "ur"):
        text = i18n.gettext(message, locale=language).format(name="Amina Diallo")
        assert f"{FSI}Amina Diallo{PDI}" in text and f"{LRI}/help{PDI}" in text
    for language in ("en", "hi", "zh_Hans"):
        assert FSI not in i18n.gettext(message, locale=language)


def test_dates_name_the_zone_by_its_city_in_the_members_language() -> None:
    moment = datetime(2027, 3, 14, 17, 30, tzinfo=UTC)
    assert zone_city("Europe/Berlin", "ar") == "برلين" and zone_city("Europe/Berlin", "zh_Hans") == "柏林"
    assert (
        format_when(moment, "en", "Europe/Berlin", "words") == "Sunday, March 14, 2027, 6:30\u202fPM (Berlin)"
    )
    assert format_when(moment, "zh_Hans", "Europe/Berlin", "words") == "2027年3月14日星期日 18:30 (柏林)"
    assert format_when(moment, "ar", "Europe/Berlin", "words").endswith("(برلين)")
    assert "Europe/Berlin" not in format_when(moment, "fa", "Europe/Berlin", "words")


def test_lists_use_each_languages_own_words_and_separators() -> None:
    assert format_list(["Culture", "Sport", "Santé"], "fr") == "Culture, Sport et Santé"
    assert format_list(["文化", "体育", "健康"], "zh_Hans") == "文化、体育和健康"
    assert format_list(["برلين", "ألمانيا"], "ar", "parts") == "برلين، ألمانيا"
    assert format_list(["柏林", "德国"], "zh_Hans", "parts") == "柏林、德国"
    assert format_list(["Berlin", "", "Germany"], "en", "parts") == "Berlin, Germany"
    assert format_list([], "en") == ""


def test_native_names_and_plural_forms_of_the_newer_languages() -> None:
    names = [language_name(code) for code in ("de", "it", "tr", "fa", "ur", "hi", "bn", "zh_Hans")]
    assert names == ["Deutsch", "Italiano", "Türkçe", "فارسی", "اردو", "हिन्दी", "বাংলা", "中文 (简体)"]
    i18n = create_i18n("en")
    one, many = (
        "{organization} has {count} registered member.",
        "{organization} has {count} registered members.",
    )
    assert len({i18n.gettext(one, many, n, locale="zh_Hans").replace(str(n), "N") for n in (1, 2)}) == 1
    for language in ("de", "it", "ur"):  # one ≠ other (Turkish rightly says "üye" for both)
        assert i18n.gettext(one, many, 1, locale=language) != i18n.gettext(one, many, 2, locale=language)


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_tomorrow_typed_in_each_language(language: str) -> None:
    """ "Tomorrow 18:00" as CLDR writes "tomorrow" in the language (demain, 明天, कल, فردا...)."""
    from babel import Locale

    tomorrow = Locale.parse(language)._data["date_fields"]["day"]["relative"][1]
    now = datetime(2027, 3, 14, 9, 0, tzinfo=UTC)
    moment = parse_local_datetime(f"{tomorrow} 18:00", "Europe/Berlin", now)
    assert moment.utc == datetime(2027, 3, 15, 17, 0, tzinfo=UTC)

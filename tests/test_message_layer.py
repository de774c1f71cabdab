"""Catalogs complete in every shipped language; locale choice; locale-aware formatting."""

from __future__ import annotations

import gettext
from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po

from bot.catalogs import problems
from bot.config import SHIPPED_LANGUAGES
from bot.i18n import LOCALES_DIR, create_i18n, format_when, is_rtl, language_name, resolve_locale


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_catalog_is_complete(language: str) -> None:
    assert problems(language) == []


def test_completeness_check_catches_defects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The check itself fails on a missing plural form, a changed placeholder or command, and plural
    rules other than CLDR's."""
    (tmp_path / "messages.pot").write_bytes((LOCALES_DIR / "messages.pot").read_bytes())
    target = tmp_path / "ru" / "LC_MESSAGES"
    target.mkdir(parents=True)
    text = (LOCALES_DIR / "ru" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    with (LOCALES_DIR / "ru" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale="ru")
    plural = next(message for message in catalog if message.pluralizable)
    single = next(  # one written on one line of the file (long ones are wrapped)
        message
        for message in catalog
        if message.id and "{name}" in str(message.id) and f'msgstr "{message.string}"' in text
    )
    text = text.replace(f'msgstr[2] "{plural.string[2]}"', 'msgstr[2] ""')
    text = text.replace(single.string, single.string.replace("{name}", "{nom}"), 1)
    command = next(line for line in text.splitlines() if line.startswith("msgstr") and "/profile" in line)
    text = text.replace(command, command.replace("/profile", "/профиль"), 1)
    (target / "messages.po").write_text(text, encoding="utf-8")
    found = problems("ru", tmp_path)
    assert any("untranslated" in line for line in found)
    assert any("placeholders differ" in line for line in found)
    assert any("commands differ" in line for line in found)  # a translated command does nothing
    assert not any("CLDR says" in line for line in found)

    two_forms = text.replace(
        '"Plural-Forms: nplurals=3; plural=', '"Plural-Forms: nplurals=2; plural=(n != 1); x=', 1
    )
    (target / "messages.po").write_text(two_forms, encoding="utf-8")
    assert any("CLDR says" in line for line in problems("ru", tmp_path))  # Russian has three forms


@pytest.mark.parametrize(
    ("saved", "telegram", "expected"),
    [
        ("ar", "en", "ar"),
        (None, "pt-br", "pt"),
        (None, "uk", "uk"),
        (None, "de", "de"),
        (None, None, "en"),
        ("xx", "ru", "ru"),
        (None, "pl", "en"),  # not shipped: the deployment's default
        # Telegram's tags for the newer languages, as its apps send them
        (None, "zh-hans", "zh_Hans"),
        (None, "zh-CN", "zh_Hans"),
        (None, "zh", "zh_Hans"),
        (None, "zh-hant", "zh_Hans"),  # the one Chinese catalog
        ("zh_Hans", "en", "zh_Hans"),  # a saved choice
        (None, "fa-IR", "fa"),
        (None, "prs", "fa"),  # Dari
        (None, "ur", "ur"),
        (None, "hi-IN", "hi"),
        (None, "bn", "bn"),
        (None, "tr", "tr"),
        (None, "it-CH", "it"),
    ],
)
def test_locale_choice(saved: str | None, telegram: str | None, expected: str) -> None:
    assert resolve_locale(saved, telegram, "en") == expected


def test_plural_forms_follow_cldr() -> None:
    i18n = create_i18n("en")
    one, many = (
        "{organization} has {count} registered member.",
        "{organization} has {count} registered members.",
    )

    def forms(language: str, numbers: tuple[int, ...]) -> list[str]:
        return [i18n.gettext(one, many, n, locale=language).replace(str(n), "N") for n in numbers]

    ru = forms("ru", (1, 3, 5, 21, 22, 25))
    assert ru[0] == ru[3] and ru[1] == ru[4] and ru[2] == ru[5]  # 1~21, 3~22, 5~25
    assert len(set(ru)) == 3
    assert len(set(forms("uk", (1, 3, 5)))) == 3
    assert len(set(forms("ar", (0, 1, 2, 3, 11, 100)))) == 6
    fr = forms("fr", (0, 1, 2))
    assert fr[0] == fr[1] != fr[2]  # French: 0 and 1 are singular


def test_language_names_and_direction() -> None:
    assert [language_name(code) for code in ("fr", "ar", "sw")] == ["Français", "العربية", "Kiswahili"]
    assert is_rtl("ar") and not is_rtl("uk")


def test_dates_in_member_locale_and_zone() -> None:
    moment = datetime(2027, 3, 14, 17, 30, tzinfo=UTC)
    assert format_when(moment, "en", "Europe/Berlin", "short") == "3/14/27, 6:30\u202fPM"
    assert "18:30" in format_when(moment, "fr", "Europe/Berlin")
    assert "14:30" in format_when(moment, "pt", "America/Sao_Paulo")


def test_template_lists_every_string_in_the_code(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A string added to the code without `make messages` would reach members untranslated."""
    from babel.messages.frontend import CommandLineInterface

    from bot.config import PROJECT_ROOT

    fresh = tmp_path / "fresh.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "--no-location",
            "-k",
            "__",
            "-k",
            "ngettext:1,2",
            "-o",
            str(fresh),
            str(PROJECT_ROOT / "bot"),
            str(PROJECT_ROOT / "handlers"),
        ]
    )
    with fresh.open("rb") as fresh_file, (LOCALES_DIR / "messages.pot").open("rb") as shipped_file:
        in_code = {message.id for message in read_po(fresh_file) if message.id}
        shipped = {message.id for message in read_po(shipped_file) if message.id}
    missing = sorted(str(message_id) for message_id in in_code - shipped)
    assert missing == [], "run `make messages` and translate:\n" + "\n".join(missing)


def test_the_catalogs_hold_each_source_text_once_and_translate_as_gettext_does() -> None:
    i18n = create_i18n("en")
    keys = {
        language: {key: key for key in translations._catalog}  # type: ignore[attr-defined]
        for language, translations in i18n.locales.items()
    }
    shared = [key for key in keys["fr"] if isinstance(key, str) and key in keys["de"]]
    assert shared and all(keys["fr"][key] is keys["de"][key] for key in shared)
    for language in ("fr", "ar", "zh_Hans"):
        with (LOCALES_DIR / language / "LC_MESSAGES" / "messages.mo").open("rb") as mo_file:
            stdlib = gettext.GNUTranslations(mo_file)
        assert i18n.locales[language]._catalog == stdlib._catalog  # type: ignore[attr-defined]

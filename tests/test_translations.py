"""Every translation is in its own language: a language detector (lingua, offline models) reads
each translated string of some length in every catalog and fails on one it takes for another
language — typically a string left in English, or copied from a neighbouring catalog.

Short strings are where detectors hesitate between close relatives (Spanish and Portuguese,
Russian and Ukrainian, Arabic and Persian): under `SHORT` letters a string passes when the detector
still gives its own language a fair chance (`FAIR`); an English string gets practically none, so it
is caught at any length from `MIN_LETTERS`. No allowlist: brand names and commands are stripped,
and the catalogs are fixed where the detector is right.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pytest

from bot.catalogs import load
from bot.config import SHIPPED_LANGUAGES

lingua = pytest.importorskip("lingua", reason="the test extra lingua-language-detector is not installed")
Language = lingua.Language

DETECTED_AS = {
    "en": Language.ENGLISH,
    "fr": Language.FRENCH,
    "es": Language.SPANISH,
    "pt": Language.PORTUGUESE,
    "ar": Language.ARABIC,
    "ru": Language.RUSSIAN,
    "uk": Language.UKRAINIAN,
    "sw": Language.SWAHILI,
    "de": Language.GERMAN,
    "it": Language.ITALIAN,
    "tr": Language.TURKISH,
    "fa": Language.PERSIAN,
    "ur": Language.URDU,
    "hi": Language.HINDI,
    "bn": Language.BENGALI,
    "zh_Hans": Language.CHINESE,
}
MIN_LETTERS = 12  # below this, a string is a word or two: nothing to tell
SENTENCE_LETTERS = 20  # a sentence inside a longer string ("جلستان متداخلتان." reads as Urdu)
SHORT = 60
FAIR = 0.1
# HTML tags, {placeholders}, /commands, links, e-mail addresses; then emoji, arrows and controls.
_MARKUP = re.compile(r"<[^>]*>|\{\w*\}|%\(\w+\)[sd]|(?<![\w/])/[a-z][a-z0-9_]*|https?://\S+|\S+@\S+")
# Product names as the apps spell them in every language (the menus around them are translated).
_SENTENCE = re.compile(r"(?<=[.!?。！？؟।])\s+|\n+")  # each sentence too: one left in English
_BRANDS = re.compile(r"\b(Google Calendar|Apple Calendar|Outlook|Telegram|Excel|CSV|XLSX|URL)\b")


@cache
def detector():  # type: ignore[no-untyped-def]
    return lingua.LanguageDetectorBuilder.from_languages(*DETECTED_AS.values()).build()


def prose(text: str) -> str:
    """What a reader reads as words: markup, brand names, symbols and emoji taken out."""
    text = _BRANDS.sub(" ", _MARKUP.sub(" ", text))
    text = "".join(" " if unicodedata.category(c)[0] in "SC" or c == "\ufe0f" else c for c in text)
    return " ".join(text.split())


def misidentified(language: str, strings: list[str]) -> list[str]:
    """The strings the detector takes for another language than `language` (as a whole or one of
    their sentences), with its guess."""
    expected, found = DETECTED_AS[language], []
    for string in strings:
        whole, sentences = prose(string), [prose(part) for part in _SENTENCE.split(string)]
        checks = [(whole, MIN_LETTERS)] + [(text, SENTENCE_LETTERS) for text in sentences if text != whole]
        for text, minimum in checks:
            if not _reads_as(text, expected, minimum):
                guess = detected(text)
                found.append(
                    f"{language}: reads as {guess.name if guess else 'nothing'}: {text!r} in {string!r}"
                )
                break
    return found


def _reads_as(text: str, expected: Language, minimum: int) -> bool:
    letters = sum(c.isalpha() for c in text)
    if letters < minimum or detected(text) == expected:
        return True
    # A close relative, on too little text to tell.
    return letters < SHORT and confidences(text).get(expected, 0.0) >= FAIR


# The detector's answers, once per text: each catalog's check reads the same English sources again
# (test_strings_left_in_english_are_caught), and the detector is most of this module's CPU.
@cache
def detected(text: str) -> Language | None:
    return detector().detect_language_of(text)


@cache
def confidences(text: str) -> dict[Language, float]:
    """How likely `text` is in each language (lingua's `compute_language_confidence` for one
    language is this list's entry, to the last bit of rounding)."""
    return {value.language: value.value for value in detector().compute_language_confidence_values(text)}


def translations(language: str) -> list[str]:
    strings: list[str] = []
    for message in load(language):
        if message.id:
            strings += list(message.string) if isinstance(message.string, tuple) else [message.string]
    return strings


def english_sources() -> list[str]:
    return [
        message.id[0] if isinstance(message.id, tuple) else message.id for message in load("en") if message.id
    ]


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_translation_reads_as_its_own_language(language: str) -> None:
    assert misidentified(language, translations(language)) == []


@pytest.mark.parametrize("language", [code for code in SHIPPED_LANGUAGES if code != "en"])
def test_strings_left_in_english_are_caught(language: str) -> None:
    """The check can fail: the English sources, as if left untranslated in this catalog, are
    nearly all caught (the rest are short strings also plausible in a close language)."""
    sources = [text for text in english_sources() if sum(c.isalpha() for c in prose(text)) >= MIN_LETTERS]
    assert len(misidentified(language, sources)) >= 0.8 * len(sources)


def test_a_sentence_left_in_english_is_caught_inside_a_translation() -> None:
    mixed = (
        "Ongeza anwani hii kwenye programu yako ya kalenda.\nOther calendars → From URL → Subscribe from web."
    )
    assert misidentified("sw", [mixed])
    assert misidentified("sw", ["Ongeza anwani hii kwenye programu yako ya kalenda."]) == []


def test_a_neighbouring_language_is_caught_in_a_long_string() -> None:
    spanish = (
        "Gracias por responder. Te enviaremos un recordatorio un día antes del evento y otro una hora antes."
    )
    russian = "Спасибо за ответ. Мы пришлём напоминание за день до мероприятия и ещё одно за час до начала."
    assert misidentified("pt", [spanish]) and misidentified("uk", [russian])
    assert misidentified("es", [spanish]) == [] and misidentified("ru", [russian]) == []

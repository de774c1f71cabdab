"""One answer's value: what a tap or a typed text means for each kind of question, checked against
the question's options, scale, bounds or length."""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from bot.services.events import telegram_length
from bot.services.surveys.rules import NUMBER_LIMIT, TEXT_DEFAULT, SurveyError
from bot.services.text import TextRejected, clean_line
from storage.models import QuestionKind, SurveyQuestion

# Typed yes/no in every shipped language (and a few common variants): the buttons are the usual way.
YES_WORDS = {
    *("yes", "y", "true", "1", "oui", "да", "так", "sí", "si", "sì", "ja", "sim", "ndiyo", "نعم"),
    *("evet", "بله", "آره", "हाँ", "हां", "ہاں", "جی", "হ্যাঁ", "হাঁ", "是", "是的", "对"),
}


NO_WORDS = {
    *("no", "n", "false", "0", "non", "нет", "ні", "nein", "não", "nao", "hapana", "لا"),
    *("hayır", "hayir", "نه", "خیر", "नहीं", "नही", "نہیں", "না", "否", "不", "不是"),
}


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise SurveyError("not_a_number")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace("\u00a0", "").replace(" ", "")
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        try:
            number = float(text)
        except ValueError:
            raise SurveyError("not_a_number") from None
    if not math.isfinite(number) or abs(number) > NUMBER_LIMIT:
        raise SurveyError("not_a_number")
    return number


def option_index(raw: Any, count: int) -> int:
    if isinstance(raw, bool):
        raise SurveyError("bad_option")
    try:
        index = int(raw) if isinstance(raw, int) else int(str(raw).strip())
    except ValueError:
        raise SurveyError("bad_option") from None
    if not 0 <= index < count:
        raise SurveyError("bad_option", count)
    return index


def _is_empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set | frozenset):
        return not raw
    return False


def clean_answer(question: SurveyQuestion, raw: Any) -> Any:
    """The value stored for `raw` (None: a skipped optional question); raises `SurveyError`.

    single: an option index; multiple: option indexes; rating: a whole number on the scale;
    number: a number (text accepted, "3,5" too) within the bounds; text: the trimmed text;
    yes_no: True/False or a yes/no word."""
    if _is_empty(raw):
        if question.optional:
            return None
        raise SurveyError("required")
    kind = QuestionKind(question.kind)
    if kind == QuestionKind.SINGLE:
        if isinstance(raw, list | tuple | set | frozenset):
            if len(raw) != 1:
                raise SurveyError("choose_one")
            (raw,) = raw
        return option_index(raw, len(question.options))
    if kind == QuestionKind.MULTIPLE:
        values = raw if isinstance(raw, list | tuple | set | frozenset) else [raw]
        return sorted({option_index(value, len(question.options)) for value in values})
    if kind in (QuestionKind.RATING, QuestionKind.NUMBER):
        number = _number(raw)
        low, high = question.min_value, question.max_value
        if (low is not None and number < low) or (high is not None and number > high):
            raise SurveyError("out_of_range", (low, high))
        if kind == QuestionKind.RATING:
            if number != int(number):
                raise SurveyError("not_whole", (low, high))
            return int(number)
        return int(number) if number == int(number) else number
    if kind == QuestionKind.TEXT:
        text = unicodedata.normalize("NFC", str(raw)).strip()
        limit = question.max_length or TEXT_DEFAULT
        if telegram_length(text) > limit:
            raise SurveyError("text_too_long", limit)
        try:
            clean_line(text, max(len(text), 1))
        except TextRejected:
            raise SurveyError("text_empty") from None
        return text
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().casefold()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise SurveyError("not_yes_no")

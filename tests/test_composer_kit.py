"""The composer kit's building blocks without Telegram: the one validation of typed texts, the
cut-text guard's arithmetic, the audience picker and the kit's declarations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import create_i18n
from bot.services.members import INTERESTS
from handlers.announcements.callbacks import ACTIONS
from handlers.announcements.composer import COMPOSER
from handlers.composer import TextRefused, TextRule, audience_choice, check_text, is_blank, toggled
from handlers.composer.audience import audience_keyboard
from handlers.composer.text import CUT_KEY, cut_record, is_long_part


@pytest.fixture(autouse=True)
def english() -> Any:
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale("en"):
        yield


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u2060\u200b", "\ufeff \u200e\n\t", "\u2060"])
def test_invisible_or_blank_text_looks_empty(text: str) -> None:
    assert is_blank(text)
    with pytest.raises(TextRefused, match="That looks empty"):
        check_text(text, TextRule(100))


def test_visible_text_is_kept_as_typed_with_its_emoji_joiners() -> None:
    assert check_text("  🧑\u200d🎓 Bonjour\n", TextRule(100)) == "🧑\u200d🎓 Bonjour"
    assert not is_blank("\u200bA")


def test_limits_count_as_telegram_does() -> None:
    """UTF-16 code units: an emoji outside the BMP counts two."""
    assert check_text("😀" * 50, TextRule(100)) == "😀" * 50
    with pytest.raises(TextRefused) as refused:
        check_text("😀" * 51, TextRule(100))
    assert refused.value.text == "That is too long: 100 characters at most (yours has 102)."
    custom = TextRule(10, too_long=lambda limit, length: f"max {limit}")
    with pytest.raises(TextRefused, match="max 10"):
        check_text("x" * 11, custom)


def test_formatting_is_kept_only_when_asked() -> None:
    html = "<b>Fête</b> &amp; danse"
    assert check_text("Fête & danse", TextRule(100, keep_formatting=True), html) == html
    assert check_text("Fête & danse", TextRule(100), html) == "Fête & danse"


def _message(text: str | None, at: datetime, caption: str | None = None) -> Any:
    return SimpleNamespace(text=text, caption=caption, date=at)


def test_a_continuation_is_a_text_within_the_window_after_a_long_part() -> None:
    start = datetime(2027, 1, 1, 12, tzinfo=UTC)
    assert is_long_part(_message("x" * 4096, start))
    assert is_long_part(_message("x" * 2049, start))  # Telegram Desktop cuts at a break past half
    assert not is_long_part(_message("x" * 2048, start))
    assert is_long_part(_message(None, start, caption="x" * 1000))
    data = {CUT_KEY: {"name": "announcement", "id": 1, "at": start.timestamp(), "told": False}}
    assert cut_record(data, _message("rest", start + timedelta(seconds=1))) is not None
    assert cut_record(data, _message("later", start + timedelta(seconds=30))) is None
    assert cut_record(data, _message("/cancel", start)) is None
    assert cut_record({}, _message("rest", start)) is None


def test_audience_picker_ticks_and_refuses_forged_values() -> None:
    audience = toggled({}, "interests", "culture")
    assert audience == {"interests": ["culture"]}
    assert toggled(audience, "interests", "culture") == {}
    assert audience_choice({}, "aud_i", "no-such-interest") is None
    assert audience_choice({}, "aud_l", "xx") is None
    assert audience_choice(audience, "aud", "all") == ("done", {})
    keyboard = audience_keyboard(audience, _Button)
    labels = [button.text for row in keyboard.inline_keyboard for button in row]
    assert len(labels) == len(INTERESTS) + len(SHIPPED_LANGUAGES) + 1
    assert labels[INTERESTS.index("culture")].startswith("✅") and labels[-1] == "Done"


class _Button(CallbackData, prefix="t"):
    action: str
    value: str = ""


def test_the_announcement_declaration_keeps_its_buttons_codes() -> None:
    """Buttons already in chats ("an:translate_to:…", "an:send_confirm:…") are the kit's now."""
    assert COMPOSER.codes.language == "translate_to" and COMPOSER.codes.publish == "send_confirm"
    kit_codes = set(vars(COMPOSER.codes).values())
    assert kit_codes <= set(ACTIONS)
    assert COMPOSER.button("translate_to", 7, "fr").pack() == "an:translate_to:7:fr"

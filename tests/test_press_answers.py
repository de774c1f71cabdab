"""`PressAnswerMiddleware`: a press answered once, after its handler, with the toast it chose; the
press known to `answer_press_now` while the handler runs; all in one layer (issue 15)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from aiogram.types import CallbackQuery, User
from aiogram.utils.callback_answer import CallbackAnswer

from bot.press_answers import PressAnswerMiddleware, _pending


async def test_a_press_is_answered_after_its_handler_in_one_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    query = CallbackQuery(
        id="1", from_user=User(id=7, is_bot=False, first_name="A"), chat_instance="c", data="x"
    )
    answered: list[str | None] = []

    async def answer(
        self: PressAnswerMiddleware, event: CallbackQuery, callback_answer: CallbackAnswer
    ) -> None:
        assert _pending.get() is None  # after the handler: no longer pending
        answered.append(callback_answer.text)

    monkeypatch.setattr(PressAnswerMiddleware, "answer", answer)
    layers: list[str] = []

    async def handler(event: CallbackQuery, data: dict[str, Any]) -> str:
        assert _pending.get() == (query, data["callback_answer"])
        frame = sys._getframe(1)
        while (
            frame is not None
            and frame.f_code.co_name != "test_a_press_is_answered_after_its_handler_in_one_layer"
        ):
            layers.append(frame.f_code.co_qualname)
            frame = frame.f_back
        data["callback_answer"].text = "Saved"
        return "done"

    assert await PressAnswerMiddleware()(handler, query, {"handler": None}) == "done"
    assert answered == ["Saved"]
    assert layers == ["PressAnswerMiddleware.__call__"]  # was three: ours, a closure, aiogram's

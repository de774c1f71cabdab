"""Registering a survey button's handler that works over a `Turn` (the composer kit's view of one
update: the context, the dialog's state, the chat, the pressed message and the callback's answer).

The dialog's steps (`dialog.step_button`), the /results buttons (`lookups.results_button`) and the
member's survey buttons (`member_screens.survey_button`) each say what runs before their handler
(finding the step, the survey or the member's place); the right is declared where the button is
registered, as for every handler, and the update log names the handler itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery

from handlers.composer import Turn, button_turn

Run = Callable[[Turn, Any, dict[str, Any]], Awaitable[None]]  # (turn, callback data, handler data)


def register_button(
    on: Router, buttons: CallbackQueryFilter, flags: dict[str, Any], handler: Callable[..., Any], run: Run
) -> None:
    """`run(turn, callback_data, data)` for the buttons `buttons` select, registered with `flags`
    under the name of `handler` (what `run` calls once its checks pass)."""

    async def on_button(query: CallbackQuery, callback_data: CallbackData, **data: Any) -> None:
        answer, delivery = data["callback_answer"], data.get("delivery")
        turn = button_turn(query, data["ctx"], data["state"], data["bot"], answer, delivery)
        await run(turn, callback_data, data)

    on_button.__name__, on_button.__qualname__ = handler.__name__, handler.__qualname__
    on_button.__module__ = handler.__module__
    on.callback_query(buttons, flags=flags)(on_button)

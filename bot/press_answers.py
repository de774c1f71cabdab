"""Button presses answered before slow work.

aiogram's `CallbackAnswerMiddleware` answers a press when its handler returns (with the toast the
handler chose), and the member's button spins until then. Drawing charts or rendering documents
takes seconds (the first chart of a process also builds matplotlib's font cache), so slow work goes
through `render`, which answers the current press first (with its toast so far) and then runs the
work in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from aiogram.dispatcher.flags import get_flag
from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer, CallbackAnswerMiddleware

from bot.commit_before_send import telling_nothing

_P = ParamSpec("_P")
_T = TypeVar("_T")
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

_pending: ContextVar[tuple[CallbackQuery, CallbackAnswer] | None] = ContextVar("pending_press", default=None)


class PressAnswerMiddleware(CallbackAnswerMiddleware):
    """aiogram's answer after the handler, and the press known to `answer_press_now` meanwhile.

    aiogram's `__call__` in one layer with ours (the same steps, with aiogram's own
    `construct_callback_answer` and `answer`): calling it around a closure of ours was two more
    frames on every press, each entered again whenever the handler's work resumes (issue 15)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = self.construct_callback_answer(
            properties=get_flag(data, "callback_answer")
        )
        if not answer.disabled and answer.answered:
            await self.answer(event, answer)
        token = _pending.set((event, answer))
        try:
            return await handler(event, data)
        finally:
            _pending.reset(token)
            if not answer.disabled and not answer.answered:
                await self.answer(event, answer)


async def answer_press_now() -> None:
    """Answer the press being handled now, with the toast chosen so far (nothing if this update is
    no press, or its answer went already); aiogram then does not answer it again. With no toast,
    the update's work so far is not committed first (see `bot.commit_before_send`)."""
    pending = _pending.get()
    if pending is None:
        return
    query, answer = pending
    if answer.disabled or answer.answered:
        return
    answer.disable()
    if answer.text is None and answer.url is None:  # the spinner stops, nothing more is said
        with telling_nothing():
            await query.answer(cache_time=answer.cache_time)
        return
    await query.answer(
        text=answer.text, show_alert=answer.show_alert, url=answer.url, cache_time=answer.cache_time
    )


async def render(work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """`work` (a chart, a document: seconds of CPU) in a worker thread, the press answered first."""
    await answer_press_now()
    return await asyncio.to_thread(work, *args, **kwargs)

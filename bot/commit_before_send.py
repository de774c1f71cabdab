"""A request middleware: the update's unit of work is committed before any call leaves for Telegram.

Whatever a member is told ("Saved", "You are now organizer") is then already durable: a crash or a
SIGKILL right after the reply can't lose it. A handler that fails later rolls back only what it did
after its last message. Nothing written since the last commit (and no handled-mark due): no commit.
Nothing written but the handled-mark due: the reply waits for the mark's batch, shared with the
other updates that wrote nothing (`bot.web.inbox.commit_before_reply`, `bot.web.mark_batches`).
Nor for a call that tells the member nothing (`telling_nothing`: a press answered with no text
before slow work, `bot.press_answers`): a crash before the handler's first real reply then leaves
the update to be handled again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.methods import GetUpdates

from bot.request_types import Method, Next, Result
from bot.web.inbox import commit_before_reply
from storage.db import commit_due, current_session


class CommitBeforeSendMiddleware(BaseRequestMiddleware):
    async def __call__(self, make_request: Next, bot: Bot, method: Method) -> Result:
        session = current_session.get()
        if (
            session is not None
            and not isinstance(method, GetUpdates)
            and not _silent.get()
            and await commit_due(session)
        ):
            await commit_before_reply(session)
        return await make_request(bot, method)


_silent: ContextVar[bool] = ContextVar("telling_nothing", default=False)


@contextmanager
def telling_nothing() -> Iterator[None]:
    """The calls made inside tell the member nothing that must be durable first: no commit."""
    token = _silent.set(True)
    try:
        yield
    finally:
        _silent.reset(token)

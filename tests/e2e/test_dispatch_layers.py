"""The layers an update goes through on its way to its handler (issue 15: each is calls and a frame
on every update): one middleware per job, aiogram's own where ours do not already do the work,
and the update log line still naming the handler and its outcome."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from tests.e2e.conftest import Harness


def _names(manager: Any) -> list[str]:
    return [type(middleware).__name__ for middleware in manager]


async def test_an_update_passes_one_layer_per_job(
    harness: Harness, registered: Any, caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = harness.app.dispatcher
    # aiogram's errors first (every failure reaches the error handlers); `UpdateMiddleware` sets
    # the event's user and chat (aiogram's `UserContextMiddleware` is gone).
    assert _names(dispatcher.update.outer_middleware) == [
        "ErrorsMiddleware",
        "UpdateMiddleware",
        "InboxMiddleware",
        "FSMContextMiddleware",
        "MemberMiddleware",
    ]
    # `RightsMiddleware` names the handler for the log line too (no layer of its own for that).
    assert _names(dispatcher.message.middleware) == ["RightsMiddleware"]
    assert _names(dispatcher.callback_query.middleware) == ["PressAnswerMiddleware", "RightsMiddleware"]

    caplog.set_level(logging.INFO, logger="bot.updates")
    amina = await registered("Amina", "en")
    await harness.send(amina, "/help")
    refusal = await harness.send(amina, "/announce")  # staff only: refused before the handler
    assert refusal["text"]

    def lines() -> list[dict[str, Any]]:
        return [record.fields for record in caplog.records if record.name == "bot.updates"]  # type: ignore[attr-defined]

    for _ in range(1000):  # the line is written once the update's unit of work ends, after the reply
        if len(lines()) == 2:
            break
        await asyncio.sleep(0.01)
    assert [(line["handler"], line["outcome"]) for line in lines()] == [
        ("help.show_help", "ok"),
        ("compose.start_announcement", "refused"),
    ]

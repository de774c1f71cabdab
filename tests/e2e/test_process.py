"""The real program as a separate process against the emulator: it starts, sets its menus and
answers; killed with SIGKILL mid-conversation and restarted, it continues where it was."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.sandbox import BotAPIEmulator, Limits
from tests.e2e.conftest import TOKEN


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    emulator = BotAPIEmulator(
        token=TOKEN, limits=Limits(flood_control=False), bot_username="diaspora_bridge_bot"
    )
    await emulator.start(host="127.0.0.1", port=0)
    yield emulator
    await emulator.stop()


def start_bot(emulator: BotAPIEmulator, workdir: Path, database_url: str) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": emulator.base_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> tuple[str, str]:
    process.send_signal(sig)
    for _ in range(100):
        if process.poll() is not None:
            break
        await asyncio.sleep(0.1)
    else:
        process.kill()
    out, err = process.communicate(timeout=10)
    return out.decode(), err.decode()


async def test_process_starts_sets_menus_answers_and_survives_sigkill(
    emulator: BotAPIEmulator, tmp_path: Path, database_url: str
) -> None:
    process = start_bot(emulator, tmp_path, database_url)
    try:
        await emulator.wait_for(
            lambda emu: emu.commands(scope={"type": "default"}, language_code="sw") is not None, timeout=60
        )
        user = emulator.create_user("Wanjiru", language_code="sw")
        await emulator.send_text(user, "/start")
        greeting = await emulator.next_bot_message(user.id, timeout=30)
        await emulator.press_button(user, greeting, text="Kiswahili")
        await emulator.wait_for(lambda emu: "/mydata" in emu.transcript(user.id)[-1]["text"], timeout=30)
        notice = emulator.transcript(user.id)[-1]
        await emulator.press_button(
            user, notice, text=notice["reply_markup"]["inline_keyboard"][0][0]["text"]
        )
        await emulator.next_bot_message(user.id, timeout=30)  # "let's set up your profile"
        name_question = await emulator.next_bot_message(user.id, timeout=30)
        await emulator.send_text(user, "Wanjiru Kamau")
        await emulator.next_bot_message(user.id, timeout=30)  # "nice to meet you"
        origin_question = await emulator.next_bot_message(user.id, timeout=30)
        assert origin_question["message_id"] > name_question["message_id"]
    finally:
        _, first_log = await stop(process, signal.SIGKILL)
    assert process.returncode == -signal.SIGKILL
    assert "Wanjiru" not in first_log  # no names or message texts in the logs at INFO
    assert "update_id=" in first_log and "latency_ms=" in first_log

    # Restarted: the dialog continues at the origin question, and the name was kept.
    process = start_bot(emulator, tmp_path, database_url)
    try:
        await emulator.send_text(user, "Kenya")
        echo = await emulator.next_bot_message(user.id, timeout=60)
        assert "Kenya" in echo["text"]
        await emulator.next_bot_message(user.id, timeout=30)  # residence question
        await emulator.send_text(user, "/profile")
        card = await emulator.next_bot_message(user.id, timeout=30)
        assert "Wanjiru Kamau" in card["text"] and "Kenya" in card["text"]
    finally:
        _, second_log = await stop(process)
    assert "Traceback" not in first_log + second_log

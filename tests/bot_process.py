"""How a test starts the bot as a process of its own (`python -m bot …`): this interpreter, and an
environment built from nothing, so no developer's variables or .env settings leak into the test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT


def bot_command(*arguments: str) -> list[str]:
    """`python -m bot` with these arguments, run by this interpreter."""
    return [sys.executable, "-m", "bot", *arguments]


def bot_environment(home: Path, **variables: str) -> dict[str, str]:
    """PATH, HOME in `home`, the project importable, and `variables`: the whole environment."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(PROJECT_ROOT),
        **variables,
    }

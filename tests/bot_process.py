"""How a test starts the bot as a process of its own (`python -m bot …`): this interpreter, and an
environment built from nothing, so no developer's variables or .env settings leak into the test.

`launch_bot` starts it from a warm interpreter: a `python` that already loaded the bot's modules
(before the test asked for it, while the previous bot ran) and waits on its stdin for its orders;
given them, it takes the test's environment, directory and log files and runs the very `main()` of
`python -m bot`. Nothing of the bot runs before that (no settings read, no database, no Bot API):
the process a test starts after a kill is new in everything but its loaded modules, and starts in
well under a second of CPU instead of five or so (the imports: most of a crash test's time).
`SPARES` wait at a time, loading while the tests wait on the bots: the imports' CPU is spent all
the same, but off the tests' clock. `TEST_WARM_BOTS=0`:
every bot started cold instead, as `python -m bot …` (to compare, or to rule the spares out)."""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.config import PROJECT_ROOT

# The spare's program: load what `python -m bot run` loads (with the garbage collector off, as
# `bot.cli.main` does for its imports), say so, then wait for the orders; none (stdin closed): exit.
_WARM = """
import gc, json, os, sys
gc.disable()
import bot.cli, bot.web.runner
os.write(1, b"ready\\n")
order = sys.stdin.readline()
if not order:
    sys.exit(0)
order = json.loads(order)
os.environ.clear()
os.environ.update(order["env"])
os.chdir(order["cwd"])
for fd, path in ((1, order["stdout"]), (2, order["stderr"])):
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(target, fd)
    os.close(target)
sys.argv = [sys.argv[0], *order["argv"]]
sys.exit(bot.cli.main(order["argv"]))
"""
SPARES = 2  # a test that restarts at once finds the second one loaded, however short the first bot's life
WARM = os.environ.get("TEST_WARM_BOTS", "1") != "0"

_spares: list[subprocess.Popen[bytes]] = []  # oldest first
_ready: set[int] = set()  # the pids of the spares known to have loaded


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


def _warm() -> subprocess.Popen[bytes]:
    """A new spare: the interpreter starts loading the bot's modules at once, in the background."""
    home = Path(tempfile.gettempdir())
    return subprocess.Popen(
        [sys.executable, "-c", _WARM],
        cwd=home,
        env=bot_environment(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _top_up() -> None:
    _spares[:] = [spare for spare in _spares if spare.poll() is None]
    while len(_spares) < SPARES:
        _spares.append(_warm())


async def spares_loaded(timeout: float = 120) -> None:
    """Wait until the spares have loaded the bot's modules: a test calls it before its first bot
    when it restarts one at once (the restart then takes a second or two, even on a loaded machine)."""
    if not WARM:
        return
    _top_up()
    for spare in list(_spares):
        if spare.pid not in _ready:
            assert spare.stdout is not None
            line = await asyncio.wait_for(asyncio.to_thread(spare.stdout.readline), timeout)
            assert line == b"ready\n", f"a spare interpreter failed to load the bot: {line!r}"
            _ready.add(spare.pid)


def launch_bot(
    arguments: list[str],
    cwd: Path,
    env: dict[str, str],
    stderr: Path,
    stdout: Path | None = None,
    *,
    cold: bool = False,
) -> subprocess.Popen[bytes]:
    """`python -m bot *arguments` in `cwd` with exactly `env` (from `bot_environment`), its stderr
    (and stdout, else discarded) appended to these files: a spare takes the orders (one known to
    have loaded, else the oldest), and a new spare starts loading (`cold`: the command itself,
    started now). The process is the test's child like any other (signals, exit code)."""
    if cold or not WARM:
        with stderr.open("ab") as err, open(stdout or os.devnull, "ab") as out:
            return subprocess.Popen(bot_command(*arguments), cwd=cwd, env=env, stdout=out, stderr=err)
    _top_up()
    process = next((spare for spare in _spares if spare.pid in _ready), _spares[0])
    _spares.remove(process)
    _ready.discard(process.pid)
    _top_up()
    order = {
        "argv": arguments,
        "cwd": str(cwd),
        "env": env,
        "stdout": str(stdout or os.devnull),
        "stderr": str(stderr),
    }
    assert process.stdin is not None
    process.stdin.write(json.dumps(order).encode() + b"\n")
    process.stdin.close()
    return process


@atexit.register
def _dismiss_spares() -> None:
    """The spares left at the end of the test run exit (their stdin closed; also when this process
    dies: the pipes close with it)."""
    for spare in _spares:
        if spare.poll() is None and spare.stdin is not None:
            spare.stdin.close()
    for spare in _spares:
        try:
            spare.wait(10)
        except subprocess.TimeoutExpired:
            spare.kill()

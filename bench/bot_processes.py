"""The bots of the benchmarks as processes of their own: started with their output in a file,
stopped (SIGTERM, then SIGKILL), their resident memory read, and py-spy sampling one from outside."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path
from typing import IO


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def profiler(pid: int, path: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the process from outside (collapsed stacks, for flame graphs) until SIGINT;
    only the thread holding the GIL (the aiosqlite worker threads wait on SQLite, not the CPU)."""
    command = ["py-spy", "record", "--gil", "-r", "200", "-f", "raw", "-o", path, "-p", str(pid)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Process:
    """A bot as a process of its own, its output in a file."""

    def __init__(self, process: asyncio.subprocess.Process, log: IO[bytes], log_path: Path) -> None:
        self.process, self._log, self.log_path = process, log, log_path

    @classmethod
    async def start(cls, command: list[str], env: dict[str, str], log_path: Path) -> Process:
        log = log_path.open("wb")
        process = await asyncio.create_subprocess_exec(*command, env=env, stdout=log, stderr=log)
        return cls(process, log, log_path)

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    async def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not exited within 30 s."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self._log.close()

"""What the benchmarks share: registered members inserted in bulk (no ORM objects: tens of
thousands in seconds) and a percentile of measured latencies."""

from __future__ import annotations

import os
import resource
from datetime import datetime
from pathlib import Path
from typing import Any

CHUNK = 5000  # rows per INSERT


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def insert_members(connection: Any, chat_ids: list[int], now: datetime) -> None:
    """Members as registration leaves them (consented, active, English, UTC, no interests), one
    per Telegram id, in insertion order: on a fresh database their ids are 1, 2, 3…"""
    from sqlalchemy import insert

    from storage.models import Member

    stamps = {"consent_at": now, "created_at": now, "updated_at": now}
    for start in range(0, len(chat_ids), CHUNK):
        await connection.execute(
            insert(Member),
            [
                {
                    "telegram_id": chat_id,
                    "language": "en",
                    "timezone": "UTC",
                    "interests": [],
                    "muted": [],
                    "status": "active",
                    **stamps,
                }
                for chat_id in chat_ids[start : start + CHUNK]
            ],
        )


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one by default), from /proc."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

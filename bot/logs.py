"""Structured logging: one `key=value` line per event; never message texts or personal data."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=info logger=bot.updates event=update update_id=5 handler=start latency_ms=12`."""

    _second, _stamp = -1, ""  # the last record's second and its `ts` (a busy bot logs many a second)

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second, self._stamp = second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        fields: dict[str, Any] = {
            "ts": self._stamp,
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields.update(getattr(record, "fields", {}))
        line = " ".join(f"{key}={_quote(value)}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


_NEEDS_QUOTES = re.compile('[ ="\n]').search  # (one scan in C: a line per update, issue 15)


def _quote(value: Any) -> str:
    text = value if type(value) is str else str(value)
    if not text or _NEEDS_QUOTES(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Our handler is the only one and its lines show none of the caller's file and line, thread or
    # process: each record skips finding them (the logging docs' "Optimization"; issue 15: a
    # third of the cost of the line logged for every update).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # aiogram logs every update and callback answer, APScheduler every tick, Alembic every step at
    # INFO; our own lines replace them.
    for noisy in ("aiogram.event", "aiogram.middlewares", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, event, extra={"fields": fields})

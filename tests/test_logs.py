"""The key=value log line: what `bot.logs` prints for a record (its `ts` kept per second)."""

from __future__ import annotations

import logging
import time

from bot.logs import KeyValueFormatter


def _record(created: float, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("bot.updates", logging.INFO, "", 0, "update", None, None)
    record.created = created
    record.fields = fields  # type: ignore[attr-defined]
    return record


def test_each_line_has_its_own_second_and_fields() -> None:
    formatter = KeyValueFormatter()
    start = 1_800_000_000.0
    lines = [
        formatter.format(_record(start + offset, update_id=7, handler="help.show_help", note="a b"))
        for offset in (0.1, 0.9, 1.2, 0.5, 3600.0)
    ]
    stamps = [
        time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start + offset)) for offset in (0, 0, 1, 0, 3600)
    ]
    for line, stamp in zip(lines, stamps, strict=True):
        assert line == (
            f'ts={stamp} level=info logger=bot.updates event=update update_id=7 handler=help.show_help note="a b"'
        )

"""The key=value log line: what `bot.logs` prints for a record (its `ts` kept per second)."""

from __future__ import annotations

import logging
import time

import pytest

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
        formatter.format(
            _record(
                start + offset,
                update_id=7,
                handler="help.show_help",
                note="a b",
                said='say "hi"',
                pair="x=y",
                text="two\nlines",
                empty="",
                ms=12.5,
                none=None,
            )
        )
        for offset in (0.1, 0.9, 1.2, 0.5, 3600.0)
    ]
    stamps = [
        time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(start + offset)) for offset in (0, 0, 1, 0, 3600)
    ]
    for line, stamp in zip(lines, stamps, strict=True):
        assert line == (
            f"ts={stamp} level=info logger=bot.updates event=update update_id=7 handler=help.show_help"
            ' note="a b" said="say \\"hi\\"" pair="x=y" text="two\\nlines" empty="" ms=12.5 none=None'
        )


def test_an_update_counted_looks_its_metrics_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`observe_update` keeps each set of labels' metrics (prometheus' `labels` checks and locks)."""
    from bot import observability
    from bot.metrics import UPDATES

    looked_up = 0
    labels = UPDATES.labels

    def counted(*values: str) -> object:
        nonlocal looked_up
        looked_up += 1
        return labels(*values)

    monkeypatch.setattr(UPDATES, "labels", counted)
    kind, handler = "message", "test_logs.observed_twice"
    before = UPDATES.labels(kind, handler, "ok")._value.get()
    looked_up = 0
    observability.observe_update(kind, handler, "ok", 0.01)
    observability.observe_update(kind, handler, "ok", 0.02)
    assert UPDATES.labels(kind, handler, "ok")._value.get() == before + 2
    assert looked_up == 2  # the first update's and this test's own, not the second update's

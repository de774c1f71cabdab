"""Prometheus metrics of one bot process (prometheus-client), served at `/metrics`.

Each process has its own registry and its own `/metrics` (scrape every process: Prometheus adds
the `instance` label). Counters and histograms are this process's; the gauges read from the
database at scrape time (outbox and inbox depth) are the same in every process, so dashboards take
their `max` rather than their `sum`. PromQL for the first panels: deploy/README.md.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

PROCESS = Info("diaspora_bridge_process", "This bot process: its worker name and mode", registry=REGISTRY)
UPDATES = Counter(
    "diaspora_bridge_updates",
    "Updates handled, by update type, handler and outcome (ok, error, or a handler's own outcome)",
    ["type", "handler", "outcome"],
    registry=REGISTRY,
)
HANDLER_SECONDS = Histogram(
    "diaspora_bridge_handler_seconds",
    "Time from an update entering the Dispatcher to its handler returning",
    ["handler"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
WEBHOOK_REQUESTS = Counter(
    "diaspora_bridge_webhook_requests",
    "Webhook requests: accepted, duplicate (update_id seen before), refused (secret), bad, unavailable",
    ["result"],
    registry=REGISTRY,
)
MESSAGES = Counter(
    "diaspora_bridge_messages",
    "Outbox messages by kind and outcome (sent, failed, blocked, unreachable, cancelled, retry)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
FLOOD_WAITS = Counter(
    "diaspora_bridge_flood_waits",
    "429 Too Many Requests answers received, by sender (outbox or replies)",
    ["sender"],
    registry=REGISTRY,
)
FLOOD_WAIT_SECONDS = Counter(
    "diaspora_bridge_flood_wait_seconds",
    "Seconds Telegram asked to wait (retry_after), by sender",
    ["sender"],
    registry=REGISTRY,
)
SCHEDULER_LAG = Gauge(
    "diaspora_bridge_scheduler_lag_seconds",
    "How late the last run of each scheduler job started",
    ["job"],
    registry=REGISTRY,
)
OUTBOX_DEPTH = Gauge(
    "diaspora_bridge_outbox_messages_waiting",
    "Outbox rows waiting (pending) or being sent (sending), by kind: read from the database",
    ["kind", "status"],
    registry=REGISTRY,
)
INBOX_DEPTH = Gauge(
    "diaspora_bridge_inbox_updates_waiting",
    "Webhook updates stored and not yet handled (pending) or being handled (claimed)",
    ["status"],
    registry=REGISTRY,
)


def count_flood_wait(sender: str, seconds: float) -> None:
    FLOOD_WAITS.labels(sender).inc()
    FLOOD_WAIT_SECONDS.labels(sender).inc(seconds)

"""/healthz and /metrics in long-polling mode (HEALTH_LISTEN): 200 while the database, the
scheduler, the delivery engine, the inbox worker and the long poll work, 503 with the failing check
named when one does not; the metrics count handled updates by type, handler and outcome, and read
the outbox and inbox depth."""

from __future__ import annotations

import aiohttp

from bot.web.server import WebServer
from tests.e2e.conftest import Harness, start_harness


async def _get(url: str) -> tuple[int, str, dict | None]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await response.text()
        is_json = response.content_type == "application/json"
        return response.status, body, (await response.json()) if is_json else None


async def test_health_and_metrics_in_polling_mode(harness: Harness) -> None:
    server = WebServer(harness.app)
    base = f"http://{await server.start('127.0.0.1:0')}"
    try:
        user = harness.emulator.create_user("Amadou", language_code="fr")
        await harness.send(user, "/start")
        status, _, health = await _get(f"{base}/healthz")
        assert status == 200
        assert health == {
            "status": "ok",
            "checks": {
                "database": "ok",
                "scheduler": "ok",
                "delivery": "ok",
                "inbox": "ok",
                "polling": "ok",
            },
        }
        status, metrics, _ = await _get(f"{base}/metrics")
        assert status == 200
        assert 'diaspora_bridge_updates_total{handler="start.start",outcome="ok",type="message"}' in metrics
        assert "diaspora_bridge_handler_seconds_bucket" in metrics
        # The /start went through the inbox (long polling stores every update there too).
        assert 'diaspora_bridge_inbox_updates_waiting{status="pending"} 0.0' in metrics
        assert "process_resident_memory_bytes" in metrics
        assert (await _get(f"{base}/webhook"))[0] == 404  # no webhook in polling mode

        await harness.app.delivery.stop()
        status, _, health = await _get(f"{base}/healthz")
        assert status == 503
        assert health is not None and health["status"] == "unhealthy"
        assert health["checks"]["delivery"] == "stopped"
        assert harness.app.inbox is not None
        await harness.app.inbox.stop(grace=1)
        status, _, health = await _get(f"{base}/healthz")
        assert status == 503 and health is not None and health["checks"]["inbox"] == "stopped"
    finally:
        await server.stop()


async def test_health_names_redis_when_it_does_not_answer(migrated_url: str) -> None:
    async for harness in start_harness(migrated_url, redis_url="redis://127.0.0.1:1/0"):
        server = WebServer(harness.app)
        base = f"http://{await server.start('127.0.0.1:0')}"
        try:
            status, _, health = await _get(f"{base}/healthz")
        finally:
            await server.stop()
        assert status == 503
        assert health is not None and health["checks"]["redis"].startswith("error")
        assert health["checks"]["database"] == "ok"

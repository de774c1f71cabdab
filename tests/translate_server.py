"""A stand-in LibreTranslate server for the tests: `GET /languages` and `POST /translate` as the real
one answers them, each text "translated" as "[target] text" so a test sees what was sent where, and
the requests it got kept in `requests`. A test can make it refuse (`status`), answer something of
its own for a target language (`answers`), or stop it (unreachable)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# What it translates: every shipped language but Swahili, Chinese under its recent code.
OFFERED = ("en", "fr", "es", "pt", "ar", "ru", "uk", "de", "it", "tr", "fa", "ur", "hi", "bn", "zh-Hans")


@dataclass
class StandIn:
    offered: tuple[str, ...] = OFFERED
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: dict[str, Callable[[str], str]] = field(default_factory=dict)  # by target code
    status: int = 200  # not 200: every request answers this with LibreTranslate's error body
    api_key: str | None = None  # required when set
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _languages(self, request: web.Request) -> web.Response:
        if self.status != 200:
            return web.json_response({"error": "Stand-in failure"}, status=self.status)
        listed = [{"code": code, "name": code, "targets": list(self.offered)} for code in self.offered]
        return web.json_response(listed)

    async def _translate(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        if self.status != 200:
            return web.json_response({"error": "Stand-in failure"}, status=self.status)
        if self.api_key is not None and body.get("api_key") != self.api_key:
            return web.json_response({"error": "Invalid API key"}, status=403)
        target, texts = body["target"], body["q"]
        answer = self.answers.get(target, lambda text: f"[{target}] {text}")
        if isinstance(texts, str):
            return web.json_response({"translatedText": answer(texts)})
        return web.json_response({"translatedText": [answer(text) for text in texts]})

    def sent(self, target: str) -> list[dict[str, Any]]:
        """The translation requests for one target language."""
        return [body for body in self.requests if body.get("target") == target]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/languages", self._languages)
        app.router.add_post("/translate", self._translate)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        """Down: requests are refused at the connection, like a server that is not running."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

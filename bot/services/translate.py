"""A small client for a LibreTranslate-compatible server (`TRANSLATE_URL`): the machine-translation
drafts an organizer may ask for ("💡 Suggest translations"), which they review before publishing.

The API (LibreTranslate's): `GET /languages` lists `[{"code", "name", "targets": [...]}]`;
`POST /translate` takes JSON `{"q": [texts], "source", "target", "format": "text" | "html",
"api_key"}` and answers `{"translatedText": [texts]}` (a string for a string `q`), or an HTTP error
with `{"error": "..."}`. Every failure (unreachable, timeout, an error answer, a malformed one) is a
`TranslateError`: the caller tells the organizer and keeps the draft as it was.

Language codes: the server's are ISO 639-1 ("de", "fa"); Simplified Chinese is "zh-Hans" on recent
versions and "zh" on older ones: `server_code` picks whichever the server lists.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.config import Settings

log = logging.getLogger(__name__)

# A shipped language's codes on LibreTranslate servers, the preferred first.
_SERVER_CODES = {"zh_Hans": ("zh-Hans", "zh")}


class TranslateError(Exception):
    """The server could not give translations (why: in the log, not for the organizer)."""


def server_code(language: str, offered: Collection[str]) -> str | None:
    """The server's code for a shipped language, if the server offers it."""
    candidates = _SERVER_CODES.get(language, (language,))
    return next((code for code in candidates if code in offered), None)


@dataclass(frozen=True)
class Translator:
    url: str
    api_key: str | None = None
    timeout: float = 20.0

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(method, self.url + path, json=payload) as response,
            ):
                body = await response.json(content_type=None)
                if response.status != 200:
                    error = body.get("error") if isinstance(body, dict) else None
                    raise TranslateError(f"{path}: HTTP {response.status} {error or ''}".strip())
                return body
        except TranslateError:
            raise
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise TranslateError(f"{path}: {type(error).__name__} {error}") from error

    async def languages(self) -> dict[str, set[str]]:
        """Each source language the server offers, with the languages it translates it into."""
        body = await self._request("GET", "/languages")
        if not isinstance(body, list):
            raise TranslateError("/languages: not a list")
        offered: dict[str, set[str]] = {}
        for entry in body:
            if isinstance(entry, dict) and isinstance(entry.get("code"), str):
                targets = entry.get("targets")
                offered[entry["code"]] = set(targets) if isinstance(targets, list) else set()
        everything = set(offered)
        return {code: targets or everything for code, targets in offered.items()}  # old servers: no targets

    async def translate(self, texts: list[str], source: str, target: str, *, html: bool) -> list[str]:
        """`texts` in the server's `target` language, in order (server codes)."""
        if not texts:
            return []
        payload: dict[str, Any] = {
            "q": texts,
            "source": source,
            "target": target,
            "format": "html" if html else "text",
        }
        if self.api_key:
            payload["api_key"] = self.api_key
        body = await self._request("POST", "/translate", payload)
        translated = body.get("translatedText") if isinstance(body, dict) else None
        if isinstance(translated, str) and len(texts) == 1:
            translated = [translated]
        if not isinstance(translated, list) or len(translated) != len(texts):
            raise TranslateError("/translate: unexpected answer")
        if not all(isinstance(text, str) for text in translated):
            raise TranslateError("/translate: not texts")
        return translated


def translator_from(settings: Settings) -> Translator | None:
    """The configured translator, or None when `TRANSLATE_URL` is not set (the feature is off)."""
    if settings.translate_url is None:
        return None
    key = settings.translate_api_key.get_secret_value() if settings.translate_api_key else None
    return Translator(settings.translate_url, key, settings.translate_timeout)

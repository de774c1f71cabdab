"""Request parameters with Telegram's type coercion (query string, JSON, urlencoded or multipart)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .rules import ApiError, bad, decode_json

_JSON = frozenset(
    [
        "reply_markup",
        "entities",
        "caption_entities",
        "options",
        "commands",
        "scope",
        "allowed_updates",
        "message_ids",
        "reaction",
        "reply_parameters",
        "link_preview_options",
        "menu_button",
        "correct_option_ids",
        "question_entities",
        "explanation_entities",
        "description_entities",
        "media",
    ]
)
_INT = frozenset(
    [
        "message_id",
        "from_chat_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "open_period",
        "close_date",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "reply_to_message_id",
        "correct_option_id",
        "until_date",
        "duration",
    ]
)
_BOOL = frozenset(
    [
        "disable_notification",
        "protect_content",
        "show_alert",
        "is_anonymous",
        "allows_multiple_answers",
        "is_closed",
        "drop_pending_updates",
        "has_spoiler",
        "is_big",
        "show_caption_above_media",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "allow_paid_broadcast",
        "disable_content_type_detection",
        "allows_revoting",
        "shuffle_options",
        "hide_results_until_closes",
    ]
)


@dataclass
class Upload:
    """A file sent in a multipart request."""

    file_name: str
    content_type: str | None
    data: bytes


class Params:
    """The parameters of one Bot API call."""

    def __init__(
        self,
        raw: dict[str, Any],
        uploads: dict[str, Upload] | None = None,
        request: web.Request | None = None,
    ) -> None:
        self.raw = raw
        self.uploads = uploads or {}
        self.request = request

    def disconnected(self) -> bool:
        """Whether the HTTP client of this call went away (an abandoned long poll)."""
        if self.request is None:
            return False
        transport = self.request.transport
        return transport is None or transport.is_closing()

    @classmethod
    async def from_request(cls, request: web.Request, max_bytes: int) -> Params:
        """Read query string and body like the Bot API server does."""
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method != "POST" or not request.can_read_body:
            return cls(raw, uploads, request)
        if request.content_length is not None and request.content_length > max_bytes:
            raise ApiError(413, "Request Entity Too Large")
        try:
            if request.content_type == "application/json":
                try:
                    body = json.loads(await request.read() or b"{}")
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    raise bad("can't parse JSON encoded request")
                raw.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                    else:
                        raw[key] = value
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413, "Request Entity Too Large") from None
        return cls(raw, uploads, request)

    def has(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "")

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            return 0

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.raw.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "yes", "1")

    def json(self, name: str, what: str | None = None) -> Any:
        """A JSON-serialized parameter, decoded; None when absent."""
        value = self.raw.get(name)
        if value in (None, ""):
            return None
        return decode_json(value, what or name)

    def file(self, name: str) -> Upload | str | None:
        """An uploaded file (direct part or ``attach://``) or a file_id/URL string."""
        if name in self.uploads:
            return self.uploads[name]
        value = self.string(name)
        if value and value.startswith("attach://"):
            upload = self.uploads.get(value[len("attach://") :])
            if upload is None:
                raise bad(f"file {value} not found in the request")
            return upload
        return value or None

    def decoded(self) -> dict[str, Any]:
        """Parameters with JSON, numbers and booleans decoded and uploads summarised, for ``emu.calls``."""
        result: dict[str, Any] = {}
        for key, value in self.raw.items():
            result[key] = _decode(key, value, self.uploads)
        for key, upload in self.uploads.items():
            if not any(v == f"attach://{key}" for v in self.raw.values()):
                result[key] = {"file_name": upload.file_name, "size": len(upload.data)}
        return result


def _decode(key: str, value: Any, uploads: dict[str, Upload]) -> Any:
    if not isinstance(value, str):
        return value
    if value.startswith("attach://") and value[9:] in uploads:
        upload = uploads[value[9:]]
        return {"file_name": upload.file_name, "size": len(upload.data)}
    try:
        if key in _JSON:
            return json.loads(value)
        if key in _INT or (key == "chat_id" and value.lstrip("-").isdigit()):
            return int(value)
    except ValueError:
        return value
    if key in _BOOL:
        return value.strip().lower() in ("true", "yes", "1")
    return value

"""Settings read from the environment and `.env` (pydantic-settings).

A missing or malformed setting stops the program with one line naming it: see `load_settings`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_API_URL = "https://api.telegram.org"
SHIPPED_LANGUAGES = (
    *("en", "fr", "es", "pt", "ar", "ru", "uk", "sw"),
    *("de", "it", "tr", "fa", "ur", "hi", "bn", "zh_Hans"),
)
# Telegram's `language_code` is an IETF tag ("pt-br", "zh-hans", "zh-TW"); a base language that
# ships under a script-qualified catalog, and close relatives members may run their app in.
_CATALOG_OF = {"zh": "zh_Hans", "prs": "fa"}


def normalize_language(code: str | None) -> str | None:
    """Map a Telegram `language_code` ("pt-br", "uk", "ar-EG", "zh-hans", "zh-CN") or a saved
    language ("zh_Hans") to a shipped language, if any. Every Chinese tag maps to Simplified
    Chinese, the one Chinese catalog: its readers of Traditional read it far better than English."""
    if not code:
        return None
    base = code.replace("_", "-").split("-", 1)[0].strip().lower()
    base = _CATALOG_OF.get(base, base)
    return base if base in SHIPPED_LANGUAGES else None


def menu_language_code(language: str) -> str:
    """The two-letter code `setMyCommands` takes for a shipped language ("zh_Hans" → "zh")."""
    return language.split("_", 1)[0]


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_url: str = OFFICIAL_API_URL
    database_url: str = "sqlite+aiosqlite:///./data/diaspora_bridge.sqlite3"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_language: str = "en"
    default_timezone: str = "UTC"
    log_level: str = "INFO"
    organization_name: str = Field(default="Diaspora Bridge community", min_length=1, max_length=128)
    # The delivery engine (announcements, reminders, notifications).
    delivery_rate: float = Field(default=25.0, gt=0, le=1000)
    paid_broadcast: bool = False
    delivery_lease_seconds: float = Field(default=60.0, gt=0)
    # How often waitlist seat offers whose claim window ended pass to the next in line.
    offer_check_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Seconds between two messages to one private chat, replies and outbox together (Telegram:
    # about one a second, short bursts tolerated); a group gets three times as long (20 a minute).
    chat_interval: float = Field(default=1.0, gt=0, le=60)
    # Updates handled at once; more wait their turn instead of waiting on the database pool (which
    # holds 15 connections, shared with the delivery engine and the scheduler).
    max_concurrent_updates: int = Field(default=10, ge=1, le=200)
    # Survey breakdowns by group: groups with fewer respondents are not shown.
    survey_min_group: int = Field(default=5, ge=2, le=1000)
    # /stats: groups of members (a city, a week's joins) with fewer people are not shown alone.
    stats_min_group: int = Field(default=5, ge=2, le=1000)
    # Webhook mode and the web endpoints (deploy/README.md).
    webhook_url: str | None = None  # the public HTTPS address Telegram posts updates to
    webhook_secret: SecretStr | None = None  # checked on every post; derived from the token if unset
    webhook_listen: str = "127.0.0.1:8080"  # where this process listens (behind the reverse proxy)
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    health_listen: str | None = None  # long polling: also serve /healthz, /metrics (and feeds) here
    redis_url: str | None = None  # several processes: the flood budget shared through Redis
    public_url: str | None = None  # the bot's public base URL: members' calendar feed links
    # Machine-translation drafts (off unless set): a LibreTranslate-compatible server.
    translate_url: str | None = None
    translate_api_key: SecretStr | None = None
    translate_timeout: float = Field(default=20.0, gt=0, le=300)  # seconds per request
    # Days after which members who blocked the bot or left every organization, and did nothing
    # since, are anonymized as /forget does (0: never).
    retention_days: int = Field(default=0, ge=0, le=36500)

    @model_validator(mode="after")
    def _rate_within_telegram_limits(self) -> Settings:
        if self.delivery_rate > 30 and not self.paid_broadcast:
            raise ValueError(
                "delivery_rate: above 30 messages/s needs PAID_BROADCAST=true (Telegram's limit)"
            )
        return self

    @field_validator("bot_token", mode="before")
    @classmethod
    def _token_shape(cls, value: object) -> object:
        if value in (None, ""):
            return None
        text = str(value).strip()
        bot_id, _, secret = text.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("expected the form 123456789:ABC... given by @BotFather")
        return text

    @field_validator("telegram_api_url", "translate_url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator(
        "webhook_url",
        "public_url",
        "redis_url",
        "health_listen",
        "webhook_secret",
        "translate_url",
        "translate_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url", "public_url")
    @classmethod
    def _public_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (http:// only for local tests)")
        return value.rstrip("/") if value else value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_shape(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("use redis://host:6379/0")
        return value

    @field_validator("webhook_listen", "health_listen")
    @classmethod
    def _listen_shape(cls, value: str | None) -> str | None:
        if value is not None:
            split_listen(value)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("1 to 256 characters among A-Z, a-z, 0-9, _ and - (Telegram's rule)")
        return value

    def webhook_secret_token(self) -> str:
        """The secret Telegram sends with every update: WEBHOOK_SECRET, else one derived from the
        token (the same in every process of the bot, unknown to whoever does not hold the token)."""
        if self.webhook_secret is not None:
            return self.webhook_secret.get_secret_value()
        assert self.bot_token is not None
        key = self.bot_token.get_secret_value().encode()
        return hmac.new(key, b"diaspora-bridge webhook", hashlib.sha256).hexdigest()

    @field_validator("database_url")
    @classmethod
    def _database_driver(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            bad = [part for part in parts if not part.lstrip("-").isdigit()]
            if bad:
                raise ValueError(f"not a Telegram user id: {bad[0]!r} (use comma-separated numbers)")
            return frozenset(int(part) for part in parts)
        return value

    @field_validator("default_language")
    @classmethod
    def _shipped_language(cls, value: str) -> str:
        shipped = normalize_language(value)
        if shipped is None:
            raise ValueError(f"must be one of {', '.join(SHIPPED_LANGUAGES)}")
        return shipped

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone such as UTC or Europe/Paris") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value


def split_listen(value: str) -> tuple[str, int]:
    """`host:port` (`[::1]:8080` for IPv6) into its parts; ValueError when malformed."""
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("expected host:port, e.g. 127.0.0.1:8080 or 0.0.0.0:8080")
    return host.strip("[]"), int(port)


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise `SettingsError` with one line naming the first bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        reason = first["msg"].removeprefix("Value error, ")
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        if not first["loc"] and ": " in reason:  # a rule over several settings names the first
            name, reason = reason.split(": ", 1)
            name = name.upper()
        raise SettingsError(f"Setting {name} is invalid: {reason}") from None

"""Settings read from the environment and `.env` (pydantic-settings).

A missing or malformed setting stops the program with one line naming it: see `load_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_API_URL = "https://api.telegram.org"
SHIPPED_LANGUAGES = ("en", "fr", "es", "pt", "ar", "ru", "uk", "sw")


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
    # Seconds between two messages to one private chat, replies and outbox together (Telegram:
    # about one a second, short bursts tolerated); a group gets three times as long (20 a minute).
    chat_interval: float = Field(default=1.0, gt=0, le=60)
    # Updates handled at once; more wait their turn instead of waiting on the database pool (which
    # holds 15 connections, shared with the delivery engine and the scheduler).
    max_concurrent_updates: int = Field(default=10, ge=1, le=200)
    # Survey breakdowns by group: groups with fewer respondents are not shown.
    survey_min_group: int = Field(default=5, ge=2, le=1000)

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

    @field_validator("telegram_api_url")
    @classmethod
    def _url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

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
        value = value.strip().lower()
        if value not in SHIPPED_LANGUAGES:
            raise ValueError(f"must be one of {', '.join(SHIPPED_LANGUAGES)}")
        return value

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

"""Settings: defaults, parsing, and one clear line for a bad setting."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.config import PROJECT_ROOT, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in (
        "BOT_TOKEN",
        "TELEGRAM_API_URL",
        "DATABASE_URL",
        "ADMIN_IDS",
        "DEFAULT_LANGUAGE",
        "DEFAULT_TIMEZONE",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.database_url.startswith("sqlite+aiosqlite:///./data/")
    assert settings.admin_ids == frozenset()
    assert (settings.default_language, settings.default_timezone, settings.log_level) == ("en", "UTC", "INFO")


def test_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", " 111, 222 ,333")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "FR")
    settings = load_settings()
    assert settings.admin_ids == {111, 222, 333}
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1/test"
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.default_language == "fr"
    monkeypatch.setenv("DEFAULT_LANGUAGE", "zh-CN")  # as people write Chinese: the shipped catalog
    assert load_settings().default_language == "zh_Hans"


def test_env_file_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text("BOT_TOKEN=123456:ABCdef\nDEFAULT_TIMEZONE=Africa/Nairobi\n")
    settings = load_settings()
    assert settings.bot_token is not None and settings.bot_token.get_secret_value() == "123456:ABCdef"
    assert settings.default_timezone == "Africa/Nairobi"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "12,abc"),
        ("BOT_TOKEN", "not-a-token"),
        ("DEFAULT_LANGUAGE", "pl"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("LOG_LEVEL", "LOUD"),
        ("MAX_CONCURRENT_UPDATES", "0"),
    ],
)
def test_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"^Setting {name} is invalid: "):
        load_settings()


def _cli(env: dict[str, str], cwd) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """`python -m bot` of this checkout, with only the system's commands on the PATH (a fresh clone)."""
    base = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "bot"], env=base | env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_cli_without_token_explains_and_exits_0(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _cli({}, tmp_path)
    assert result.returncode == 0
    assert "@BotFather" in result.stdout and "sandbox" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_cli_without_token_suggests_only_commands_that_work_from_a_fresh_clone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`diaspora-bridge` is not on the PATH of a fresh clone (it lives in .venv/bin): every command
    the guidance suggests is a target of the Makefile, and the sandbox is `make sandbox`."""
    suggested = re.findall(r"`([^`]+)`", _cli({}, tmp_path).stdout)
    targets = set(re.findall(r"^([a-z-]+):", (PROJECT_ROOT / "Makefile").read_text(), re.MULTILINE))
    assert "make sandbox" in suggested
    for command in suggested:
        assert command.startswith("make ") and command.split()[1] in targets, command


def test_cli_with_bad_setting_prints_one_line_and_no_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _cli({"ADMIN_IDS": "1,two"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "diaspora-bridge: Setting ADMIN_IDS is invalid: not a Telegram user id: 'two' (use comma-separated numbers)"
    ]

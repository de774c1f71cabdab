"""The deploy files, checked by reading them (Docker cannot run on our machines; deploy/README.md
says which routes were also run end to end): the compose files name the services, volumes and
settings the bot reads; every path the Dockerfile copies exists; the systemd units run commands
the CLI has; the env example names only real settings."""

from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.cli import _parser
from bot.config import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}


def _compose(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


def _cli_commands() -> set[str]:
    subparsers = next(action for action in _parser()._actions if action.dest == "command")
    return set(subparsers.choices)


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


def _script_name() -> str:
    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"diaspora-bridge": "bot.cli:main"}
    return "diaspora-bridge"


def test_compose_runs_the_bot_with_postgresql_and_redis() -> None:
    compose = _compose("docker-compose.yml")
    services = compose["services"]
    assert set(services) == {"bot", "postgres", "redis"}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert "healthcheck" in service, name
    bot = services["bot"]
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / bot["build"]["dockerfile"].removeprefix("deploy/")).is_file()
    assert bot["env_file"] == ".env" and (DEPLOY / ".env.example").is_file()
    assert set(bot["environment"]) <= SETTINGS
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://diaspora:")
    assert bot["environment"]["DATABASE_URL"].endswith("@postgres:5432/diaspora")
    assert bot["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert bot["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert ":8080/" in " ".join(bot["healthcheck"]["test"])
    assert bot["environment"]["HEALTH_LISTEN"].endswith(":8080")
    used = {
        volume.split(":", 1)[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if not volume.startswith(".")
    }
    assert used == set(compose["volumes"]) == {"pgdata", "redisdata", "backups"}
    postgres = services["postgres"]["environment"]
    assert {postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]} == {"diaspora"}


def test_compose_webhook_override_puts_caddy_in_front() -> None:
    override = _compose("docker-compose.webhook.yml")
    assert set(override["services"]) == {"bot", "caddy"}
    environment = override["services"]["bot"]["environment"]
    assert set(environment) <= SETTINGS
    assert environment["WEBHOOK_URL"].startswith("https://${DOMAIN") and environment["WEBHOOK_URL"].endswith(
        "/telegram"
    )
    caddy = override["services"]["caddy"]
    mounted = [volume.split(":")[0] for volume in caddy["volumes"] if volume.startswith("./")]
    assert mounted == ["./Caddyfile"] and (DEPLOY / "Caddyfile").is_file()
    assert set(override["volumes"]) == {"caddy_data", "caddy_config"}
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert "dynamic a bot 8080" in caddyfile and "/telegram" in caddyfile
    assert "/metrics" not in caddyfile.split("handle @public")[1].split("}")[0]


def test_dockerfile_copies_what_exists_runs_as_a_user_and_checks_health() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    lines = [line.strip() for line in dockerfile.replace("\\\n", " ").splitlines()]
    assert len([line for line in lines if line.startswith("FROM ")]) == 2  # multi-stage
    assert all("slim" in line for line in lines if line.startswith("FROM "))
    for line in lines:
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _ = [part for part in shlex.split(line)[1:] if not part.startswith("--")]
            for source in sources:
                assert (PROJECT_ROOT / source).exists(), f"COPY {source}: no such path"
    assert "pybabel compile" in dockerfile
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1] not in {"root", "0"}
    healthcheck = next(line for line in lines if line.startswith("HEALTHCHECK "))
    assert "/healthz" in healthcheck
    command = re.search(r'^CMD \["([^"]+)", "([^"]+)"\]', dockerfile, re.MULTILINE)
    assert command is not None and command.group(1) == _script_name()
    assert command.group(2) in _cli_commands()
    assert "STOPSIGNAL SIGTERM" in dockerfile
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".env" in ignored


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("diaspora-bridge.service", ["run"]),
        ("diaspora-bridge-webhook@.service", ["run", "--webhook"]),
        ("diaspora-bridge-backup.service", ["backup"]),
    ],
)
def test_systemd_units_run_commands_the_cli_has(unit: str, command: list[str]) -> None:
    service = _unit(unit)["Service"]
    exec_start = service["ExecStart"]
    if exec_start.startswith("/bin/sh -c "):
        exec_start = shlex.split(exec_start)[2].removeprefix("exec ")
    argv = shlex.split(exec_start)
    assert Path(argv[0]).name == _script_name()
    assert argv[0] == "/opt/diaspora-bridge/.venv/bin/diaspora-bridge"
    assert argv[1] in _cli_commands() and argv[1 : 1 + len(command)] == command
    _parser().parse_args([arg.replace("%%", "%") for arg in argv[1:]])  # the CLI accepts them
    assert service["User"] == "diaspora-bridge" != "root"
    assert service["EnvironmentFile"] == "/etc/diaspora-bridge/env"
    assert service["WorkingDirectory"] == "/opt/diaspora-bridge"
    if unit != "diaspora-bridge-backup.service":
        assert service["Restart"] == "on-failure"
        assert service["StandardError"] == "journal"
        assert service["KillSignal"] == "SIGTERM"


def test_the_backup_timer_runs_the_backup_nightly() -> None:
    timer = _unit("diaspora-bridge-backup.timer")
    assert timer["Timer"]["Unit"] == "diaspora-bridge-backup.service"
    assert timer["Timer"]["OnCalendar"].endswith("03:30:00")
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_nginx_example_proxies_only_the_public_paths() -> None:
    conf = (DEPLOY / "nginx" / "diaspora-bridge.conf").read_text()
    assert "location = /telegram" in conf and "location /calendar/" in conf
    assert "ssl_certificate" in conf and "listen 443 ssl" in conf
    ports = re.findall(r"server 127\.0\.0\.1:(\d+)", conf)
    assert ports == ["8081", "8082"]


def test_env_example_names_only_settings_the_bot_reads() -> None:
    names = {
        line.split("=", 1)[0].strip()
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert names <= SETTINGS, names - SETTINGS
    assert {"WEBHOOK_URL", "WEBHOOK_SECRET", "REDIS_URL", "PUBLIC_URL", "HEALTH_LISTEN"} <= names


def test_readme_links_the_deploy_guide_and_says_what_ran_here() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "## Run it for your organization" in readme and "deploy/README.md" in readme
    guide = (DEPLOY / "README.md").read_text()
    for section in ("Single small server", "Docker Compose", "Several processes behind HTTPS", "Backups"):
        assert f"## {section}" in guide
    assert "What was run here" in guide

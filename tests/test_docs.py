"""The README and the guides in docs/ cannot drift from the project: every relative link and picture
points to a file that exists (and a heading that exists, for `#anchors`), every `/command` they name
is one the bot has, and every command of the bot's menus is explained somewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiogram import Router
from aiogram.filters import Command

from bot.commands import MEMBER_COMMANDS, ROLE_COMMANDS
from handlers import get_routers

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CODE_BLOCK = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
# A `/word` that stands alone: not part of a path, a URL or a ratio such as p50/p99.
COMMAND = re.compile(r"(?<![\w/.:<>*-])/([a-z][a-z0-9_]*)\b(?![/\w-]|\.\w)")
# Named in the guides but not the bot's: BotFather's command, and the web endpoints' paths.
NOT_BOT_COMMANDS = {"newbot", "healthz", "metrics", "telegram"}


def _routers(routers: list[Router]) -> Iterator[Router]:
    for router in routers:
        yield router
        yield from _routers(list(router.sub_routers))


def handled_commands() -> set[str]:
    """Every command a message handler answers (menus list most, not all: /postevent is for groups)."""
    found: set[str] = {"start"}  # CommandStart
    for router in _routers(get_routers()):
        for handler in router.message.handlers:
            for item in handler.filters or ():
                if isinstance(item.callback, Command):
                    found.update(str(command) for command in item.callback.commands)
    return found


def menu_commands() -> set[str]:
    entries = [*MEMBER_COMMANDS, *(entry for entries in ROLE_COMMANDS.values() for entry in entries)]
    return {name for name, _ in entries}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = CODE_BLOCK.sub("", path.read_text(encoding="utf-8"))
    return {slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def links(path: Path) -> list[str]:
    return LINK.findall(CODE_BLOCK.sub("", path.read_text(encoding="utf-8")))


def test_the_guides_are_found() -> None:
    names = {path.name for path in DOCS}
    assert {"README.md", "members.md", "organizers.md", "admins.md", "operators.md", "developers.md"} <= names
    readme = links(ROOT / "README.md")
    for guide in ("members", "organizers", "admins", "operators", "developers"):
        assert f"docs/{guide}.md" in readme, f"the README does not link docs/{guide}.md"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_relative_links_and_pictures_exist(doc: Path) -> None:
    broken = []
    for target in links(doc):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (doc.parent / file_part).resolve() if file_part else doc
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target} (no such heading in {linked.name})")
    assert not broken, f"{doc.name}: broken links: {broken}"


def test_the_link_check_catches_a_missing_file_and_heading(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Real heading\n[a](missing.md) [b](#real-heading) [c](#no-heading)\n")
    found = links(page)
    assert found == ["missing.md", "#real-heading", "#no-heading"]
    assert not (tmp_path / "missing.md").exists()
    assert anchors(page) == {"real-heading"}


def test_pictures_are_in_docs_img_and_small() -> None:
    pictures = {
        (doc.parent / target).resolve() for doc in DOCS for target in links(doc) if target.endswith(".png")
    }
    assert len(pictures) >= 6
    for picture in pictures:
        assert picture.parent == ROOT / "docs" / "img", picture
        assert picture.exists(), f"{picture.name} is missing"
        assert picture.stat().st_size < 300_000, f"{picture.name} is large: crop it"


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_command_named_is_a_bot_command(doc: Path) -> None:
    real = handled_commands() | NOT_BOT_COMMANDS
    named = set(COMMAND.findall(doc.read_text(encoding="utf-8")))
    unknown = sorted(named - real)
    assert not unknown, f"{doc.name} names commands the bot does not have: {unknown}"


def test_the_command_pattern_finds_commands_and_skips_paths() -> None:
    text = "Send `/events` or /help. Not docs/img, .venv/bin/python, https://x.org/a, p50/p99, /calendar/x"
    assert COMMAND.findall(text) == ["events", "help"]


def test_every_menu_command_is_explained() -> None:
    assert menu_commands() <= handled_commands(), "a menu command has no handler"
    named = {name for doc in DOCS for name in COMMAND.findall(doc.read_text(encoding="utf-8"))}
    missing = sorted(menu_commands() - named)
    assert not missing, f"commands of the bot's menus that no guide explains: {missing}"


def test_the_settings_table_lists_every_setting_and_only_those() -> None:
    """docs/operators.md's table against bot/config.py: a new setting gets a row, a removed one loses it."""
    from bot.config import Settings

    text = (ROOT / "docs" / "operators.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([A-Z_]+)` \|", text, re.MULTILINE))
    assert rows == {name.upper() for name in Settings.model_fields}

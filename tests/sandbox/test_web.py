"""The sandbox page's JSON API over the emulator and the real bot, the demo seeding and the CLI's errors."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.types import BufferedInputFile, KeyboardButton, ReplyKeyboardMarkup
from aiohttp.test_utils import TestClient, TestServer
from sqlmodel import select

from bot.charts import chart_size, render_bar_chart
from bot.config import Settings
from bot.i18n import language_name
from bot.sandbox.runner import (
    DEMO_ADMIN,
    DEMO_PEOPLE,
    DEMO_POLL,
    DEMO_SURVEY,
    DEMO_TRAINING,
    SandboxError,
    open_sandbox,
)
from bot.sandbox.web import SandboxWeb
from bot.services.events import upcoming_events
from bot.services.members import get_member
from bot.services.roles import role_holders
from bot.services.surveys import open_surveys_for
from bot.services.trainings import open_trainings_for, roster, sessions_of
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade_to_head
from storage.models import OutboxMessage, Role, Survey, Training
from storage.types import utcnow
from tests.bot_process import bot_command, bot_environment
from tests.e2e.conftest import Harness, start_harness
from tests.e2e.helpers import plain
from tests.e2e.test_registration import WELCOME

View = dict[str, Any]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The sandbox always runs on SQLite."""
    return f"sqlite+aiosqlite:///{tmp_path / 'sandbox.sqlite3'}"


@pytest.fixture
def migrated_sqlite_url(sqlite_url: str) -> str:
    upgrade_to_head(sqlite_url)
    return sqlite_url


@pytest.fixture
async def page(migrated_sqlite_url: str) -> AsyncIterator[tuple[Harness, TestClient]]:
    """The page's API over the e2e harness: the real bot polling the emulator."""
    async for harness in start_harness(migrated_sqlite_url):
        async with TestClient(TestServer(SandboxWeb(harness.emulator).app())) as client:
            yield harness, client


async def ok(response: aiohttp.ClientResponse, status: int = 200) -> Any:
    body = await response.json()
    assert response.status == status, body
    return body


async def wait_view(
    client: TestClient, user_id: int, condition: Callable[[View], Any], since: str = ""
) -> View:
    """Long-poll the chat like the page does, until `condition` holds."""
    for _ in range(20):
        view = await ok(await client.get(f"/api/chats/{user_id}", params={"since": since, "wait": "5"}))
        if condition(view):
            return view
        since = view["version"]
    raise AssertionError(f"condition never met; last view: {view}")


def bot_messages(view: View) -> list[dict[str, Any]]:
    return [message for message in view["messages"] if message["outgoing"]]


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in message["reply_markup"]["inline_keyboard"] for button in row]


async def test_a_new_user_starts_presses_a_button_and_sees_the_message_edited(
    page: tuple[Harness, TestClient],
) -> None:
    harness, client = page
    user = await ok(await client.post("/api/users", json={"first_name": "Amina", "language_code": "ar"}), 201)
    assert user["first_name"] == "Amina" and user["language_code"] == "ar"
    second = await ok(await client.post("/api/users", json={"first_name": "Bo", "language_code": "en"}), 201)
    assert [u["id"] for u in (await ok(await client.get("/api/users")))["users"]] == [
        user["id"],
        second["id"],
    ]

    await ok(await client.post(f"/api/chats/{user['id']}/messages", json={"text": "/start"}))
    view = await wait_view(client, user["id"], bot_messages)
    [greeting] = bot_messages(view)
    assert greeting["text"] == plain(
        harness.t(WELCOME, "ar", organization=harness.settings.organization_name)
    )
    assert greeting["entities"][0]["type"] == "bold"  # the page renders from text + entities
    assert language_name("fr") in labels(greeting)
    assert view["messages"][0]["text"] == "/start" and not view["messages"][0]["outgoing"]
    assert any(command["command"] == "start" for command in view["commands"])

    # Nothing changed: the long poll answers with the same version when its wait is over.
    same = await ok(
        await client.get(f"/api/chats/{user['id']}", params={"since": view["version"], "wait": "0.2"})
    )
    assert same["version"] == view["version"]

    button = next(
        b for row in greeting["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "Français"
    )
    pressed = await ok(
        await client.post(
            f"/api/chats/{user['id']}/press",
            json={
                "message_id": greeting["message_id"],
                "callback_data": button["callback_data"],
                "text": "Français",
            },
        )
    )
    assert pressed["answer"] is not None  # the bot answered the callback query

    edited = await wait_view(
        client, user["id"], lambda v: "edit_date" in bot_messages(v)[0], since=view["version"]
    )
    [notice] = bot_messages(edited)
    assert notice["message_id"] == greeting["message_id"]  # edited in place
    assert "/mydata" in notice["text"] and harness.t("✅ I agree", "fr") in labels(notice)


async def test_documents_polls_reply_keyboards_and_refusals(page: tuple[Harness, TestClient]) -> None:
    harness, client = page
    user = harness.emulator.create_user("Ivan", language_code="ru")
    bot = harness.app.bot
    await bot.send_document(user.id, BufferedInputFile(b"<script>alert(1)</script>", "notes.html"))
    await bot.send_poll(user.id, "Which day?", ["Saturday", "Sunday"], is_anonymous=False)
    chart = render_bar_chart("Which day?", ["Saturday", "Sunday"], [2, 1], ["2 · 67 %", "1 · 33 %"])
    await bot.send_photo(user.id, BufferedInputFile(chart.png, "survey-1-q1.png"), caption="Q1")
    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Yes")]], one_time_keyboard=True)
    await bot.send_message(user.id, "Coming?", reply_markup=keyboard)

    view = await ok(await client.get(f"/api/chats/{user.id}"))
    document, poll, photo, question = view["messages"]
    largest = photo["photo"][-1]  # what the page shows: the chart PNG the bot uploaded, inline
    assert (largest["width"], largest["height"]) == chart_size(2) and photo["caption"] == "Q1"
    image = await client.get(f"/api/files/{largest['file_id']}")
    assert await image.read() == chart.png and image.content_type == "image/png"
    assert "Content-Disposition" not in image.headers
    assert question["text"] == "Coming?"
    assert view["reply_keyboard"]["keyboard"] == [[{"text": "Yes"}]]
    download = await client.get(f"/api/files/{document['document']['file_id']}")
    assert await download.read() == b"<script>alert(1)</script>"
    assert download.headers["Content-Disposition"].startswith("attachment")  # never rendered as a page
    assert "sandbox" in download.headers["Content-Security-Policy"]

    await ok(
        await client.post(
            f"/api/chats/{user.id}/vote", json={"message_id": poll["message_id"], "option_ids": [1]}
        )
    )
    voted = await ok(await client.get(f"/api/chats/{user.id}"))
    assert voted["messages"][1]["sandbox_votes"] == [1]
    assert voted["messages"][1]["poll"]["options"][1]["voter_count"] == 1

    await ok(await client.post(f"/api/chats/{user.id}/messages", json={"text": "Yes"}))
    assert (await ok(await client.get(f"/api/chats/{user.id}")))["reply_keyboard"] is None  # one-time

    gone = await client.post(
        f"/api/chats/{user.id}/press", json={"message_id": 999, "callback_data": "x", "text": "x"}
    )
    assert gone.status == 404 and "error" in await gone.json()
    assert (await client.get("/api/chats/4242")).status == 404
    for bad in ({"first_name": "", "language_code": "en"}, {"first_name": "Bo", "language_code": "pl"}):
        assert "error" in await ok(await client.post("/api/users", json=bad), 400)
    plain_form = await client.post(f"/api/chats/{user.id}/messages", data={"text": "hi"})
    assert plain_form.status == 415  # another web site can't post here without a CORS preflight


async def test_the_page_is_self_contained_and_never_parses_message_html(
    page: tuple[Harness, TestClient],
) -> None:
    _, client = page
    response = await client.get("/")
    html = await response.text()
    assert response.content_type == "text/html"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no CDN, no web fonts
    assert "@import" not in html and "url(" not in html
    assert "innerHTML" not in html and "insertAdjacentHTML" not in html and "document.write" not in html
    assert 'dir="auto"' in html and "<button" in html and "<label" in html


def invitations_in(messages: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The survey invitation and the native poll among a member's messages, once both arrived
    (the training's notice may come too, or later: it waits for the member's quiet hours to end)."""
    invitation = next((m for m in messages if m.get("text", "").startswith("📋")), None)
    poll = next((m for m in messages if "poll" in m), None)
    return (invitation, poll) if invitation and poll else None


async def test_demo_seeds_members_and_roles_idempotently(sqlite_url: str) -> None:
    settings = Settings(_env_file=None, admin_ids=frozenset({5}))  # type: ignore[call-arg]
    emily = next(person for person in DEMO_PEOPLE if person.first_name == "Emily")
    for run in range(2):  # a second start finds everything in place
        async with (
            open_sandbox(settings, web_port=0, demo=True, database_url=sqlite_url) as sandbox,
            aiohttp.ClientSession() as http,
        ):
            async with http.get(f"{sandbox.url}/api/users") as response:
                users = {user["first_name"]: user for user in (await response.json())["users"]}
            async with http.post(
                f"{sandbox.url}/api/users", json={"first_name": "New", "language_code": "sw"}
            ) as r:
                newcomer = await r.json()
            admin = sandbox.emulator.users[DEMO_ADMIN.telegram_id]
            assert any(c["command"] == "admin" for c in sandbox.emulator.visible_commands(admin))
            async with create_session_factory(sandbox.app.engine)() as session:
                holders = await role_holders(session, sandbox.app.dispatcher["organization"].id)
            assert sandbox.app.settings.admin_ids == {5, DEMO_ADMIN.telegram_id}
            if run == 0:  # the seeded survey and poll reach a demo member through the outbox
                received = await sandbox.emulator.wait_for(
                    lambda emu: invitations_in(emu.transcript(emu.users[emily.telegram_id])), timeout=20
                )

    assert set(users) == {person.first_name for person in DEMO_PEOPLE}
    assert users["Fatou"]["role"] == "organizer" and users["Oksana"]["role"] == "coordinator"
    assert users["Admin"]["role"] == "super-admin" and users["Amina"]["role"] is None
    assert newcomer["id"] > max(person.telegram_id for person in DEMO_PEOPLE)  # never a seeded member's id
    assert {(member.display_name, role) for member, role in holders} == {
        ("Fatou Diop", Role.ORGANIZER),
        ("Oksana Kovalenko", Role.COORDINATOR),
    }
    engine = create_engine(sqlite_url)
    async with create_session_factory(engine)() as session:
        for person in DEMO_PEOPLE:
            member = await get_member(session, person.telegram_id)
            assert member is not None and member.is_registered and member.profile_completed_at is not None
            assert (member.display_name, member.language, member.timezone) == (
                person.name,
                person.language,
                person.timezone,
            )
            assert (member.residence_city, list(member.interests)) == (person.city, list(person.interests))
        page = await upcoming_events(session, None, member, utcnow(), 0, 10)
        assert [event.status for event in page.events] == ["published", "published"]  # seeded once, not twice

        [training] = (await session.exec(select(Training).where(Training.title == DEMO_TRAINING))).all()
        assert training.status == "open" and training.capacity == 3 and "fr" in training.translations
        assert len(training.questions) == 2 and len(await sessions_of(session, training.id)) == 2
        signed_up = await roster(session, training.id)
        assert [entry.member.display_name for entry in signed_up.confirmed] == [
            "Ivan Rusu",
            "Wanjiru Kamau",
            "Amina Hassan",
        ]
        assert [(entry.member.display_name, entry.position) for entry in signed_up.waitlisted] == [
            ("Carlos Mendoza", 1)
        ]
        assert [t.title for t in await open_trainings_for(session, member, utcnow())] == [DEMO_TRAINING]

        surveys = (await session.exec(select(Survey).order_by(Survey.id))).all()
        assert [(s.title, s.native_poll, s.status) for s in surveys] == [
            (DEMO_SURVEY, False, "open"),
            (DEMO_POLL, True, "open"),
        ]
        # /surveys lists the survey (a native poll is answered where it was sent, in the chat)
        assert [s.title for s in await open_surveys_for(session, member, utcnow())] == [DEMO_SURVEY]
        invitations = (
            await session.exec(select(OutboxMessage.ref_id).where(OutboxMessage.kind == "survey"))
        ).all()
        assert sorted(invitations) == sorted([s.id for s in surveys] * len(DEMO_PEOPLE))  # invited once
    await engine.dispose()

    invitation, poll = received
    assert invitation["text"].startswith(f"📋 New survey: {DEMO_SURVEY}\n4 questions.")
    assert invitation["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("sv:")
    assert poll["poll"]["question"] == "Which day suits you for the summer picnic?"
    assert [option["text"] for option in poll["poll"]["options"]] == ["Saturday", "Sunday"]


def busy_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


async def test_a_taken_port_is_one_clear_error() -> None:
    with busy_port() as sock:
        port = sock.getsockname()[1]
        with pytest.raises(SandboxError, match=f"127.0.0.1:{port}.*--port"):
            async with open_sandbox(Settings(_env_file=None), web_port=port):  # type: ignore[call-arg]
                pass


def test_cli_sandbox_on_a_taken_port_prints_one_line_and_exits_1(tmp_path: Path) -> None:
    with busy_port() as sock:
        port = sock.getsockname()[1]
        result = subprocess.run(
            bot_command("sandbox", "--port", str(port)),
            cwd=tmp_path,
            env=bot_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=120,  # a hang guard: the start-up alone takes seconds on a busy machine
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"diaspora-bridge: cannot serve the sandbox on 127.0.0.1:{port}: "
        "the port is in use (another sandbox?); choose another one with --port"
    ]
    assert not (tmp_path / "data").exists()  # it failed before touching any database

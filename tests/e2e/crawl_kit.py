"""A crawler over every screen and button, driven through the Bot API emulator as a member would.

From the commands of the member's menu it presses every inline button it can reach, breadth first
(bounded in depth, in presses and in presses of one kind of button), and checks every step against
the definition of done: each press answered, each private message replied to, no Bot API call
refused (the emulator checks Telegram's limits and HTML), everything shown in the member's language
(no English text of the catalogs left untranslated), no traceback and no apology. Each pressed
button's data is then replayed by another member (a forged tap): answered, and nothing of anyone
else changed. The buttons that end the crawl (erasing one's data, leaving the organization,
declining consent) are pressed last.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from dataclasses import dataclass, field
from functools import cache
from html import unescape
from typing import Any

from aiogram.filters.callback_data import CallbackData
from sqlalchemy import Table, select
from sqlmodel import SQLModel

from bot.sandbox import SimUser
from bot.sandbox.emulator import WAIT
from tests.e2e.conftest import Harness

# Buttons that end what the crawl can see (the member's data erased, their organization left, their
# consent declined): pressed after everything else. A language other than the member's is never
# chosen (the rest of the crawl would be in another language).
FINAL = (re.compile(r"^forget:1$"), re.compile(r"^morg:confirm:"), re.compile(r"^consent:0$"))
# The tables a forged tap may touch: the updates' own bookkeeping and the forger's dialog state.
BOOKKEEPING = {"inbox", "dialog_states", "alembic_version"}
# A press that would show what the message already shows: Telegram refuses the edit, and the bot
# takes that as done (`bot.reply_requests`); a preset that is also the default does it.
NOT_MODIFIED = "message is not modified"
# What the member must never see.
FAILURE_WORDS = ("Traceback", "Internal", "Exception", "sandbox bug", "NoneType", "callback_data")


@dataclass(frozen=True)
class Press:
    message_id: int
    data: str
    label: str
    depth: int
    path: tuple[str, ...]


@dataclass
class Crawl:
    """One member's crawl: `run` it, then read `problems` (empty when all is well)."""

    harness: Harness
    user: SimUser
    locale: str
    max_presses: int = 24  # after each command
    max_depth: int = 4
    per_kind: int = 2
    pressed: list[Press] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _seen_data: set[str] = field(default_factory=set)
    _kinds: dict[str, int] = field(default_factory=dict)
    _queue: deque[Press] = field(default_factory=deque)
    _final: list[Press] = field(default_factory=list)
    _shown: dict[int, str] = field(default_factory=dict)  # message id -> what was last checked
    _last_path: str = ""

    # --- driving --------------------------------------------------------------------------------

    async def command(self, text: str) -> None:
        """Send a command (or any text): the bot must reply with a message."""
        before, calls = self._outgoing_count(), len(self.harness.emulator.calls)
        await self.harness.emulator.send_text(self.user, text)
        await settled(self.harness)
        self._refused(calls, text)
        self._last_path = text
        if self._outgoing_count() == before:
            self.problems.append(f"{text}: no reply")
        self._look((text,), 0)

    async def interrupt(self) -> None:
        """A command typed wherever the crawl left the member (in a dialog, maybe), then /cancel:
        the command is named unknown, or its reply says how to leave the dialog (/cancel), or it
        ended the dialog (saying why: /cancel then finds nothing to cancel). (Any message sent
        meanwhile may be the reply: the outbox may deliver a notice at the same time.)"""
        where, t = self._last_path, self.harness.t
        sent = self._outgoing_count()
        await self.command("/frobnicate")
        replies = [_shown_text(m) for m in self._outgoing()[sent:]]
        await self.command("/cancel")
        ended = _shown_text(self._outgoing()[-1]) == t("There is nothing to cancel.", self.locale)
        unknown = t(
            "I don't know the command {command}. Send /help to see what I can do.",
            self.locale,
            command="/frobnicate",
        )
        if not ended and not any(reply == unknown or "/cancel" in reply for reply in replies):
            self.problems.append(f"a command typed after {where} taken as an answer: {replies!r:.300}")

    def _outgoing(self) -> list[dict[str, Any]]:
        return [m for m in self.harness.emulator.transcript(self.user.id) if m["outgoing"]]

    async def run(self) -> None:
        """Press what is queued, breadth first, up to `max_presses` (the final buttons are kept
        for `finish`); what is left is dropped (the next command starts a queue of its own)."""
        pressed = len(self.pressed)
        while self._queue and len(self.pressed) - pressed < self.max_presses:
            await self._press(self._queue.popleft())
        self._queue.clear()

    async def finish(self) -> None:
        """Press the buttons that end the crawl."""
        for press in self._final:
            await self._press(press)

    async def _press(self, press: Press) -> None:
        emulator = self.harness.emulator
        try:
            current = self.harness.message(self.user, press.message_id)
        except LookupError:
            return  # deleted meanwhile
        if press.data not in {b.get("callback_data") for b in _buttons(current)}:
            return  # the message changed: the button is gone (its data is replayed as a forgery)
        self.pressed.append(press)
        self._last_path = " > ".join(press.path)
        calls = len(emulator.calls)
        query = await emulator.press_button(self.user, current, callback_data=press.data)
        await settled(self.harness)
        answer = emulator.callback_answers.get(query)
        where = " > ".join(press.path)
        self._refused(calls, where)
        if answer is None:
            self.problems.append(f"{where}: the press was not answered")
        elif answer.get("text"):
            self._check_text(str(answer["text"]), f"{where} (toast)")
        self._look(press.path, press.depth)

    # --- observing ------------------------------------------------------------------------------

    def _refused(self, since: int, where: str) -> None:
        """The Bot API calls since call number `since` that the emulator refused."""
        for call in self.harness.emulator.calls[since:]:
            if call.ok is False and NOT_MODIFIED not in (call.description or ""):
                self.problems.append(f"{where}: {call.method} refused: {call.description}")

    def _outgoing_count(self) -> int:
        return len(self._outgoing())

    def _look(self, path: tuple[str, ...], depth: int) -> None:
        """Check every message new or changed since the last look; queue its buttons."""
        for message in self.harness.emulator.transcript(self.user.id):
            if not message["outgoing"]:
                continue
            state = repr((_shown_text(message), message.get("reply_markup")))
            if self._shown.get(message["message_id"]) == state:
                continue
            self._shown[message["message_id"]] = state
            where = " > ".join(path)
            self._check_text(_shown_text(message), where)
            for button in _buttons(message):
                self._check_text(button["text"], f"{where} [button]")
                data = button.get("callback_data")
                if data is not None:
                    self._queue_press(Press(message["message_id"], data, button["text"], depth + 1, path))

    def _queue_press(self, press: Press) -> None:
        if press.data in self._seen_data or press.depth > self.max_depth:
            return
        if press.data.startswith("lang:") and press.data.split(":")[1] != self.locale:
            return
        press = Press(press.message_id, press.data, press.label, press.depth, (*press.path, press.label))
        if any(pattern.search(press.data) for pattern in FINAL):
            self._seen_data.add(press.data)
            self._final.append(press)
            return
        kind = _kind(press.data)
        if self._kinds.get(kind, 0) >= self.per_kind:
            return
        self._kinds[kind] = self._kinds.get(kind, 0) + 1
        self._seen_data.add(press.data)
        self._queue.append(press)

    def _check_text(self, text: str, where: str) -> None:
        for word in FAILURE_WORDS:
            if word in text:
                self.problems.append(f"{where}: {word!r} shown: {text[:200]!r}")
        if self.locale != "en":
            for leak in english_leaks(self.harness, text, self.locale):
                self.problems.append(f"{where}: English in {self.locale}: {leak!r} in {text[:160]!r}")

    # --- forged taps ----------------------------------------------------------------------------

    async def replay_as(self, forger: SimUser, anchor: dict[str, Any], own: set[int]) -> list[str]:
        """Every pressed button's data pressed by `forger` on their own message: each answered,
        no apology, and no row changed but the forger's own (`own`: their member id and chat id).
        The rows are compared once around all the presses, and around each only if they changed."""
        before = await snapshot(self.harness, own)
        problems = await self._forge_all(forger, anchor, own, each=False)
        if await snapshot(self.harness, own) != before:
            problems = await self._forge_all(forger, anchor, own, each=True)
            problems.append(f"forged taps changed rows: {_diff(before, await snapshot(self.harness, own))}")
        return problems

    async def _forge_all(
        self, forger: SimUser, anchor: dict[str, Any], own: set[int], each: bool
    ) -> list[str]:
        problems = []
        for press in self.pressed:
            before = await snapshot(self.harness, own) if each else None
            calls = len(self.harness.emulator.calls)
            query = await self.harness.emulator.press_button(
                forger, anchor, callback_data=press.data, forge=True
            )
            await settled(self.harness)
            where = " > ".join(press.path) + f" [{press.data}] forged"
            if self.harness.emulator.callback_answers.get(query) is None:
                problems.append(f"{where}: not answered")
            if before is not None and before != (after := await snapshot(self.harness, own)):
                problems.append(f"{where}: changed {_diff(before, after)}")
            problems += [
                f"{where}: {call.method} refused: {call.description}"
                for call in self.harness.emulator.calls[calls:]
                if call.ok is False and NOT_MODIFIED not in (call.description or "")
            ]
        return problems


def _buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button for row in rows for button in row]


def _shown_text(message: dict[str, Any]) -> str:
    poll = message.get("poll") or {}
    parts = [message.get("text"), message.get("caption"), poll.get("question")]
    parts += [option.get("text") for option in poll.get("options") or ()]
    return "\n".join(str(part) for part in parts if part)


def _kind(data: str) -> str:
    """A button's kind: its prefix, and its action when its callback data has one (one screen's
    pages, countries, zones, interests or choices are one kind)."""
    prefix, _, rest = data.partition(":")
    return f"{prefix}:{rest.split(':')[0]}" if prefix in _with_action() else prefix


@cache
def _with_action() -> frozenset[str]:
    """The prefixes of the callback data whose first field is an action (the handlers' modules are
    all imported by then: the bot runs)."""

    def classes(cls: type[CallbackData]) -> list[type[CallbackData]]:
        return [found for sub in cls.__subclasses__() for found in (sub, *classes(sub))]

    return frozenset(
        cls.__prefix__ for cls in classes(CallbackData) if next(iter(cls.model_fields), "") == "action"
    )


async def settled(harness: Harness, timeout: float = WAIT) -> None:
    """Wait until the bot has taken every update, handled it and sent what it had to send (the
    inbox and the delivery engine tell no one when they finish: they are looked at every 5 ms;
    `timeout` is a guard against a bot that never settles, not a bound)."""
    emulator, inbox, delivery = harness.emulator, harness.app.inbox, harness.app.delivery
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while emulator.pending_updates or delivery._in_flight or (inbox is not None and not inbox.idle):
        if loop.time() > deadline:
            raise TimeoutError("the bot is still busy")
        await asyncio.sleep(0.005)


# --- the language check -------------------------------------------------------------------------------


def english_leaks(harness: Harness, text: str, locale: str) -> list[str]:
    """English text of the catalogs shown to a member of `locale`: a whole line or label that is an
    English message id translated otherwise, or a phrase (three words or more) of one."""
    phrases, whole, native = _catalog_text(harness, locale)
    leaks = []
    for line in {text.strip(), *(line.strip() for line in text.splitlines())}:
        if line in whole and line not in native:
            leaks.append(line)
    leaks += [phrase for phrase in phrases if phrase in text]
    return leaks


_CACHE: dict[tuple[str, str], tuple[list[str], set[str], str]] = {}


def _catalog_text(harness: Harness, locale: str) -> tuple[list[str], set[str], str]:
    key = (str(harness.i18n.path), locale)
    if key not in _CACHE:
        catalog = harness.i18n.locales[locale]._catalog  # type: ignore[attr-defined]
        translations = [str(value) for value in catalog.values() if value]
        native = "\n".join(_plain(value) for value in translations)
        whole: set[str] = set()
        phrases: set[str] = set()
        for msgid, translated in catalog.items():
            source = msgid[0] if isinstance(msgid, tuple) else msgid
            if not source or not translated or source == translated:
                continue
            plain = _plain(source)
            if len(re.findall(r"[A-Za-z]{3,}", plain)) >= 1 and "{" not in plain:
                whole.add(plain.strip())
            for piece in re.split(r"\{[^}]*\}|\n", plain):
                piece = piece.strip(" .,:;!?()«»\"'“”-—")
                if len(re.findall(r"[A-Za-z]{2,}", piece)) >= 3 and len(piece) >= 14 and piece not in native:
                    phrases.add(piece)
        _CACHE[key] = (sorted(phrases), whole, native)
    return _CACHE[key]


def _plain(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


# --- what a forged tap may not change -------------------------------------------------------------------


async def snapshot(harness: Harness, own: set[int]) -> dict[str, set[str]]:
    """Every row of every table but the bookkeeping ones, less the rows of the forger (`own`: ids
    that, in a member_id, telegram_id, chat_id or id column of members, mark a row theirs)."""
    shot: dict[str, set[str]] = {}
    async with harness.app.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            rows = (await connection.execute(select(table))).mappings().all()
            shot[table.name] = {repr(dict(row)) for row in rows if not _owned(table, row, own)}
    return shot


def _owned(table: Table, row: Any, own: set[int]) -> bool:
    columns = ("member_id", "telegram_id", "chat_id", "target_member_id") + (
        ("id",) if table.name == "members" else ()
    )
    return any(row.get(column) in own for column in columns if column in table.c)


def _diff(before: dict[str, set[str]], after: dict[str, set[str]]) -> str:
    changes = []
    for name in before:
        gone, new = before[name] - after[name], after[name] - before[name]
        if gone or new:
            changes.append(f"{name}: -{sorted(gone)[:2]} +{sorted(new)[:2]}")
    return "; ".join(changes)

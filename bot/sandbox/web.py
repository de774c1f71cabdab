"""The sandbox web page: chat with the real bot in a browser, through the Bot API emulator.

One self-contained page (inline CSS and JS, nothing fetched from the internet) and a small JSON API:

    GET  /api/info                         bot, languages
    GET  /api/users                        simulated users (with their role, when known)
    POST /api/users                        {first_name, username?, language_code} -> a new user
    GET  /api/chats/<user>?since=&wait=    the private chat: messages, reply keyboard, commands, version
                                           (waits up to `wait` seconds while the version is `since`)
    POST /api/chats/<user>/messages        {text}: the user sends a text
    POST /api/chats/<user>/press           {message_id, callback_data, text?}: press an inline button
    POST /api/chats/<user>/vote            {message_id, option_ids}: answer a poll
    GET  /api/files/<file_id>[?download=1] the bytes behind a file_id

The page builds every message from its ``text`` and ``entities``: no bot or user text is ever parsed as HTML.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import language_name

from .emulator import BotAPIEmulator
from .state import SimUser

RoleLookup = Callable[[], Awaitable[dict[int, str]]]
MAX_WAIT = 25.0  # seconds a chat request may wait for a change
ANSWER_WAIT = 8.0  # seconds a button press waits for the bot's answerCallbackQuery
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
_IMAGE_MAGIC = (
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8", "image/jpeg"),
    (b"GIF8", "image/gif"),
)


class SandboxWeb:
    """The web page and JSON API over one emulator (only private chats with the bot)."""

    def __init__(
        self, emulator: BotAPIEmulator, *, roles: RoleLookup | None = None, first_user_id: int = 100_001
    ) -> None:
        self.emulator = emulator
        self.roles = roles
        self.first_user_id = first_user_id

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_errors_as_json], client_max_size=64 * 1024)
        app.router.add_get("/", self.page)
        app.router.add_get("/favicon.ico", self.no_icon)
        app.router.add_get("/api/info", self.info)
        app.router.add_get("/api/users", self.users)
        app.router.add_post("/api/users", self.create_user)
        app.router.add_get(r"/api/chats/{user_id:\d+}", self.chat)
        app.router.add_post(r"/api/chats/{user_id:\d+}/messages", self.send)
        app.router.add_post(r"/api/chats/{user_id:\d+}/press", self.press)
        app.router.add_post(r"/api/chats/{user_id:\d+}/vote", self.vote)
        app.router.add_get("/api/files/{file_id}", self.file)
        return app

    # --- page and people ----------------------------------------------------------------------------------

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html", headers=PAGE_HEADERS)

    async def no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def info(self, request: web.Request) -> web.Response:
        languages = [{"code": code, "name": language_name(code)} for code in SHIPPED_LANGUAGES]
        return web.json_response({"bot": self.emulator.bot_user, "languages": languages})

    async def users(self, request: web.Request) -> web.Response:
        roles: dict[int, str] = {}
        if self.roles is not None:
            with contextlib.suppress(Exception):  # a badge is not worth failing the list for
                roles = await self.roles()
        users = [self._user(user, roles.get(user.id)) for user in self.emulator.users.values()]
        return web.json_response({"users": users})

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _body(request)
        first_name = " ".join(str(body.get("first_name") or "").split())
        username = str(body.get("username") or "").strip().removeprefix("@") or None
        language = str(body.get("language_code") or "")
        if not 1 <= len(first_name) <= 64:
            raise web.HTTPBadRequest(text="first_name: 1 to 64 characters")
        if username is not None and not _USERNAME.fullmatch(username):
            raise web.HTTPBadRequest(text="username: 5 to 32 letters, digits or _")
        taken = {(user.username or "").lower() for user in self.emulator.users.values()}
        if username is not None and username.lower() in taken:
            raise web.HTTPBadRequest(text="username: taken")
        if language not in SHIPPED_LANGUAGES:
            raise web.HTTPBadRequest(text=f"language_code: one of {' '.join(SHIPPED_LANGUAGES)}")
        user_id = max([self.first_user_id - 1, *self.emulator.users]) + 1
        user = self.emulator.create_user(
            first_name, username=username, language_code=language, user_id=user_id
        )
        return web.json_response(self._user(user, None), status=201)

    @staticmethod
    def _user(user: SimUser, role: str | None) -> dict[str, Any]:
        return {**user.to_dict(), "role": role, "blocked": user.blocked}

    # --- a user's private chat ----------------------------------------------------------------------------

    def _sim_user(self, request: web.Request) -> SimUser:
        user = self.emulator.users.get(int(request.match_info["user_id"]))
        if user is None:
            raise web.HTTPNotFound(text="no such user")
        return user

    def view(self, user: SimUser) -> dict[str, Any]:
        """What the user's Telegram app shows: messages, reply keyboard and command menu, with a version."""
        messages = self.emulator.transcript(user)
        for message in messages:
            if "poll" in message and (state := self.emulator.polls.get(message["poll"]["id"])):
                message["sandbox_votes"] = state.votes.get(user.id, [])
        view: dict[str, Any] = {
            "messages": messages,
            "reply_keyboard": reply_keyboard(messages),
            "commands": self.emulator.visible_commands(user),
        }
        encoded = json.dumps(view, sort_keys=True, ensure_ascii=False).encode()
        view["version"] = hashlib.sha1(encoded, usedforsecurity=False).hexdigest()[:16]
        return view

    async def chat(self, request: web.Request) -> web.Response:
        user = self._sim_user(request)
        since = request.query.get("since", "")
        try:
            wait = min(max(float(request.query.get("wait", "0")), 0.0), MAX_WAIT)
        except ValueError:
            raise web.HTTPBadRequest(text="wait: seconds") from None
        view = self.view(user)
        if since and view["version"] == since and wait:
            with contextlib.suppress(TimeoutError):
                view = await self.emulator.wait_for(
                    lambda _: (current := self.view(user))["version"] != since and current, timeout=wait
                )
        return web.json_response({**view, "user": self._user(user, None)})

    async def send(self, request: web.Request) -> web.Response:
        user = self._sim_user(request)
        text = str((await _body(request)).get("text") or "")
        if not text.strip() or len(text) > 4096:
            raise web.HTTPBadRequest(text="text: 1 to 4096 characters")
        message = await self.emulator.send_text(user, text)
        return web.json_response({"message_id": message["message_id"]})

    async def press(self, request: web.Request) -> web.Response:
        user = self._sim_user(request)
        body = await _body(request)
        text, data = body.get("text"), body.get("callback_data")
        if not isinstance(data, str) or not isinstance(text, str | None):
            raise web.HTTPBadRequest(text="callback_data: a string (and text: the button's label)")
        query_id = await self.emulator.press_button(user, _integer(body, "message_id"), text, data)
        with contextlib.suppress(TimeoutError):
            await self.emulator.wait_for(lambda emu: emu.callback_answers.get(query_id), timeout=ANSWER_WAIT)
        return web.json_response(
            {"query_id": query_id, "answer": self.emulator.callback_answers.get(query_id)}
        )

    async def vote(self, request: web.Request) -> web.Response:
        user = self._sim_user(request)
        body = await _body(request)
        options = body.get("option_ids")
        if not isinstance(options, list) or not all(isinstance(i, int) for i in options):
            raise web.HTTPBadRequest(text="option_ids: a list of numbers")
        poll = await self.emulator.answer_poll(user, _integer(body, "message_id"), options)
        return web.json_response({"poll": poll})

    async def file(self, request: web.Request) -> web.Response:
        stored = self.emulator.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound(text="no such file")
        mime = stored.mime_type or _sniff(stored.data)
        headers = {
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Content-Type-Options": "nosniff",
        }
        inline = mime.startswith(("image/", "audio/")) and mime != "image/svg+xml"
        if request.query.get("download") or not inline:
            name = quote(stored.file_name or stored.file_path.rsplit("/", 1)[-1] or "file")
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
        return web.Response(body=stored.data, content_type=mime, headers=headers)


def reply_keyboard(messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The reply keyboard (or force reply) shown above the input after these messages, if any."""
    current: dict[str, Any] | None = None
    for message in messages:
        if message["outgoing"] and "reply_keyboard" in message:
            markup = message["reply_keyboard"]
            current = markup if "keyboard" in markup or "force_reply" in markup else None
        elif (
            not message["outgoing"]
            and current
            and (current.get("one_time_keyboard") or "force_reply" in current)
        ):
            current = None
    return current


@web.middleware
async def _errors_as_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Refusals of the emulator (a deleted message, a closed poll...) as ``{"error": ...}`` answers."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        return web.json_response({"error": error.text or error.reason}, status=error.status)
    except LookupError as error:
        return web.json_response({"error": str(error)}, status=404)
    except (ValueError, RuntimeError) as error:
        return web.json_response({"error": str(error)}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    """The JSON object posted; JSON only, so other web sites can't post here with a plain form."""
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send application/json")
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body


def _integer(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise web.HTTPBadRequest(text=f"{name}: a number")
    return value


def _sniff(data: bytes) -> str:
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


# --- the page -----------------------------------------------------------------------------------------------

_CSS = """
:root { --accent: #3390ec; --bg: #dfe7d8; --side: #fff; --in: #fff; --out: #e3fcd0; --muted: #707579;
  --line: #e4e6e9; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
* { box-sizing: border-box; }
html, body { height: 100%; margin: 0; }
body { display: grid; grid-template-columns: 300px 1fr; color: #000; font-size: 15px; }
button, input, select { font: inherit; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
#side { background: var(--side); border-right: 1px solid var(--line); display: flex; flex-direction: column;
  min-height: 0; overflow: auto; }
#side h1 { font-size: 17px; margin: 14px 16px 6px; }
#side h1 small { color: var(--muted); font-weight: 400; }
#side h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  margin: 14px 16px 6px; }
#users { list-style: none; margin: 0; padding: 0 6px; }
.user { display: flex; gap: 10px; align-items: center; width: 100%; padding: 8px 10px; border: 0;
  border-radius: 10px; background: none; text-align: start; cursor: pointer; }
.user:hover { background: #f4f4f5; }
.user[aria-current="true"] { background: var(--accent); color: #fff; }
.user[aria-current="true"] .meta { color: #e6f0fc; }
.avatar { flex: none; width: 40px; height: 40px; border-radius: 50%; display: grid; place-items: center;
  color: #fff; font-weight: 600; font-size: 17px; }
.who { min-width: 0; flex: 1; }
.name { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.line { display: flex; align-items: center; gap: 6px; min-width: 0; }
.meta { color: var(--muted); font-size: 13px; }
.badge { flex: none; font-size: 11px; padding: 1px 7px; border-radius: 8px; background: #e7f0fd;
  color: #1f5fa8; white-space: nowrap; }
.user[aria-current="true"] .badge { background: #fff3; color: #fff; }
#new-user { display: grid; gap: 8px; margin: 0 16px 10px; }
#new-user label { display: grid; gap: 3px; font-size: 13px; color: var(--muted); }
#new-user input, #new-user select { padding: 7px 9px; border: 1px solid #d0d4d8; border-radius: 8px;
  color: #000; background: #fff; }
.primary { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 8px 14px;
  cursor: pointer; font-weight: 600; }
.hint { color: var(--muted); font-size: 12px; margin: auto 16px 14px; }
#chat { display: flex; flex-direction: column; min-width: 0; min-height: 0; height: 100vh;
  background: var(--bg); }
#chat > header { background: #fff; border-bottom: 1px solid var(--line); padding: 8px 16px; display: flex;
  gap: 10px; align-items: center; }
#chat > header .meta { display: block; }
#messages { flex: 1; overflow-y: auto; padding: 12px max(12px, calc((100% - 760px) / 2)); display: flex;
  flex-direction: column; gap: 6px; }
.empty { margin: auto; background: #0003; color: #fff; padding: 6px 14px; border-radius: 14px; }
.row { display: flex; flex-direction: column; align-items: flex-start; max-width: min(560px, 88%); }
.row.mine { align-self: flex-end; align-items: flex-end; }
.bubble { background: var(--in); border-radius: 14px 14px 14px 4px; padding: 6px 10px 4px;
  box-shadow: 0 1px 1px #0002; overflow-wrap: anywhere; min-width: 60px; }
.mine .bubble { background: var(--out); border-radius: 14px 14px 4px 14px; }
/* Each paragraph (line) takes its own direction from its first strong letter and aligns to its own
   start, as Telegram's apps do: an Arabic line after a Latin one is laid out right to left. */
.text { white-space: pre-wrap; line-height: 1.35; unicode-bidi: plaintext; text-align: start; }
.time { float: inline-end; margin: 6px 0 0 10px; color: var(--muted); font-size: 11px; }
.service { align-self: center; background: #0003; color: #fff; font-size: 13px; padding: 3px 10px;
  border-radius: 12px; }
.quote { border-inline-start: 3px solid var(--accent); padding: 2px 8px; margin-bottom: 4px;
  background: #3390ec14; border-radius: 4px; font-size: 13px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; max-width: 420px; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; }
code { background: #0000000d; padding: 0 3px; border-radius: 4px; }
pre { background: #0000000d; padding: 6px 8px; border-radius: 6px; overflow-x: auto; margin: 4px 0; }
pre code { background: none; padding: 0; }
blockquote { margin: 4px 0; padding: 2px 8px; border-inline-start: 3px solid var(--accent);
  background: #3390ec14; border-radius: 4px; }
a { color: #1c6fd1; }
.spoiler { background: #8889; color: transparent; border-radius: 3px; cursor: pointer; }
.spoiler.open { background: #8882; color: inherit; }
.linkish { border: 0; background: none; padding: 0; color: #1c6fd1; cursor: pointer; font: inherit; }
.photo { display: block; width: auto; height: auto; max-width: 100%; max-height: 320px; border-radius: 10px;
  margin-bottom: 4px; image-rendering: auto; min-width: 80px; }
.doc { display: flex; gap: 8px; align-items: center; text-decoration: none; color: inherit; padding: 4px 0; }
.doc .icon { width: 40px; height: 40px; border-radius: 50%; background: var(--accent); color: #fff;
  display: grid; place-items: center; }
.sticker { font-size: 48px; }
.poll { min-width: 240px; }
.poll-q { font-weight: 600; }
.poll-kind { color: var(--muted); font-size: 12px; margin-bottom: 6px; }
.poll-opt { display: block; width: 100%; margin: 4px 0; padding: 6px 10px; border: 1px solid var(--accent);
  color: var(--accent); background: #fff; border-radius: 8px; cursor: pointer; text-align: start; }
.poll-result { margin: 6px 0; }
.poll-bar { height: 4px; background: var(--accent); border-radius: 2px; margin-top: 2px; min-width: 2px; }
.inline-kb { display: grid; gap: 4px; margin-top: 4px; width: 100%; }
.kb-row { display: flex; gap: 4px; }
.kb-btn { flex: 1; background: #0000002e; color: #fff; border: 0; border-radius: 8px; padding: 8px 10px;
  cursor: pointer; font-weight: 500; text-align: center; text-decoration: none; min-width: 0;
  text-shadow: 0 1px 1px #0003; }
.kb-btn:hover { background: #00000040; }
.kb-btn:disabled { opacity: .5; cursor: not-allowed; }
#reply-kb { display: grid; gap: 6px; padding: 6px 10px; background: #f1f3f5;
  border-top: 1px solid var(--line); }
#reply-kb .kb-btn { background: #fff; color: #000; text-shadow: none; box-shadow: 0 1px 1px #0002; }
#commands { background: #fff; border-top: 1px solid var(--line); max-height: 40vh; overflow: auto; margin: 0;
  padding: 4px 0; list-style: none; }
#commands button { display: flex; gap: 12px; width: 100%; border: 0; background: none; padding: 8px 16px;
  text-align: start; cursor: pointer; }
#commands button:hover, #commands button:focus { background: #f4f4f5; }
#commands b { color: var(--accent); min-width: 90px; }
#composer { display: flex; gap: 8px; padding: 8px 10px; background: #fff; border-top: 1px solid var(--line); }
#composer textarea { flex: 1; min-width: 0; border: 1px solid #d0d4d8; border-radius: 20px; padding: 9px 14px;
  resize: none; font: inherit; line-height: 1.35; max-height: 40vh; overflow-y: auto; }
#composer textarea:focus, #new-user :is(input, select):focus { outline: 2px solid var(--accent);
  outline-offset: -1px; border-color: transparent; }
#chat > header .name, .doc .name { display: block; }
#bot-avatar { background: var(--accent); }
#menu-btn { border: 0; background: var(--accent); color: #fff; border-radius: 20px; padding: 0 14px;
  cursor: pointer; font-weight: 700; }
#send { border-radius: 20px; }
#toast { position: fixed; left: 50%; top: 18px; transform: translateX(-50%); background: #000c; color: #fff;
  padding: 10px 16px; border-radius: 10px; max-width: min(90vw, 420px); white-space: pre-wrap;
  z-index: 10; }
#toast.alert { top: 40%; background: #fff; color: #000; box-shadow: 0 6px 30px #0005; }
#toast button { display: block; margin: 10px 0 0 auto; }
#offline { background: #c0392b; color: #fff; text-align: center; padding: 4px; font-size: 13px; }
[hidden] { display: none !important; }
@media (max-width: 720px) {
  body { grid-template-columns: 1fr; grid-template-rows: auto 1fr; }
  #side { max-height: 34vh; border-right: 0; border-bottom: 1px solid var(--line); }
  #chat { height: auto; min-height: 0; }
  .hint { display: none; }
}
"""

_BODY = """
<aside id="side" aria-label="Simulated users">
  <h1>Diaspora Bridge <small>sandbox</small></h1>
  <h2 id="users-title">Users</h2>
  <ul id="users" aria-labelledby="users-title"></ul>
  <h2 id="new-title">New user</h2>
  <form id="new-user" aria-labelledby="new-title">
    <label>First name
      <input id="nu-name" name="first_name" required maxlength="64" autocomplete="off"></label>
    <label>Username (optional) <input id="nu-username" name="username" maxlength="32" autocomplete="off"
      pattern="@?[A-Za-z][A-Za-z0-9_]{4,31}" title="5 to 32 letters, digits or _"></label>
    <label>Telegram app language <select id="nu-language" name="language_code"></select></label>
    <button class="primary" type="submit">Create user</button>
  </form>
  <p class="hint">Everything runs on this computer: a local Telegram emulator and the real bot.
    No token, no internet.</p>
</aside>
<main id="chat">
  <div id="offline" role="alert" hidden>The sandbox is not answering. Is it still running?</div>
  <header>
    <div class="avatar" id="bot-avatar" aria-hidden="true">D</div>
    <div class="who"><span class="name" id="bot-name">Diaspora Bridge</span>
      <span class="meta" id="chat-meta">Pick or create a user to start</span></div>
  </header>
  <div id="messages" role="log" aria-live="polite" aria-label="Messages"></div>
  <div id="reply-kb" hidden aria-label="Reply keyboard"></div>
  <ul id="commands" hidden aria-label="Commands"></ul>
  <form id="composer">
    <button type="button" id="menu-btn" aria-label="Commands" aria-expanded="false"
      aria-controls="commands">/</button>
    <label class="sr-only" for="input">Message</label>
    <textarea id="input" rows="1" autocomplete="off" placeholder="Message (Shift+Enter: new line)"
      dir="auto" maxlength="4096" disabled></textarea>
    <button class="primary" id="send" type="submit" disabled>Send</button>
  </form>
</main>
<div id="toast" role="status" aria-live="assertive" hidden></div>
"""

_JS = r"""
"use strict";
const $ = (selector) => document.querySelector(selector);
const state = { bot: null, users: [], current: null, version: "", nodes: new Map(), abort: null,
  commands: [], revealed: new Set() };
const COLORS = ["#e17076", "#7bc862", "#e5ca77", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];
const UNAVAILABLE = "Not available in the sandbox";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);  // CSSOM: allowed by the page's CSP
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);  // strings: text
  }
  return node;
}

async function api(method, path, body, signal) {
  const options = { method, signal, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const chatPath = (tail) => `/api/chats/${state.current}${tail}`;

let toastTimer = null;
function toast(text, alert) {
  const box = $("#toast");
  clearTimeout(toastTimer);
  box.className = alert ? "alert" : "";
  box.setAttribute("role", alert ? "alertdialog" : "status");
  box.replaceChildren(el("div", { dir: "auto" }, text));
  box.hidden = false;
  if (alert) {
    const ok = el("button", { type: "button", class: "primary", onclick: () => { box.hidden = true; } },
      "OK");
    box.append(ok);
    ok.focus();
  } else {
    toastTimer = setTimeout(() => { box.hidden = true; }, 2600);
  }
}

function avatar(name, id) {
  const initial = Array.from((name || "?").trim())[0] || "?";
  const background = COLORS[Math.abs(id) % COLORS.length];
  return el("div", { class: "avatar", "aria-hidden": "true", style: { background } }, initial.toUpperCase());
}

// --- links: http(s) and mailto only; t.me links to this bot with ?start= send /start here ---------------

function safeUrl(url) {
  try {
    const parsed = new URL(url);
    if (["http:", "https:", "mailto:"].includes(parsed.protocol)) return parsed;
  } catch (error) { /* not a URL */ }
  return null;
}

function deepLink(parsed) {
  if (!parsed || !state.bot || !/^(www\.)?(t|telegram)\.me$/i.test(parsed.hostname)) return null;
  if (parsed.pathname.slice(1).toLowerCase() !== state.bot.username.toLowerCase()) return null;
  const payload = parsed.searchParams.get("start");
  return payload === null ? "/start" : `/start ${payload}`;
}

function linkNode(url, label, className) {
  const parsed = safeUrl(url);
  const command = deepLink(parsed);
  if (command) {
    const send = (event) => { event.preventDefault(); sendText(command); };
    return el("a", { href: parsed.href, class: className, onclick: send }, label);
  }
  if (!parsed) return el("span", { class: className, title: UNAVAILABLE }, label);
  return el("a", { href: parsed.href, class: className, target: "_blank", rel: "noopener noreferrer" },
    label);
}

// --- rich text: DOM built from text + entities (UTF-16 offsets, like JavaScript strings) -----------------

function spoiler(key) {
  const node = el("span", { class: state.revealed.has(key) ? "spoiler open" : "spoiler", role: "button",
    tabindex: "0", "aria-label": "spoiler, press to reveal" });
  const reveal = () => {
    state.revealed.add(key);
    node.classList.add("open");
    node.removeAttribute("aria-label");
  };
  node.addEventListener("click", reveal);
  node.addEventListener("keydown", (event) => { if (event.key === "Enter" || event.key === " ") reveal(); });
  return node;
}

function entityNode(entity, segment, key) {
  switch (entity.type) {
    case "bold": return el("b");
    case "italic": return el("i");
    case "underline": return el("u");
    case "strikethrough": return el("s");
    case "code": return el("code");
    case "pre": {
      const code = el("code", { class: entity.language ? `language-${entity.language}` : null });
      return [el("pre", {}, code), code];
    }
    case "blockquote": case "expandable_blockquote": return el("blockquote", { dir: "auto" });
    case "text_link": return linkNode(entity.url, "", null);
    case "url": return linkNode(/^[a-z][a-z0-9+.-]*:/i.test(segment) ? segment : `https://${segment}`, "");
    case "email": return linkNode(`mailto:${segment}`, "", null);
    case "bot_command":
      return el("button", { type: "button", class: "linkish", onclick: () => sendText(segment) });
    case "spoiler": return spoiler(key);
    default: return el("span", { class: `entity-${entity.type}` });
  }
}

function renderRange(parent, text, entities, start, end, messageKey) {
  let cursor = start;
  entities.forEach((entity, index) => {
    if (entity.offset < cursor || entity.offset >= end) return;
    if (entity.offset > cursor) parent.append(text.slice(cursor, entity.offset));
    const stop = Math.min(entity.offset + entity.length, end);
    const made = entityNode(entity, text.slice(entity.offset, stop), `${messageKey}:${entity.offset}`);
    const [outer, inner] = Array.isArray(made) ? made : [made, made];
    const nested = entities.filter((other, j) => j > index && other.offset >= entity.offset
      && other.offset < stop);
    renderRange(inner, text, nested, entity.offset, stop, messageKey);
    parent.append(outer);
    cursor = stop;
  });
  if (cursor < end) parent.append(text.slice(cursor, end));
}

function richText(text, entities, messageKey) {
  const sorted = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  const node = el("div", { class: "text", dir: "auto" });
  renderRange(node, text, sorted, 0, text.length, messageKey);
  return node;
}

// --- messages ------------------------------------------------------------------------------------------

const fileUrl = (id, download) => `/api/files/${encodeURIComponent(id)}${download ? "?download=1" : ""}`;

function sizeLabel(bytes) {
  if (bytes === undefined) return "";
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

function summary(message) {
  if (message.text || message.caption) return message.text || message.caption;
  for (const kind of ["photo", "document", "poll", "sticker", "voice"]) if (message[kind]) return `[${kind}]`;
  return "[message]";
}

function pollNode(message) {
  const poll = message.poll;
  const mine = message.sandbox_votes || [];
  const kind = `${poll.is_anonymous ? "Anonymous " : ""}${poll.type === "quiz" ? "quiz" : "poll"}`;
  const box = el("div", { class: "poll" }, el("div", { class: "poll-q", dir: "auto" }, poll.question),
    el("div", { class: "poll-kind" }, kind, poll.is_closed ? " · closed" : ""));
  const vote = (ids) => api("POST", chatPath("/vote"), { message_id: message.message_id, option_ids: ids })
    .catch((error) => toast(error.message, false));
  if (mine.length || poll.is_closed) {
    const total = Math.max(poll.total_voter_count, 1);
    poll.options.forEach((option, index) => {
      const share = Math.round((100 * option.voter_count) / total);
      box.append(el("div", { class: "poll-result" },
        el("div", { dir: "auto" }, `${share}% `, mine.includes(index) ? "✓ " : "", option.text),
        el("div", { class: "poll-bar", style: { width: `${share}%` } })));
    });
    if (!poll.is_closed && mine.length && poll.allows_revoting !== false) {
      box.append(el("button", { type: "button", class: "linkish", onclick: () => vote([]) }, "Retract vote"));
    }
  } else if (poll.allows_multiple_answers) {
    const boxes = poll.options.map((option, index) => {
      const input = el("input", { type: "checkbox", value: String(index) });
      box.append(el("label", { class: "poll-opt" }, input, " ", el("span", { dir: "auto" }, option.text)));
      return input;
    });
    const chosen = () => boxes.filter((input) => input.checked).map((input) => Number(input.value));
    box.append(el("button", { type: "button", class: "primary", onclick: () => vote(chosen()) }, "Vote"));
  } else {
    poll.options.forEach((option, index) => box.append(el("button",
      { type: "button", class: "poll-opt", dir: "auto", onclick: () => vote([index]) }, option.text)));
  }
  const count = poll.total_voter_count;
  box.append(el("div", { class: "poll-kind" }, `${count} vote${count === 1 ? "" : "s"}`));
  return box;
}

function inlineButton(message, button) {
  if (button.url) return linkNode(button.url, button.text, "kb-btn");
  if (button.callback_data !== undefined) {
    const node = el("button", { type: "button", class: "kb-btn", dir: "auto" }, button.text);
    node.addEventListener("click", async () => {
      node.disabled = true;
      try {
        const body = { message_id: message.message_id, callback_data: button.callback_data,
          text: button.text };
        const answer = (await api("POST", chatPath("/press"), body)).answer || {};
        if (answer.text) toast(answer.text, answer.show_alert);
      } catch (error) { toast(error.message, false); }
      node.disabled = false;
    });
    return node;
  }
  if (button.copy_text) {
    const copy = () => navigator.clipboard.writeText(button.copy_text.text)
      .then(() => toast("Copied", false));
    return el("button", { type: "button", class: "kb-btn", onclick: copy }, button.text);
  }
  return el("button", { type: "button", class: "kb-btn", disabled: true, title: UNAVAILABLE }, button.text);
}

const SERVICE = ["pinned_message", "new_chat_members", "left_chat_member", "new_chat_title"];

function mediaNodes(message) {
  const nodes = [];
  if (message.photo) {
    const size = message.photo[message.photo.length - 1];
    nodes.push(el("img", { class: "photo", src: fileUrl(size.file_id), alt: "Photo", width: size.width,
      height: size.height }));
  }
  if (message.document) {
    const doc = message.document;
    const name = doc.file_name || "file";
    nodes.push(el("a", { class: "doc", href: fileUrl(doc.file_id, true), download: name },
      el("span", { class: "icon", "aria-hidden": "true" }, "⬇"),
      el("span", {}, el("span", { class: "name", dir: "auto" }, name),
        el("span", { class: "meta" }, `${sizeLabel(doc.file_size)} · download`))));
  }
  if (message.sticker) nodes.push(el("div", { class: "sticker" }, message.sticker.emoji || "🖼"));
  if (message.voice) {
    nodes.push(el("audio", { controls: true, src: fileUrl(message.voice.file_id), "aria-label": "Voice" }));
  }
  if (message.poll) nodes.push(pollNode(message));
  return nodes;
}

function messageNode(message) {
  const service = SERVICE.find((key) => key in message);
  if (service) {
    const what = service === "pinned_message"
      ? `📌 pinned “${summary(message.pinned_message).slice(0, 60)}”` : service.replace(/_/g, " ");
    return el("div", { class: "service", dir: "auto" }, what);
  }
  const key = String(message.message_id);
  const bubble = el("div", { class: "bubble" });
  if (message.forward_origin) bubble.append(el("div", { class: "meta" }, "Forwarded message"));
  if (message.reply_to_message) {
    bubble.append(el("div", { class: "quote", dir: "auto" }, summary(message.reply_to_message)));
  }
  bubble.append(...mediaNodes(message));
  const text = message.text ?? message.caption;
  if (text) bubble.append(richText(text, message.entities ?? message.caption_entities, key));
  if (!bubble.childElementCount) bubble.append(el("div", { class: "meta" }, "(not shown in the sandbox)"));
  const when = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  bubble.append(el("span", { class: "time" }, message.edit_date ? `edited ${when}` : when));
  const row = el("div", { class: message.outgoing ? "row" : "row mine", "data-message-id": key }, bubble);
  const rows = (message.reply_markup || {}).inline_keyboard;
  if (rows) {
    row.append(el("div", { class: "inline-kb" }, rows.map((buttons) => el("div", { class: "kb-row" },
      buttons.map((button) => inlineButton(message, button))))));
  }
  return row;
}

function renderMessages(messages) {
  const list = $("#messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const next = new Map();
  for (const message of messages) {
    const key = JSON.stringify(message);
    const known = state.nodes.get(message.message_id);
    next.set(message.message_id, known && known.key === key ? known : { key, node: messageNode(message) });
  }
  state.nodes = next;
  const nodes = [...next.values()].map((item) => item.node);
  if (!nodes.length) nodes.push(el("div", { class: "empty" }, "No messages yet: send /start"));
  list.replaceChildren(...nodes);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function replyButton(button) {
  const label = typeof button === "string" ? button : button.text;
  const special = typeof button === "object"
    && Object.keys(button).some((name) => name.startsWith("request_") || name === "web_app");
  return el("button", { type: "button", class: "kb-btn", dir: "auto", disabled: special,
    title: special ? UNAVAILABLE : null, onclick: () => sendText(label) }, label);
}

function renderReplyKeyboard(markup) {
  const box = $("#reply-kb");
  $("#input").placeholder = (markup && markup.input_field_placeholder) || "Message (Shift+Enter: new line)";
  if (!markup || !markup.keyboard) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.replaceChildren(...markup.keyboard.map((row) => el("div", { class: "kb-row" }, row.map(replyButton))));
  box.hidden = false;
}

function renderCommands(filter) {
  const word = (filter || "").split(" ")[0];
  const shown = state.commands.filter((c) => `/${c.command}`.startsWith(word));
  $("#commands").replaceChildren(...shown.map((c) => el("li", {}, el("button", { type: "button",
    onclick: () => { closeCommands(); sendText(`/${c.command}`); } }, el("b", {}, `/${c.command}`),
    el("span", { dir: "auto" }, c.description)))));
  return shown.length;
}

function openCommands(filter) {
  const open = renderCommands(filter) > 0;
  $("#commands").hidden = !open;
  $("#menu-btn").setAttribute("aria-expanded", String(open));
}

function closeCommands() {
  $("#commands").hidden = true;
  $("#menu-btn").setAttribute("aria-expanded", "false");
}

// --- users and the chat loop -----------------------------------------------------------------------------

function userNode(user) {
  const name = [user.first_name, user.last_name].filter(Boolean).join(" ");
  const language = (user.language_code || "").toUpperCase();
  const meta = [user.username ? `@${user.username}` : null, language].filter(Boolean).join(" · ");
  const current = user.id === state.current ? "true" : null;
  return el("li", {}, el("button", { type: "button", class: "user", "aria-current": current,
    onclick: () => selectUser(user.id) }, avatar(user.first_name, user.id), el("span", { class: "who" },
    el("span", { class: "line" }, el("span", { class: "name", dir: "auto" }, name),
      user.role ? el("span", { class: "badge" }, user.role) : null),
    el("span", { class: "meta" }, meta))));
}

function renderUsers() {
  const list = $("#users");
  const empty = el("li", { class: "hint" }, "No users yet: create one below.");
  if (!state.users.length) list.replaceChildren(empty);
  else list.replaceChildren(...state.users.map(userNode));
}

async function refreshUsers() {
  try {
    state.users = (await api("GET", "/api/users")).users;
    renderUsers();
  } catch (error) { /* the chat loop reports the sandbox being away */ }
}

function selectUser(id) {
  state.current = id;
  state.version = "";
  state.nodes = new Map();
  if (state.abort) state.abort.abort();
  const user = state.users.find((u) => u.id === id);
  const language = user ? (user.language_code || "?").toUpperCase() : "";
  $("#chat-meta").textContent = user ? `bot · you are ${user.first_name} (${language})` : "bot";
  $("#messages").replaceChildren();
  $("#input").disabled = $("#send").disabled = false;
  history.replaceState(null, "", `#user-${id}`);
  closeCommands();
  renderUsers();
  $("#input").focus();
}

async function sendText(text) {
  if (state.current === null || !text.trim()) return;
  try {
    await api("POST", chatPath("/messages"), { text });
  } catch (error) { toast(error.message, false); }
}

async function chatLoop() {
  for (;;) {
    const id = state.current;
    if (id === null) { await sleep(300); continue; }
    state.abort = new AbortController();
    try {
      const path = `/api/chats/${id}?since=${state.version}&wait=20`;
      const view = await api("GET", path, undefined, state.abort.signal);
      $("#offline").hidden = true;
      if (id !== state.current || view.version === state.version) continue;
      state.version = view.version;
      state.commands = view.commands;
      renderMessages(view.messages);
      renderReplyKeyboard(view.reply_keyboard);
      refreshUsers();
    } catch (error) {
      if (error.name !== "AbortError") { $("#offline").hidden = false; await sleep(1000); }
    }
  }
}

async function createUser(event) {
  event.preventDefault();
  try {
    const body = { first_name: $("#nu-name").value, username: $("#nu-username").value,
      language_code: $("#nu-language").value };
    const user = await api("POST", "/api/users", body);
    event.target.reset();
    await refreshUsers();
    selectUser(user.id);
  } catch (error) { toast(error.message, false); }
}

function fitInput() {
  const input = $("#input");
  input.style.height = "auto";
  input.style.height = `${input.scrollHeight}px`;
}

async function main() {
  const info = await api("GET", "/api/info");
  state.bot = info.bot;
  $("#bot-name").textContent = info.bot.first_name;
  $("#nu-language").replaceChildren(...info.languages.map((language) =>
    el("option", { value: language.code }, `${language.name} (${language.code})`)));
  $("#new-user").addEventListener("submit", createUser);
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#input").value;
    $("#input").value = "";
    fitInput();
    closeCommands();
    if (text.trim()) sendText(text);
  });
  $("#input").addEventListener("input", (event) => {
    fitInput();
    const value = event.target.value;
    if (value.startsWith("/") && !value.includes(" ")) openCommands(value); else closeCommands();
  });
  $("#input").addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeCommands();
    // Enter sends, as in Telegram's apps; Shift+Enter starts a new line (multi-line messages).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("#composer").requestSubmit();
    }
  });
  $("#menu-btn").addEventListener("click", () => {
    if ($("#commands").hidden) openCommands(""); else closeCommands();
  });
  await refreshUsers();
  const wanted = Number((location.hash.match(/^#user-(\d+)$/) || [])[1]);
  if (state.users.some((user) => user.id === wanted)) selectUser(wanted);
  chatLoop();
}

main().catch(() => { $("#offline").hidden = false; });
"""


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


PAGE = (
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    "<title>Diaspora Bridge sandbox</title>\n"
    f"<style>{_CSS}</style>\n</head>\n<body>{_BODY}<script>{_JS}</script>\n</body>\n</html>\n"
)
# Only this page's own script and style run: nothing from elsewhere, no inline handlers, no injected markup.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; script-src {_csp_hash(_JS)}; style-src {_csp_hash(_CSS)}; "
        "img-src 'self'; media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

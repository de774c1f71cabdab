"""A local Telegram Bot API server for end-to-end tests: aiohttp app, dispatch and a Python test API."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from .entities import find_entities
from .media import guess_mime, image_size, tiny_png
from .methods import METHODS, WRITING, BotApi, Described
from .params import Params
from .rules import ApiError, Faults, Limits, bad, inline_buttons
from .state import ApiCall, CallbackState, SimChat, SimUser, StoredMessage

log = logging.getLogger(__name__)
_dumps = functools.partial(json.dumps, ensure_ascii=False)
ChatRef = int | SimUser | SimChat | dict
# How long `wait_for` and `next_bot_message` wait unless told: a guard against what never comes,
# not a bound on time (the wait ends when the condition holds; a loaded machine's bot is slow).
WAIT = 30.0


class BotAPIEmulator(BotApi):
    """An in-process Telegram Bot API: point aiogram at ``await emu.start()`` and drive users from tests."""

    def __init__(
        self,
        token: str = "123456:TEST",
        limits: Limits | None = None,
        faults: Faults | None = None,
        bot_username: str = "diaspora_bridge_bot",
        bot_name: str = "Diaspora Bridge",
        privacy_mode: bool = True,
    ) -> None:
        super().__init__(token, limits or Limits(), faults or Faults(), bot_username, bot_name, privacy_mode)
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._cursors: dict[int, int] = {}

    # --- server -------------------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the Bot API; returns the base URL for ``TelegramAPIServer.from_base``."""
        app = web.Application(client_max_size=self.limits.upload_bytes + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._stopping = False
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self._session = aiohttp.ClientSession()
        self._webhook_changed()
        return self.base_url

    async def stop(self) -> None:
        """Answer pending long polls, stop webhook delivery and close the server."""
        self._stopping = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotAPIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @staticmethod
    def _envelope(status: int, body: dict[str, Any]) -> web.Response:
        return web.json_response(body, status=status, dumps=_dumps)

    async def _not_found(self, request: web.Request) -> web.Response:
        return self._envelope(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self._record(method, {}, ApiError(401, "Unauthorized"))
            return self._envelope(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        try:
            params = await Params.from_request(request, self.limits.upload_bytes)
        except ApiError as error:
            self._record(method, {}, error)
            return self._envelope(error.code, self._error_body(error))
        status, body = await self.call(method, params)
        return self._envelope(status, body)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None:
            return await self._not_found(request)
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    @staticmethod
    def _error_body(error: ApiError) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return body

    async def call(self, method: str, params: Params, *, source: str = "http") -> tuple[int, dict[str, Any]]:
        """Run one Bot API method; returns (HTTP status, response body)."""
        entry = METHODS.get(method.lower())
        name, handler = entry if entry is not None else (method, None)
        record = ApiCall(name, params.decoded(), None, None, None, self.now(), source=source)
        self.calls.append(record)
        self._notify()
        try:
            if handler is None:
                self.unknown_methods.append(method)
                raise ApiError(404, "Not Found")
            delay, failure = self.faults.roll(name)
            if delay:
                await asyncio.sleep(delay)
            if failure:
                raise ApiError(failure, "Internal Server Error" if failure == 500 else "Bad Gateway")
            self._chat_faults(name, params)
            self.expire_polls()
            result = await handler(self, params)
        except ApiError as error:
            self._finish(record, params, None, error)
            return error.code, self._error_body(error)
        except Exception as exc:  # a bug in the emulator: answer like a broken server, loudly
            log.exception("sandbox: %s failed", name)
            error = ApiError(500, f"Internal Server Error: sandbox bug: {exc!r}")
            self._finish(record, params, None, error)
            return 500, self._error_body(error)
        description = None
        if isinstance(result, Described):
            result, description = result.result, result.description
        self._finish(record, params, result, None)
        body = {"ok": True, "result": result}
        if description:
            body["description"] = description
        return 200, body

    def _chat_faults(self, method: str, params: Params) -> None:
        chat_id = params.integer("chat_id") if params.has("chat_id") else None
        if chat_id in self.faults.missing_chats:
            raise bad("chat not found")
        if chat_id in self.faults.blocked_chats and method.lower() in WRITING:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    def _record(self, method: str, params: dict[str, Any], error: ApiError) -> None:
        """Record a request refused before dispatch (bad token, unreadable body)."""
        self.calls.append(ApiCall(method, params, False, error.code, error.description, self.now()))
        self._notify()

    def _finish(self, record: ApiCall, params: Params, result: Any, error: ApiError | None) -> None:
        if record.method == "getUpdates" and params.disconnected():
            self.calls.remove(record)  # an abandoned long poll: nobody got its answer
        else:
            record.ok = error is None
            record.result = copy.deepcopy(result)
            if error is not None:
                record.error_code, record.description = error.code, error.description
        self._notify()

    # --- webhook delivery ---------------------------------------------------------------------------------

    def _webhook_changed(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            self._webhook_task = None
        if self.webhook and self._session is not None and not self._stopping:
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver(self.webhook))

    async def _deliver(self, webhook: dict[str, Any]) -> None:
        """POST pending updates one by one to the webhook, retrying with backoff until it answers 2xx."""
        assert self._session is not None
        delay = self.limits.webhook_retry_base
        headers = (
            {"X-Telegram-Bot-Api-Secret-Token": webhook["secret_token"]} if webhook["secret_token"] else {}
        )
        while self.webhook is webhook and not self._stopping:
            update = next(
                (u for u in self._updates if self.allows(next(k for k in u if k != "update_id"))), None
            )
            if update is None:
                await self._changed.wait()
                continue
            error, answer = None, None
            try:
                timeout = aiohttp.ClientTimeout(total=self.limits.webhook_timeout)
                async with self._session.post(
                    webhook["url"], json=update, headers=headers, timeout=timeout
                ) as response:
                    if 200 <= response.status < 300:
                        with contextlib.suppress(ValueError, aiohttp.ClientError):
                            answer = await _webhook_answer(response)
                    else:
                        error = f"Wrong response from the webhook: {response.status} {response.reason}"
            except TimeoutError:
                error = "Read timeout expired"
            except aiohttp.ClientError as exc:
                error = f"Connection failed: {exc}"
            if error is not None:
                webhook.update(last_error_date=int(self.now()), last_error_message=error)
                self._notify()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.limits.webhook_retry_max)
                continue
            delay = self.limits.webhook_retry_base
            self.confirm_updates(update["update_id"] + 1)
            self._notify()
            if answer is not None:
                method, params = answer
                await self.call(method, params, source="webhook")

    # --- test API: people and chats -----------------------------------------------------------------------

    def create_user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        *,
        is_premium: bool = False,
        started: bool = True,
        user_id: int | None = None,
    ) -> SimUser:
        """A new user with a private chat with the bot (``started=False``: they never opened it).

        ``user_id`` picks the id (e.g. one listed in the bot's ADMIN_IDS); otherwise ids count up.
        """
        if user_id is not None and user_id in self.users:
            raise ValueError(f"user {user_id} exists already")
        user = SimUser(
            user_id if user_id is not None else self._next_user_id,
            first_name,
            last_name,
            username,
            language_code,
            is_premium,
            started,
        )
        if user_id is None:
            self._next_user_id += 1
        self.users[user.id] = user
        self.chats[user.id] = SimChat(user.id, "private", user=user)
        return user

    def create_group(
        self,
        title: str,
        members: list[SimUser] | tuple[SimUser, ...] = (),
        *,
        admins: list[SimUser] | tuple[SimUser, ...] = (),
        bot_admin: bool = False,
        supergroup: bool = False,
        username: str | None = None,
    ) -> SimChat:
        """A group with the bot as member (administrator if ``bot_admin``); the first member is its creator.

        The bot gets a ``my_chat_member`` update (left -> member), as when it is added to a group.
        """
        number = self._next_group
        self._next_group += 1
        chat_id = -(1_002_000_000_000 + number) if supergroup else -(4_000_000_000 + number)
        chat = SimChat(chat_id, "supergroup" if supergroup else "group", title=title, username=username)
        for position, user in enumerate(members):
            chat.members[user.id] = "creator" if position == 0 else "member"
        for user in admins:
            if chat.members.get(user.id) != "creator":
                chat.members[user.id] = "administrator"
        chat.bot_status = "administrator" if bot_admin else "member"
        self.chats[chat_id] = chat
        self.messages[chat_id] = {}
        adder = members[0].to_dict() if members else self.bot_user
        self.queue_update(
            "my_chat_member",
            {
                "chat": chat.to_dict(),
                "from": adder,
                "date": int(self.now()),
                "old_chat_member": self.member(self.bot_user, "left"),
                "new_chat_member": self.member(self.bot_user, chat.bot_status),
            },
        )
        return chat

    def _chat_of(self, ref: ChatRef) -> SimChat:
        if isinstance(ref, SimChat):
            return ref
        if isinstance(ref, SimUser):
            return self.chats[ref.chat_id]
        if isinstance(ref, dict):
            return self.chats[int(ref["chat"]["id"] if "chat" in ref else ref["id"])]
        return self.chats[int(ref)]

    def _incoming(
        self, user: SimUser, chat: ChatRef | None, content: dict[str, Any], reply_to: dict | int | None = None
    ) -> dict[str, Any]:
        """Store a user's message and queue the ``message`` update the bot would get."""
        target = self._chat_of(chat if chat is not None else user)
        if user.blocked and target.private:
            raise RuntimeError(f"{user.first_name} blocked the bot; call unblock_bot() first")
        if not target.private and target.members.get(user.id) in (None, "left", "kicked"):
            raise ValueError(f"{user.first_name} is not a member of {target.title!r}")
        if target.private and target.id != user.id:
            raise ValueError("a user can only write in their own private chat with the bot")
        replied = None
        if reply_to is not None:
            replied = self.message(target, reply_to["message_id"] if isinstance(reply_to, dict) else reply_to)
            if replied is None:
                raise LookupError(f"no message {reply_to} to reply to")
        user.started = True
        stored = self.store_message(target, content, sender=user.to_dict(), outgoing=False, reply_to=replied)
        if self.bot_sees(target, stored.data):
            self.queue_update("message", stored.data)
        return copy.deepcopy(stored.data)

    async def send_text(
        self, user: SimUser, text: str, chat: ChatRef | None = None, *, reply_to: dict | int | None = None
    ) -> dict[str, Any]:
        """The user sends a text; commands, mentions, links... get their entities like in Telegram apps."""
        content: dict[str, Any] = {"text": text}
        if entities := find_entities(text):
            content["entities"] = entities
        return self._incoming(user, chat, content, reply_to)

    async def send_sticker(
        self, user: SimUser, emoji: str = "👍", chat: ChatRef | None = None
    ) -> dict[str, Any]:
        """The user sends a sticker."""
        stored = self.store_file(
            "sticker", b"RIFF\x1a\x00\x00\x00WEBPVP8X", folder="stickers", extension="webp"
        )
        stored.media = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "SandboxStickers",
            "file_size": len(stored.data),
        }
        return self._incoming(user, chat, {"sticker": copy.deepcopy(stored.media)})

    async def send_photo(
        self,
        user: SimUser,
        caption: str | None = None,
        chat: ChatRef | None = None,
        *,
        data: bytes | None = None,
    ) -> dict[str, Any]:
        """The user sends a photo (a small PNG unless ``data`` is given)."""
        data = data or tiny_png(64, 48)
        width, height = image_size(data) or (64, 48)
        content: dict[str, Any] = {"photo": self.photo_sizes(data, width, height)}
        content.update(self._user_caption(caption))
        return self._incoming(user, chat, content)

    async def send_voice(
        self, user: SimUser, duration: int = 3, chat: ChatRef | None = None, *, data: bytes | None = None
    ) -> dict[str, Any]:
        """The user sends a voice message."""
        stored = self.store_file(
            "voice",
            data or b"OggS\x00\x02sandbox-voice",
            "voice.ogg",
            "audio/ogg",
            folder="voice",
            extension="oga",
        )
        stored.media = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._incoming(user, chat, {"voice": copy.deepcopy(stored.media)})

    async def send_document(
        self,
        user: SimUser,
        data: bytes,
        file_name: str,
        caption: str | None = None,
        chat: ChatRef | None = None,
        *,
        mime_type: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a file."""
        mime = mime_type or guess_mime(file_name)
        stored = self.store_file("document", data, file_name, mime)
        stored.media = {
            "file_name": file_name,
            "mime_type": mime,
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": copy.deepcopy(stored.media), **self._user_caption(caption)}
        return self._incoming(user, chat, content)

    @staticmethod
    def _user_caption(caption: str | None) -> dict[str, Any]:
        if not caption:
            return {}
        content: dict[str, Any] = {"caption": caption}
        if entities := find_entities(caption):
            content["caption_entities"] = entities
        return content

    async def forward_to_bot(
        self,
        user: SimUser,
        original_sender: SimUser | None = None,
        text: str = "",
        *,
        sender_name: str | None = None,
        date: int | None = None,
        chat: ChatRef | None = None,
    ) -> dict[str, Any]:
        """The user forwards a text to the bot; without ``original_sender`` the origin is a hidden user."""
        origin_date = date or int(self.now()) - 60
        if original_sender is not None:
            origin = {"type": "user", "date": origin_date, "sender_user": original_sender.to_dict()}
        else:
            origin = {
                "type": "hidden_user",
                "date": origin_date,
                "sender_user_name": sender_name or "Hidden User",
            }
        content: dict[str, Any] = {"forward_origin": origin, "text": text or "…"}
        if entities := find_entities(content["text"]):
            content["entities"] = entities
        return self._incoming(user, chat, content)

    def _stored(self, message: dict | int, chat: ChatRef | None = None) -> StoredMessage:
        if isinstance(message, dict):
            chat, message = message["chat"]["id"], message["message_id"]
        if chat is None:
            raise ValueError("pass the message dict, or a chat together with a message id")
        stored = self.message(self._chat_of(chat), message)
        if stored is None:
            raise LookupError(f"message {message} not found in chat {self._chat_of(chat).id} (deleted?)")
        return stored

    async def edit_text(
        self, user: SimUser, message: dict | int, text: str, chat: ChatRef | None = None
    ) -> dict:
        """The user edits one of their text messages; the bot gets ``edited_message``."""
        stored = self._stored(
            message, chat if chat is not None else (user if isinstance(message, int) else None)
        )
        if stored.outgoing or stored.data.get("from", {}).get("id") != user.id:
            raise ValueError("users can only edit their own messages")
        stored.data["text"] = text
        stored.data.pop("entities", None)
        if entities := find_entities(text):
            stored.data["entities"] = entities
        stored.data["edit_date"] = int(self.now())
        chat_obj = self.chats[stored.chat_id]
        if self.bot_sees(chat_obj, stored.data):
            self.queue_update("edited_message", stored.data)
        self._notify()
        return copy.deepcopy(stored.data)

    async def press_button(
        self,
        user: SimUser,
        message: dict | int,
        text: str | None = None,
        callback_data: str | None = None,
        *,
        forge: bool = False,
        chat: ChatRef | None = None,
    ) -> str:
        """The user presses an inline button of a bot message (found by text and/or callback_data).

        Uses the message's current keyboard; ``forge=True`` sends ``callback_data`` even if no button has it.
        Returns the callback query id (see ``callback_answers``).
        """
        stored = self._stored(
            message, chat if chat is not None else (user if isinstance(message, int) else None)
        )
        if not stored.outgoing:
            raise LookupError("only bot messages have inline buttons")
        if forge:
            if callback_data is None:
                raise ValueError("forge=True needs callback_data")
            data = callback_data
        else:
            if text is None and callback_data is None:
                raise ValueError("give the button text or its callback_data")
            buttons = inline_buttons(stored.data.get("reply_markup"))
            matches = [
                b
                for b in buttons
                if (text is None or b["text"] == text)
                and (callback_data is None or b.get("callback_data") == callback_data)
            ]
            if not matches:
                labels = [(b["text"], b.get("callback_data")) for b in buttons]
                raise LookupError(
                    f"no button text={text!r} callback_data={callback_data!r}; buttons: {labels}"
                )
            if "callback_data" not in matches[0]:
                raise LookupError(f"button {matches[0]['text']!r} has no callback_data: {matches[0]}")
            data = matches[0]["callback_data"]
        chat_obj = self.chats[stored.chat_id]
        if chat_obj.private and user.id != chat_obj.id:
            raise ValueError("a user can only press buttons in their own private chat")
        query_id = str(4_382_000_000_000_000_000 + self._next())
        self.callbacks[query_id] = CallbackState(query_id, self.now())
        self.callback_answers[query_id] = None
        self.queue_update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_dict(),
                "message": stored.data,
                "chat_instance": str((stored.chat_id * 2654435761 + self.bot_id) % 2**63),
                "data": data,
            },
        )
        return query_id

    async def answer_poll(
        self, user: SimUser, poll_message: dict | int, option_ids: list[int], chat: ChatRef | None = None
    ) -> dict[str, Any]:
        """The user votes (``[]`` retracts); the bot gets ``poll`` and ``poll_answer`` (if not anonymous)."""
        self.expire_polls()
        stored = self._stored(
            poll_message, chat if chat is not None else (user if isinstance(poll_message, int) else None)
        )
        poll_id = stored.data.get("poll", {}).get("id")
        state = self.polls.get(poll_id)
        if state is None:
            raise LookupError("not a poll sent by the bot")
        poll = state.poll
        if poll["is_closed"]:
            raise ValueError("the poll is closed")
        if len(set(option_ids)) != len(option_ids) or any(
            not 0 <= i < len(poll["options"]) for i in option_ids
        ):
            raise ValueError(f"invalid option ids {option_ids}")
        if len(option_ids) > 1 and not poll["allows_multiple_answers"]:
            raise ValueError("the poll allows one answer only")
        previous = state.votes.get(user.id)
        if previous and not poll["allows_revoting"]:
            raise ValueError("the poll does not allow changing a vote")
        if not previous and not option_ids:
            raise ValueError("nothing to retract")
        for index in previous or []:
            poll["options"][index]["voter_count"] -= 1
        for index in option_ids:
            poll["options"][index]["voter_count"] += 1
        if option_ids:
            state.votes[user.id] = list(option_ids)
        else:
            state.votes.pop(user.id, None)
        poll["total_voter_count"] = len(state.votes)
        stored.data["poll"] = copy.deepcopy(poll)
        self.queue_update("poll", poll)
        if not poll["is_anonymous"]:
            self.queue_update(
                "poll_answer",
                {
                    "poll_id": poll["id"],
                    "user": user.to_dict(),
                    "option_ids": list(option_ids),
                    "option_persistent_ids": [poll["options"][i]["persistent_id"] for i in option_ids],
                },
            )
        return copy.deepcopy(poll)

    async def block_bot(self, user: SimUser) -> None:
        """The user blocks the bot: sends answer 403; the bot gets ``my_chat_member`` (member -> kicked)."""
        await self._set_blocked(user, True)

    async def unblock_bot(self, user: SimUser) -> None:
        """The user unblocks the bot (``my_chat_member`` kicked -> member)."""
        await self._set_blocked(user, False)

    async def _set_blocked(self, user: SimUser, blocked: bool) -> None:
        if user.blocked == blocked:
            return
        user.blocked = blocked
        chat = self.chats[user.chat_id]
        chat.bot_status = "kicked" if blocked else "member"
        old, new = ("member", "kicked") if blocked else ("kicked", "member")
        self.queue_update(
            "my_chat_member",
            {
                "chat": chat.to_dict(),
                "from": user.to_dict(),
                "date": int(self.now()),
                "old_chat_member": self.member(self.bot_user, old),
                "new_chat_member": self.member(self.bot_user, new),
            },
        )

    # --- test API: observing ------------------------------------------------------------------------------

    def transcript(self, chat: ChatRef) -> list[dict[str, Any]]:
        """The chat's messages in order, in their current state, each with ``outgoing`` (sent by the bot)."""
        return [stored.snapshot() for stored in self.messages.get(self._chat_of(chat).id, {}).values()]

    async def next_bot_message(self, chat: ChatRef, timeout: float = WAIT) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait for the next message the bot sends to ``chat`` (each call moves a per-chat cursor)."""
        chat_id = self._chat_of(chat).id

        def ready() -> bool:
            return len(self._sent.get(chat_id, [])) > self._cursors.get(chat_id, 0)

        try:
            await self.wait_for(lambda _: ready(), timeout)
        except TimeoutError:
            lines = [
                f"  {'bot ' if m['outgoing'] else 'user'}: {_describe(m)}"
                for m in self.transcript(chat_id)[-10:]
            ]
            errors = [f"  {c.method}: {c.description}" for c in self.errors[-5:]]
            raise TimeoutError(
                f"the bot sent no new message to chat {chat_id} within {timeout}s\nrecent transcript:\n"
                + ("\n".join(lines) or "  (empty)")
                + ("\nrecent API errors:\n" + "\n".join(errors) if errors else "")
            ) from None
        index = self._cursors.get(chat_id, 0)
        self._cursors[chat_id] = index + 1
        return self._sent[chat_id][index].snapshot()

    async def wait_for(self, predicate: Callable[[BotAPIEmulator], Any], timeout: float = WAIT) -> Any:  # noqa: ASYNC109
        """Wait until ``predicate(emu)`` is true (checked on every API call and change); returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            if value := predicate(self):
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    @property
    def errors(self) -> list[ApiCall]:
        """The calls that were not ok."""
        return [call for call in self.calls if call.ok is False]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by the bot."""
        return copy.deepcopy(self._updates)

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict] | None:
        """The commands set for exactly this scope and language (None if none are set)."""
        try:
            key = self.scope_key(scope or {"type": "default"})
        except ApiError:
            return None
        commands = self.command_sets.get((key, language_code))
        return copy.deepcopy(commands) if commands is not None else None

    def visible_commands(self, user: SimUser, chat: ChatRef | None = None) -> list[dict]:
        """The commands ``user`` sees in ``chat`` (default: their private chat), resolved like Telegram."""
        target = self._chat_of(chat if chat is not None else user)
        language = (user.language_code or "")[:2]
        if target.private:
            scopes: list[tuple[Any, ...]] = [("chat", target.id), ("all_private_chats",), ("default",)]
        else:
            admin = target.members.get(user.id) in ("administrator", "creator")
            scopes = [("chat_member", target.id, user.id)]
            scopes += [("chat_administrators", target.id)] if admin else []
            scopes += [("chat", target.id)]
            scopes += [("all_chat_administrators",)] if admin else []
            scopes += [("all_group_chats",), ("default",)]
        for scope in scopes:
            for code in (language, ""):
                if (scope, code) in self.command_sets:
                    return copy.deepcopy(self.command_sets[(scope, code)])
        return []

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file_id (uploaded by the bot or sent by a user)."""
        return self.files[file_id].data

    def file_info(self, file_id: str) -> dict[str, Any]:
        """File name, MIME type and size behind a file_id."""
        stored = self.files[file_id]
        return {
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "file_size": len(stored.data),
            "kind": stored.kind,
        }

    def advance_clock(self, seconds: float) -> None:
        """Move the emulated time forward (message dates, poll close dates, 48 h rules, callback expiry)."""
        self._clock_offset += seconds
        self.expire_polls()
        self._notify()


async def _webhook_answer(response: aiohttp.ClientResponse) -> tuple[str, Params] | None:
    """A Bot API call made in the webhook response body, if any."""
    if response.content_type == "application/json":
        body = await response.json(loads=json.loads)
        raw = dict(body) if isinstance(body, dict) else {}
    elif response.content_type == "multipart/form-data":
        raw = {}
        reader = aiohttp.MultipartReader.from_response(response)
        async for part in reader:
            if isinstance(part, aiohttp.BodyPartReader) and part.name:
                raw[part.name] = await part.text()
    else:
        return None
    method = raw.pop("method", None)
    return (str(method), Params(raw)) if method else None


def _describe(message: dict[str, Any]) -> str:
    for key in ("text", "caption"):
        if key in message:
            return repr(message[key][:120])
    kind = next(
        (k for k in ("photo", "document", "poll", "sticker", "voice", "pinned_message") if k in message), "?"
    )
    return f"<{kind}>"

"""The emulated world: users, chats, messages, files, polls and the record of API calls."""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field
from typing import Any

from .media import file_ids, photo_sides
from .rules import Faults, FloodControl, Limits, bad, forbidden

_SERVICE_KEYS = (
    "new_chat_members",
    "left_chat_member",
    "new_chat_title",
    "pinned_message",
    "group_chat_created",
)


@dataclass
class SimUser:
    """A simulated Telegram user; ``chat_id`` is the id of their private chat with the bot."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False
    started: bool = True  # False: the user never opened the bot, so it can't write first
    blocked: bool = False  # the user blocked the bot

    @property
    def chat_id(self) -> int:
        return self.id

    def to_dict(self) -> dict[str, Any]:
        """The Telegram User object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.is_premium:
            data["is_premium"] = True
        return data


@dataclass
class SimChat:
    """A chat the bot knows: a user's private chat, a group or a supergroup."""

    id: int
    type: str  # private, group or supergroup
    title: str | None = None
    username: str | None = None
    user: SimUser | None = None  # the other party of a private chat
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "member"  # member, administrator, left or kicked
    pinned: list[int] = field(default_factory=list)
    menu_button: dict | None = None

    @property
    def private(self) -> bool:
        return self.type == "private"

    def to_dict(self) -> dict[str, Any]:
        """The Telegram Chat object."""
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.user is not None:
            user = self.user.to_dict()
            data.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
        else:
            data["title"] = self.title or ""
            if self.username:
                data["username"] = self.username
        return data


@dataclass
class StoredMessage:
    """A message as the emulator keeps it; ``data`` is the current Telegram Message object."""

    data: dict[str, Any]
    outgoing: bool
    sent_at: float  # emulated Unix time
    reply_keyboard: dict | None = None  # a ReplyKeyboardMarkup/Remove/ForceReply sent with it
    service: bool = False
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        return int(self.data["chat"]["id"])

    @property
    def message_id(self) -> int:
        return int(self.data["message_id"])

    def snapshot(self) -> dict[str, Any]:
        """A copy for the transcript: the Message plus ``outgoing`` (and ``reply_keyboard`` if any)."""
        data = copy.deepcopy(self.data)
        data["outgoing"] = self.outgoing
        if self.reply_keyboard is not None:
            data["reply_keyboard"] = copy.deepcopy(self.reply_keyboard)
        return data


@dataclass
class StoredFile:
    """Bytes behind a file_id."""

    file_id: str
    file_unique_id: str
    data: bytes
    kind: str  # document, photo, sticker or voice
    file_name: str | None = None
    mime_type: str | None = None
    file_path: str = ""
    media: Any = None  # the Telegram object (Document, list of PhotoSize, Sticker, Voice)


@dataclass
class PollState:
    """A poll sent by the bot and the votes it got."""

    poll: dict[str, Any]
    chat_id: int
    message_id: int
    votes: dict[int, list[int]] = field(default_factory=dict)  # user id -> option ids


@dataclass
class CallbackState:
    """A callback query waiting for answerCallbackQuery."""

    query_id: str
    created_at: float  # emulated Unix time
    answered: bool = False


@dataclass
class ApiCall:
    """One request to the emulator (``ok`` is None while it is still running, e.g. a long poll)."""

    method: str
    params: dict[str, Any]
    ok: bool | None
    error_code: int | None
    description: str | None
    timestamp: float
    result: Any = None
    source: str = "http"  # http, or webhook for a method answered in a webhook response


class World:
    """Everything the emulated Telegram knows, and the operations shared by the Bot API and the test API."""

    def __init__(
        self, token: str, limits: Limits, faults: Faults, bot_username: str, bot_name: str, privacy_mode: bool
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError(f"not a bot token: {token!r}")
        self.token = token
        self.limits = limits
        self.faults = faults
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.privacy_mode = privacy_mode
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.messages: dict[int, dict[int, StoredMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self.polls: dict[str, PollState] = {}
        self.callbacks: dict[str, CallbackState] = {}
        self.callback_answers: dict[str, dict | None] = {}
        self.command_sets: dict[tuple[tuple[Any, ...], str], list[dict]] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.reactions: dict[tuple[int, int], list[dict]] = {}
        self.default_menu_button: dict | None = None
        self.calls: list[ApiCall] = []
        self.unknown_methods: list[str] = []
        self.allowed_updates: list[str] | None = None
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 200_000_001
        self._next_user_id = 100_001
        self._next_group = 1
        self._message_ids: dict[int, int] = {}
        self._counter = 0
        self._clock_offset = 0.0
        self._sent: dict[int, list[StoredMessage]] = {}
        self._changed = asyncio.Event()
        self._flood = FloodControl(limits)
        self._poll_generation = 0
        self._stopping = False

    # --- time, ids, signalling ----------------------------------------------------------------------------

    def now(self) -> float:
        """Emulated Unix time (real time moved by ``advance_clock``)."""
        return time.time() + self._clock_offset

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _notify(self) -> None:
        """Wake everything waiting for a change (long polls, webhook delivery, test waiters)."""
        self._changed.set()
        self._changed = asyncio.Event()

    @property
    def bot_user(self) -> dict[str, Any]:
        """The bot's User object."""
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    def resolve_user(self, user_id: int) -> dict[str, Any] | None:
        if user_id == self.bot_id:
            return self.bot_user
        user = self.users.get(user_id)
        return user.to_dict() if user else None

    # --- chats --------------------------------------------------------------------------------------------

    def chat(self, value: Any, *, empty: str = "chat_id is empty") -> SimChat:
        """The chat a ``chat_id`` value (number or @username) points to."""
        if value in (None, ""):
            raise bad(empty)
        if isinstance(value, str) and value.startswith("@"):
            found = next(
                (
                    c
                    for c in self.chats.values()
                    if c.username and c.username.lower() == value[1:].lower() and c.type != "private"
                ),
                None,
            )
        else:
            try:
                found = self.chats.get(int(value))
            except (TypeError, ValueError):
                found = None
        if found is None or found.id in self.faults.missing_chats:
            raise bad("chat not found")
        return found

    def check_writable(self, chat: SimChat) -> None:
        """Raise the 403 Telegram gives when the bot can't write to ``chat``."""
        if chat.private:
            assert chat.user is not None
            if chat.user.blocked or chat.id in self.faults.blocked_chats:
                raise forbidden("bot was blocked by the user")
            if not chat.user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        kind = "supergroup" if chat.type == "supergroup" else "group"
        if chat.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {kind} chat")
        if chat.bot_status == "left":
            raise forbidden(f"bot is not a member of the {kind} chat")

    def flood(self, chat: SimChat) -> None:
        """Count one message sent to ``chat`` against the flood limits."""
        if self._flood.limits is not self.limits:
            self._flood = FloodControl(self.limits)
        self._flood.check(chat.id, chat.private)

    # --- messages -----------------------------------------------------------------------------------------

    def store_message(
        self,
        chat: SimChat,
        content: dict[str, Any],
        *,
        sender: dict[str, Any] | None,
        outgoing: bool,
        reply_to: StoredMessage | None = None,
        service: bool = False,
    ) -> StoredMessage:
        """Add a message to ``chat`` with the next message id."""
        key = chat.id if chat.type == "supergroup" else 0
        self._message_ids[key] = message_id = self._message_ids.get(key, 0) + 1
        now = self.now()
        data: dict[str, Any] = {"message_id": message_id}
        if sender is not None:
            data["from"] = sender
        data.update({"chat": chat.to_dict(), "date": int(now)})
        if reply_to is not None:
            quoted = copy.deepcopy(reply_to.data)
            quoted.pop("reply_to_message", None)
            data["reply_to_message"] = quoted
        data.update(content)
        stored = StoredMessage(data, outgoing=outgoing, sent_at=now, service=service)
        self.messages.setdefault(chat.id, {})[message_id] = stored
        if outgoing and not service:
            self._sent.setdefault(chat.id, []).append(stored)
        self._notify()
        return stored

    def message(self, chat: SimChat, message_id: Any) -> StoredMessage | None:
        try:
            return self.messages.get(chat.id, {}).get(int(message_id))
        except (TypeError, ValueError):
            return None

    def delete(self, stored: StoredMessage) -> None:
        stored.deleted = True
        self.messages.get(stored.chat_id, {}).pop(stored.message_id, None)
        chat = self.chats.get(stored.chat_id)
        if chat and stored.message_id in chat.pinned:
            chat.pinned.remove(stored.message_id)

    def bot_sees(self, chat: SimChat, message: dict[str, Any]) -> bool:
        """Whether the bot gets an update for a user's message (group privacy mode)."""
        if chat.private or not self.privacy_mode or chat.bot_status in ("administrator", "creator"):
            return True
        if chat.bot_status in ("left", "kicked"):
            return False
        text = message.get("text") or message.get("caption") or ""
        for entity in message.get("entities") or message.get("caption_entities") or []:
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                command = text[: entity["length"]]
                return "@" not in command or command.split("@", 1)[1].lower() == self.bot_username.lower()
        if any(key in message for key in _SERVICE_KEYS):
            return True
        replied = message.get("reply_to_message", {}).get("from", {})
        return replied.get("id") == self.bot_id or f"@{self.bot_username}".lower() in text.lower()

    # --- updates ------------------------------------------------------------------------------------------

    def allows(self, kind: str) -> bool:
        allowed = self.webhook.get("allowed_updates") if self.webhook else self.allowed_updates
        if not allowed:
            return kind not in ("chat_member", "message_reaction", "message_reaction_count")
        return kind in allowed

    def queue_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update for the bot; returns its update_id (None if the bot does not want that type)."""
        if not self.allows(kind):
            return None
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._notify()
        return update_id

    def confirm_updates(self, offset: int) -> None:
        """Forget updates below ``offset`` (a negative offset keeps only the last -offset ones)."""
        if offset < 0:
            del self._updates[: max(0, len(self._updates) + offset)]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    # --- files --------------------------------------------------------------------------------------------

    def store_file(
        self,
        kind: str,
        data: bytes,
        file_name: str | None = None,
        mime_type: str | None = None,
        folder: str = "documents",
        extension: str = "",
    ) -> StoredFile:
        number = self._next()
        file_id, unique_id = file_ids(kind, number, self.token)
        extension = extension or (file_name.rsplit(".", 1)[-1] if file_name and "." in file_name else "")
        path = f"{folder}/file_{number}" + (f".{extension}" if extension else "")
        stored = StoredFile(file_id, unique_id, data, kind, file_name, mime_type, path)
        self.files[file_id] = stored
        return stored

    def photo_sizes(self, data: bytes, width: int, height: int) -> list[dict[str, Any]]:
        sizes = []
        for w, h in photo_sides(width, height):
            stored = self.store_file("photo", data, folder="photos", extension="jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": w,
                    "height": h,
                }
            )
        for size in sizes:
            self.files[size["file_id"]].media = sizes
        return sizes

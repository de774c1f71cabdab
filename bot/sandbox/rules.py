"""Telegram's rules: errors, limits, flood control, fault injection and request validation."""

from __future__ import annotations

import json
import math
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from bot.telegram_html import Entity, EntityParseError, parse_html, sort_entities

from .entities import normalize, utf16_len

REACTION_EMOJI = frozenset(
    [
        "❤",
        "👍",
        "👎",
        "🔥",
        "🥰",
        "👏",
        "😁",
        "🤔",
        "🤯",
        "😱",
        "🤬",
        "😢",
        "🎉",
        "🤩",
        "🤮",
        "💩",
        "🙏",
        "👌",
        "🕊",
        "🤡",
        "🥱",
        "🥴",
        "😍",
        "🐳",
        "❤\u200d🔥",
        "🌚",
        "🌭",
        "💯",
        "🤣",
        "⚡",
        "🍌",
        "🏆",
        "💔",
        "🤨",
        "😐",
        "🍓",
        "🍾",
        "💋",
        "🖕",
        "😈",
        "😴",
        "😭",
        "🤓",
        "👻",
        "👨\u200d💻",
        "👀",
        "🎃",
        "🙈",
        "😇",
        "😨",
        "🤝",
        "✍",
        "🤗",
        "🫡",
        "🎅",
        "🎄",
        "☃",
        "💅",
        "🤪",
        "🗿",
        "🆒",
        "💘",
        "🙉",
        "🦄",
        "😘",
        "💊",
        "🙊",
        "😎",
        "👾",
        "🤷\u200d♂",
        "🤷",
        "🤷\u200d♀",
        "😡",
    ]
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "copy_text",
)


class ApiError(Exception):
    """A Bot API error answer: HTTP status ``code`` and Telegram's ``description``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


def bad(description: str) -> ApiError:
    """A 400 ``Bad Request: ...`` error."""
    return ApiError(400, f"Bad Request: {description}")


def forbidden(description: str) -> ApiError:
    """A 403 ``Forbidden: ...`` error."""
    return ApiError(403, f"Forbidden: {description}")


def tdlib_error(message: str) -> ApiError:
    """A TDLib error as the Bot API words it (first letter lowered unless it is an UPPER_CASE code)."""
    if len(message) >= 2 and (message[1] == "_" or message[1].isupper()):
        return bad(message)
    return bad(message[:1].lower() + message[1:])


def text_length(text: str) -> int:
    """A text's length as TDLib checks a bot's texts (`utf8_length`): characters (code points) after
    entity parsing, not UTF-16 code units (those count only for entity offsets)."""
    return len(text)


@dataclass
class Limits:
    """Every limit the emulator enforces; tests and benchmarks can raise, lower or disable them."""

    flood_control: bool = True
    global_per_second: float = 30.0  # all chats together
    private_per_second: float = 1.0  # one private chat
    private_burst: int = 3  # messages a private chat tolerates at once
    group_per_minute: float = 20.0  # one group
    group_burst: int = 20
    count_edits: bool = False  # edits are not flood-counted unless True
    # Text lengths in characters (code points) after entity parsing, as TDLib counts a bot's texts.
    message_text: int = 4096
    caption: int = 1024
    callback_data_bytes: int = 64
    inline_buttons: int = 100
    inline_row_buttons: int = 8
    callback_answer_text: int = 200
    callback_answer_timeout: float | None = 15.0  # seconds a callback query can be answered in
    commands: int = 100
    command_length: int = 32
    command_description: int = 256
    poll_question: int = 300
    poll_option: int = 100
    poll_min_options: int = 1  # Bot API 10.1: 1-12 answer options
    poll_max_options: int = 12
    upload_bytes: int = 50 * 1024 * 1024
    photo_bytes: int = 10 * 1024 * 1024
    download_bytes: int = 20 * 1024 * 1024
    delete_window: float = 48 * 3600  # seconds after which messages can't be deleted for everyone
    webhook_retry_base: float = 0.1
    webhook_retry_max: float = 5.0
    webhook_timeout: float = 10.0


@dataclass
class Faults:
    """Injected failures. Random ones are reproducible: the same seed gives the same sequence.

    ``methods`` limits the random faults to these method names (any case); by default every
    method except getUpdates is affected. Chat faults apply to any method with that ``chat_id``.
    """

    blocked_chats: set[int] = field(default_factory=set)  # 403 bot was blocked by the user
    missing_chats: set[int] = field(default_factory=set)  # 400 chat not found
    error_rate: float = 0.0  # probability of a 500/502 answer
    slow_rate: float = 0.0  # probability of a delayed answer
    slow_seconds: float = 0.5
    seed: int = 0
    methods: frozenset[str] | None = None
    rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def reseed(self, seed: int | None = None) -> None:
        """Restart the random sequence (with a new seed if given)."""
        self.seed = self.seed if seed is None else seed
        self.rng = random.Random(self.seed)

    def roll(self, method: str) -> tuple[float, int | None]:
        """Draw the faults of one call: (delay in seconds, 5xx status or None)."""
        allowed = {m.lower() for m in self.methods} if self.methods is not None else None
        if (allowed is None and method.lower() == "getupdates") or (
            allowed is not None and method.lower() not in allowed
        ):
            return 0.0, None
        slow, fail, kind = self.rng.random(), self.rng.random(), self.rng.random()
        delay = self.slow_seconds if slow < self.slow_rate else 0.0
        return delay, (500 if kind < 0.5 else 502) if fail < self.error_rate else None


class _Bucket:
    """A token bucket: ``capacity`` messages at once, refilled at ``rate`` per second."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity, self.tokens, self.stamp = rate, capacity, capacity, time.monotonic()

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodControl:
    """Telegram's sending limits: per bot, per private chat and per group."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._global = _Bucket(limits.global_per_second, max(1.0, limits.global_per_second))
        self._chats: dict[int, _Bucket] = {}

    def check(self, chat_id: int, private: bool) -> None:
        """Count one message to ``chat_id`` or raise a 429 error with ``retry_after``."""
        limits = self.limits
        if not limits.flood_control:
            return
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if private:
                bucket = _Bucket(limits.private_per_second, limits.private_burst)
            else:
                bucket = _Bucket(limits.group_per_minute / 60, limits.group_burst)
            self._chats[chat_id] = bucket
        now = time.monotonic()
        wait = max(self._global.wait(now), bucket.wait(now))
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        self._global.tokens -= 1
        bucket.tokens -= 1


# --- formatted text ---------------------------------------------------------------------------------------


def formatted_text(
    text: str,
    parse_mode: str | None,
    entities: Any,
    *,
    allow_empty: bool,
    resolve_user: Any = None,
) -> tuple[str, list[Entity]]:
    """Turn a text with a parse mode or explicit entities into Telegram's (text, entities)."""
    mode = (parse_mode or "").strip().lower()
    try:
        if mode == "html":
            text, parsed = parse_html(text, resolve_user)
        elif mode:
            if mode in ("markdown", "markdownv2"):
                raise bad(f"parse_mode {parse_mode} is not supported by the sandbox; use HTML")
            raise bad("unsupported parse_mode")
        else:
            parsed = _explicit_entities(text, entities)
    except EntityParseError as error:
        raise bad(f"can't parse entities: {error}") from None
    try:
        return normalize(text, parsed, allow_empty=allow_empty)
    except EntityParseError as error:
        raise tdlib_error(str(error)) from None


_ENTITY_TYPES = frozenset(
    [
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    ]
)


def _explicit_entities(text: str, entities: Any) -> list[Entity]:
    if entities is None:
        return []
    if not isinstance(entities, list):
        raise bad("can't parse entities JSON object")
    length = utf16_len(text)
    result: list[Entity] = []
    for raw in entities:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            raise bad('can\'t parse MessageEntity: Field "type" must be of type String')
        offset, size = raw.get("offset"), raw.get("length")
        if not isinstance(offset, int) or not isinstance(size, int) or offset < 0 or size < 0:
            raise bad('can\'t parse MessageEntity: Field "offset" must be a valid Number')
        if raw["type"] not in _ENTITY_TYPES:
            continue
        if offset > length:
            raise bad(f"entity begins after the end of the text at UTF-16 offset {offset}")
        if offset + size > length:
            raise bad(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text at UTF-16 offset "
                f"{offset + size}"
            )
        entity = {
            k: v
            for k, v in raw.items()
            if k
            in (
                "type",
                "offset",
                "length",
                "url",
                "user",
                "language",
                "custom_emoji_id",
                "unix_time",
                "date_time_format",
            )
        }
        if entity["type"] == "text_link" and not entity.get("url"):
            raise bad('can\'t parse MessageEntity: Field "url" must be of type String')
        result.append(entity)
    sort_entities(result)
    return result


# --- reply markup -----------------------------------------------------------------------------------------


def reply_markup(value: Any, limits: Limits, *, inline_only: bool = False) -> dict | None:
    """Validate a reply_markup value (already JSON-decoded) and return it as Telegram stores it."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad("object expected as reply markup")
    if "inline_keyboard" in value:
        return {"inline_keyboard": _inline_keyboard(value["inline_keyboard"], limits)}
    if inline_only:
        raise bad("inline keyboard expected")
    if "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad('field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays')
        keyboard = [[_keyboard_button(button) for button in row] for row in rows]
        return {**value, "keyboard": keyboard}
    if value.get("remove_keyboard") or value.get("hide_keyboard"):
        return {"remove_keyboard": True, **({"selective": True} if value.get("selective") else {})}
    if value.get("force_reply"):
        return {
            k: v for k, v in value.items() if k in ("force_reply", "input_field_placeholder", "selective")
        }
    return None


def _keyboard_button(button: Any) -> dict:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad('can\'t parse keyboard button: Field "text" must be of type String')
    if not button["text"]:
        raise bad("can't parse keyboard button: Text must be non-empty")
    return button


def _inline_keyboard(rows: Any, limits: Limits) -> list[list[dict]]:
    if not isinstance(rows, list):
        raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    result, total = [], 0
    for row in rows:
        if not isinstance(row, list):
            raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
        if len(row) > limits.inline_row_buttons:
            raise bad("REPLY_MARKUP_INVALID")
        total += len(row)
        result.append([_inline_button(button, limits) for button in row])
    if total > limits.inline_buttons:
        raise bad("reply markup is too long")
    return [row for row in result if row]


def _inline_button(button: Any, limits: Limits) -> dict:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad(prefix + "InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad(
            prefix + 'Can\'t find field "text"'
            if text is None
            else prefix + 'Field "text" must be of type String'
        )
    action = next((key for key in _INLINE_ACTIONS if button.get(key) not in (None, "", False)), None)
    if action is None:
        raise bad(prefix + "Text buttons are unallowed in the inline keyboard")
    if not text.strip():
        raise bad("BUTTON_TEXT_INVALID")
    value = button[action]
    if action == "callback_data":
        if not isinstance(value, str) or len(value.encode()) > limits.callback_data_bytes:
            raise bad("BUTTON_DATA_INVALID")
    elif action == "url" and (not isinstance(value, str) or not re.match(r"(?i)(https?|tg)://\S+$", value)):
        raise bad("BUTTON_URL_INVALID")
    elif action == "copy_text" and not (
        isinstance(value, dict) and 1 <= len(str(value.get("text", ""))) <= 256
    ):
        raise bad("COPY_TEXT_INVALID")
    kept = {"text": text, action: value}
    kept.update({k: button[k] for k in ("style", "icon_custom_emoji_id") if button.get(k)})
    return kept


def inline_buttons(markup: dict | None) -> list[dict]:
    """All buttons of an inline keyboard, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


# --- commands ---------------------------------------------------------------------------------------------


def bot_commands(value: Any, limits: Limits) -> list[dict]:
    """Validate setMyCommands' ``commands``."""
    if not isinstance(value, list):
        raise bad("can't parse commands JSON object")
    if len(value) > limits.commands:
        raise bad("BOT_COMMANDS_TOO_MUCH")
    result = []
    for item in value:
        if not isinstance(item, dict):
            raise bad("can't parse BotCommand: BotCommand must be an Object")
        command, description = item.get("command"), item.get("description")
        if not isinstance(command, str) or not isinstance(description, str):
            raise bad('can\'t parse BotCommand: Field "command" must be of type String')
        command = command.strip().removeprefix("/")
        pattern = rf"[a-z0-9_]{{1,{limits.command_length}}}"
        if not re.fullmatch(pattern, command):
            raise bad("BOT_COMMAND_INVALID")
        description = description.strip()
        if not 1 <= len(description) <= limits.command_description:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": command, "description": description})
    return result


def language_code(value: str | None) -> str:
    """Validate a bot command language code: empty or two lowercase letters."""
    value = value or ""
    if value and not re.fullmatch(r"[a-z]{2}", value):
        raise bad("invalid language code specified")
    return value


def decode_json(raw: Any, what: str) -> Any:
    """Decode a JSON-serialized parameter (already decoded values pass through)."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        raise bad(f"can't parse {what} JSON object") from None

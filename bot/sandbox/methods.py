"""The Bot API methods the emulator implements, with Telegram's checks and error texts."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .media import guess_mime, image_size
from .params import Params, Upload
from .rules import (
    CHAT_ACTIONS,
    COMMAND_SCOPES,
    REACTION_EMOJI,
    ApiError,
    bad,
    bot_commands,
    formatted_text,
    language_code,
    reply_markup,
    text_length,
)
from .state import CallbackState, PollState, SimChat, StoredMessage, World

POLL_PERIOD_MAX = 2628000  # seconds a poll may stay open (open_period, close_date)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
CONTENT_KEYS = (
    "text",
    "entities",
    "photo",
    "document",
    "sticker",
    "voice",
    "poll",
    "caption",
    "caption_entities",
    "link_preview_options",
    "has_media_spoiler",
    "show_caption_above_media",
)
MEDIA_KEYS = ("photo", "document", "voice", "audio", "video", "animation")
ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_pin_messages",
    "can_manage_topics",
)
# Methods whose chat_id is subject to Faults.blocked_chats.
WRITING = frozenset(
    [
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendpoll",
        "forwardmessage",
        "copymessage",
        "sendchataction",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "stoppoll",
        "pinchatmessage",
        "unpinchatmessage",
        "setmessagereaction",
    ]
)

Handler = Callable[["BotApi", Params], Awaitable[Any]]
METHODS: dict[str, tuple[str, Handler]] = {}


def api(name: str) -> Callable[[Handler], Handler]:
    """Register a Bot API method (names are case-insensitive, like Telegram's)."""

    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


@dataclass
class Described:
    """A successful result that also carries a ``description`` (setWebhook does that)."""

    result: Any
    description: str


class BotApi(World):
    """Bot API method implementations on top of the emulated world."""

    # --- shared steps -------------------------------------------------------------------------------------

    def _text(self, p: Params, name: str, mode: str, entities: str, *, allow_empty: bool) -> tuple[str, list]:
        return formatted_text(
            p.string(name) or "",
            p.string(mode),
            p.json(entities, "entities"),
            allow_empty=allow_empty,
            resolve_user=self.resolve_user,
        )

    def _caption(self, p: Params, *, edit: bool = False) -> dict[str, Any]:
        caption, entities = self._text(p, "caption", "parse_mode", "caption_entities", allow_empty=True)
        if text_length(caption) > self.limits.caption:
            raise bad("MEDIA_CAPTION_TOO_LONG" if edit else "message caption is too long")
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
            if p.boolean("show_caption_above_media"):
                content["show_caption_above_media"] = True
        return content

    def _markup(self, p: Params, *, inline_only: bool = False) -> dict | None:
        return reply_markup(
            p.json("reply_markup", "reply keyboard markup"), self.limits, inline_only=inline_only
        )

    def _reply_target(self, p: Params, chat: SimChat) -> StoredMessage | None:
        parameters = p.json("reply_parameters", "reply parameters") or {}
        message_id = parameters.get("message_id", p.integer("reply_to_message_id"))
        if not message_id:
            return None
        if parameters.get("chat_id") not in (None, chat.id):
            chat = self.chat(parameters["chat_id"])
        target = self.message(chat, message_id)
        allow = parameters.get("allow_sending_without_reply", p.boolean("allow_sending_without_reply"))
        if target is None and not allow:
            raise bad("message to be replied not found")
        return target

    def _send(
        self,
        chat: SimChat,
        content: dict[str, Any],
        p: Params,
        markup: dict | None,
        reply_to: StoredMessage | None,
    ) -> StoredMessage:
        """Check the chat can be written to and the flood limits, then store a bot message."""
        self.check_writable(chat)
        self.flood(chat)
        if p.boolean("protect_content"):
            content["has_protected_content"] = True
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        stored = self.store_message(chat, content, sender=self.bot_user, outgoing=True, reply_to=reply_to)
        if markup and "inline_keyboard" not in markup:
            stored.reply_keyboard = markup
        return stored

    def _editable(self, p: Params) -> StoredMessage:
        if p.has("inline_message_id"):
            raise bad("MESSAGE_ID_INVALID")
        if not p.has("chat_id") and not p.has("message_id"):
            raise bad("message identifier is not specified")
        chat = self.chat(p.raw.get("chat_id"))
        if not p.integer("message_id"):
            raise bad("message identifier is not specified")
        stored = self.message(chat, p.integer("message_id"))
        if stored is None:
            raise bad("message to edit not found")
        if not stored.outgoing or stored.service:
            raise bad("message can't be edited")
        self.check_writable(chat)
        if self.limits.count_edits:
            self.flood(chat)
        return stored

    def _apply_edit(self, stored: StoredMessage, changes: dict[str, Any]) -> dict:
        """Apply changes (None removes a field) or raise "message is not modified"."""
        data = stored.data
        if all(data.get(key) == value for key, value in changes.items()):
            raise bad(NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        data["edit_date"] = int(self.now())
        self._notify()
        return copy.deepcopy(data)

    def _media(self, p: Params, name: str, kind: str) -> Any:
        """The Telegram object for an uploaded file or a file_id of the right type."""
        source = p.file(name)
        if source is None:
            raise bad(f"there is no {name} in the request")
        if isinstance(source, Upload):
            if len(source.data) > (self.limits.photo_bytes if kind == "photo" else self.limits.upload_bytes):
                raise ApiError(413, "Request Entity Too Large")
            if kind == "photo":
                size = image_size(source.data)
                if size is None:
                    raise bad("IMAGE_PROCESS_FAILED")
                width, height = size
                if width + height > 10000 or max(width, height) > 20 * min(width, height):
                    raise bad("PHOTO_INVALID_DIMENSIONS")
                return self.photo_sizes(source.data, width, height)
            mime = guess_mime(source.file_name)
            stored = self.store_file("document", source.data, source.file_name, mime)
            stored.media = {
                "file_name": source.file_name,
                "mime_type": mime,
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(source.data),
            }
            return stored.media
        if re.match(r"(?i)https?://", source):
            raise bad("failed to get HTTP URL content")
        stored = self.files.get(source)
        if stored is None:
            raise bad("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad("type of file mismatch")
        return stored.media

    # --- updates and webhooks -----------------------------------------------------------------------------

    @api("getMe")
    async def get_me(self, p: Params) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @api("getUpdates")
    async def get_updates(self, p: Params) -> list[dict]:
        if self.webhook:
            raise ApiError(409, WEBHOOK_CONFLICT)
        allowed = p.json("allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        self.confirm_updates(p.integer("offset", 0) or 0)
        limit = min(100, max(1, p.integer("limit", 100) or 100))
        timeout = max(0, p.integer("timeout", 0) or 0)
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting is terminated
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            if self.webhook:
                raise ApiError(409, WEBHOOK_CONFLICT)
            ready = [u for u in self._updates if self.allows(next(k for k in u if k != "update_id"))][:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if ready or remaining <= 0 or self._stopping or p.disconnected():
                return copy.deepcopy(ready)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    @api("setWebhook")
    async def set_webhook(self, p: Params) -> Described:
        url = p.string("url") or ""
        if not url:
            return await self.delete_webhook(p)
        if not re.match(r"(?i)https?://[^/\s]+", url):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.string("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad("secret token contains unallowed characters")
        if p.boolean("drop_pending_updates"):
            self._updates.clear()
        allowed = p.json("allowed_updates", "allowed updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed]
        same = bool(self.webhook and self.webhook["url"] == url)
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "max_connections": min(100, max(1, p.integer("max_connections", 40) or 40)),
            "allowed_updates": self.allowed_updates,
            "last_error_date": None,
            "last_error_message": None,
        }
        self._poll_generation += 1
        self._webhook_changed()
        self._notify()
        return Described(True, "Webhook is already set" if same else "Webhook was set")

    @api("deleteWebhook")
    async def delete_webhook(self, p: Params) -> Described:
        if p.boolean("drop_pending_updates"):
            self._updates.clear()
        existed, self.webhook = self.webhook is not None, None
        self._webhook_changed()
        self._notify()
        return Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    @api("getWebhookInfo")
    async def get_webhook_info(self, p: Params) -> dict:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info.update(url=self.webhook["url"], max_connections=self.webhook["max_connections"])
            for key in ("allowed_updates", "last_error_date", "last_error_message"):
                if self.webhook.get(key):
                    info[key] = self.webhook[key]
        return info

    def _webhook_changed(self) -> None:
        """Hook: the emulator (re)starts or stops webhook delivery."""

    # --- sending ------------------------------------------------------------------------------------------

    @api("sendMessage")
    async def send_message(self, p: Params) -> dict:
        if not p.string("text"):
            raise bad("message text is empty")
        text, entities = self._text(p, "text", "parse_mode", "entities", allow_empty=False)
        markup = self._markup(p)
        chat = self.chat(p.raw.get("chat_id"))
        if text_length(text) > self.limits.message_text:
            raise bad("message is too long")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if isinstance(options := p.json("link_preview_options", "link preview options"), dict) and options:
            content["link_preview_options"] = options
        elif p.boolean("disable_web_page_preview"):
            content["link_preview_options"] = {"is_disabled": True}
        return copy.deepcopy(self._send(chat, content, p, markup, self._reply_target(p, chat)).data)

    @api("sendPhoto")
    async def send_photo(self, p: Params) -> dict:
        content = self._caption(p)
        markup = self._markup(p)
        chat = self.chat(p.raw.get("chat_id"))
        content["photo"] = self._media(p, "photo", "photo")
        if p.boolean("has_spoiler"):
            content["has_media_spoiler"] = True
        return copy.deepcopy(self._send(chat, content, p, markup, self._reply_target(p, chat)).data)

    @api("sendDocument")
    async def send_document(self, p: Params) -> dict:
        content = self._caption(p)
        markup = self._markup(p)
        chat = self.chat(p.raw.get("chat_id"))
        content["document"] = self._media(p, "document", "document")
        return copy.deepcopy(self._send(chat, content, p, markup, self._reply_target(p, chat)).data)

    @api("sendPoll")
    async def send_poll(self, p: Params) -> dict:
        limits = self.limits
        question, question_entities = self._text(
            p, "question", "question_parse_mode", "question_entities", allow_empty=True
        )
        if not question:
            raise bad("poll question must be non-empty")
        if text_length(question) > limits.poll_question:
            raise bad(f"poll question length must not exceed {limits.poll_question}")
        raw_options = p.json("options", "options")
        if raw_options is None:
            raise bad('parameter "options" is required')
        if not isinstance(raw_options, list):
            raise bad("can't parse options JSON object")
        options = []
        for number, raw in enumerate(raw_options):
            item = raw if isinstance(raw, dict) else {"text": raw}
            text, entities = formatted_text(
                str(item.get("text") or ""),
                item.get("text_parse_mode"),
                item.get("text_entities"),
                allow_empty=True,
            )
            if not text:
                raise bad("poll options must be non-empty")
            if text_length(text) > limits.poll_option:
                raise bad(f"poll options length must not exceed {limits.poll_option}")
            option: dict[str, Any] = {"persistent_id": str(number), "text": text, "voter_count": 0}
            if custom := [e for e in entities if e["type"] == "custom_emoji"]:
                option["text_entities"] = custom
            options.append(option)
        if not options:
            raise bad("poll must have at least one answer option")
        if len(options) < limits.poll_min_options:
            raise bad(f"poll must have at least {limits.poll_min_options} option")
        if len(options) > limits.poll_max_options:
            raise bad(f"poll can't have more than {limits.poll_max_options} options")
        kind = p.string("type") or "regular"
        if kind not in ("regular", "quiz"):
            raise bad("wrong poll type specified")
        correct = p.json("correct_option_ids", "correct option identifiers")
        if correct is None and p.has("correct_option_id"):
            correct = [p.integer("correct_option_id")]
        if kind == "quiz" and (
            not correct or any(not isinstance(i, int) or not 0 <= i < len(options) for i in correct)
        ):
            raise bad("wrong correct option ID specified")
        open_period, close_date = p.integer("open_period"), p.integer("close_date")
        if open_period and close_date:
            raise bad("can't specify both open_period and close_date")
        if open_period is not None and not 5 <= open_period <= POLL_PERIOD_MAX:
            raise bad("wrong open_period specified")
        # "Must be at least 5 and no more than 2628000 seconds in the future" (sendPoll's close_date).
        if close_date is not None and not 5 <= close_date - int(self.now()) <= POLL_PERIOD_MAX:
            raise bad("wrong close_date specified")
        markup = self._markup(p)
        chat = self.chat(p.raw.get("chat_id"))
        poll: dict[str, Any] = {
            "id": str(5_400_000_000_000_000_000 + self._next()),
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": p.boolean("is_closed"),
            "is_anonymous": p.boolean("is_anonymous", True),
            "type": kind,
            "allows_multiple_answers": p.boolean("allows_multiple_answers"),
            "allows_revoting": p.boolean("allows_revoting", kind == "regular"),
            "members_only": False,
        }
        if custom := [e for e in question_entities if e["type"] == "custom_emoji"]:
            poll["question_entities"] = custom
        if kind == "quiz":
            poll["correct_option_ids"] = correct
            poll["correct_option_id"] = correct[0]
            if p.string("explanation"):
                text, entities = self._text(
                    p, "explanation", "explanation_parse_mode", "explanation_entities", allow_empty=True
                )
                if text_length(text) > 200:
                    raise bad("explanation length must not exceed 200")
                poll["explanation"] = text
                if entities:
                    poll["explanation_entities"] = entities
        if open_period:
            poll["open_period"], poll["close_date"] = open_period, int(self.now()) + open_period
        elif close_date:
            poll["close_date"] = close_date
        stored = self._send(chat, {"poll": poll}, p, markup, self._reply_target(p, chat))
        self.polls[poll["id"]] = PollState(poll, chat.id, stored.message_id)
        if "close_date" in poll and not poll["is_closed"]:
            asyncio.get_running_loop().call_later(
                max(0.0, poll["close_date"] - self.now()), self.expire_polls
            )
        return copy.deepcopy(stored.data)

    @api("stopPoll")
    async def stop_poll(self, p: Params) -> dict:
        chat = self.chat(p.raw.get("chat_id"))
        stored = self.message(chat, p.integer("message_id"))
        if stored is None:
            raise bad("message with poll to stop not found")
        if "poll" not in stored.data:
            raise bad("message is not a poll")
        if not stored.outgoing:
            raise bad("poll can't be stopped")
        markup = self._markup(p, inline_only=True)
        state = self.polls.get(stored.data["poll"]["id"])
        if state is None:
            raise bad("poll can't be stopped")
        if state.poll["is_closed"]:
            raise bad("poll has already been closed")
        self.close_poll(state)
        if markup:
            stored.data["reply_markup"] = markup
        else:
            stored.data.pop("reply_markup", None)
        return copy.deepcopy(state.poll)

    def close_poll(self, state: PollState) -> None:
        """Close a poll and tell the bot (a ``poll`` update)."""
        state.poll["is_closed"] = True
        chat = self.chats[state.chat_id]
        stored = self.message(chat, state.message_id)
        if stored is not None:
            stored.data["poll"] = copy.deepcopy(state.poll)
        self.queue_update("poll", state.poll)

    def expire_polls(self) -> None:
        """Close polls whose close_date has passed."""
        now = self.now()
        for state in self.polls.values():
            close_date = state.poll.get("close_date")
            if close_date and not state.poll["is_closed"] and close_date <= now:
                self.close_poll(state)

    @api("forwardMessage")
    async def forward_message(self, p: Params) -> dict:
        source, chat = self._copy_source(p, "forward")
        if source.data.get("has_protected_content"):
            raise bad("message has protected content and can't be forwarded")
        content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in CONTENT_KEYS}
        content.pop("link_preview_options", None)
        origin = source.data.get("forward_origin") or {
            "type": "user",
            "sender_user": source.data.get("from", self.bot_user),
            "date": source.data["date"],
        }
        content = {"forward_origin": copy.deepcopy(origin), **content}
        return copy.deepcopy(self._send(chat, content, p, None, None).data)

    @api("copyMessage")
    async def copy_message(self, p: Params) -> dict:
        source, chat = self._copy_source(p, "copy")
        content = {k: copy.deepcopy(v) for k, v in source.data.items() if k in CONTENT_KEYS}
        if p.has("caption") or p.has("caption_entities"):
            content = {k: v for k, v in content.items() if k not in ("caption", "caption_entities")}
            if any(key in content for key in MEDIA_KEYS):
                content.update(self._caption(p))
        markup = self._markup(p)
        if "poll" in content:
            content["poll"].update(
                id=str(5_400_000_000_000_000_000 + self._next()), total_voter_count=0, is_closed=False
            )
            for option in content["poll"]["options"]:
                option["voter_count"] = 0
        stored = self._send(chat, content, p, markup, self._reply_target(p, chat))
        if "poll" in content:
            self.polls[content["poll"]["id"]] = PollState(stored.data["poll"], chat.id, stored.message_id)
        return {"message_id": stored.message_id}

    def _copy_source(self, p: Params, verb: str) -> tuple[StoredMessage, SimChat]:
        from_chat = self.chat(p.raw.get("from_chat_id"), empty="from_chat_id is empty")
        chat = self.chat(p.raw.get("chat_id"))
        source = self.message(from_chat, p.integer("message_id"))
        if source is None:
            raise bad(f"message to {verb} not found")
        if source.service:
            raise bad(f"message can't be {'forwarded' if verb == 'forward' else 'copied'}")
        return source, chat

    # --- editing and deleting -----------------------------------------------------------------------------

    @api("editMessageText")
    async def edit_message_text(self, p: Params) -> dict:
        if not p.string("text"):
            raise bad("message text is empty")
        text, entities = self._text(p, "text", "parse_mode", "entities", allow_empty=False)
        markup = self._markup(p, inline_only=True)
        stored = self._editable(p)
        if "text" not in stored.data:
            raise bad("there is no text in the message to edit")
        if text_length(text) > self.limits.message_text:
            raise bad("MESSAGE_TOO_LONG")
        changes = {"text": text, "entities": entities or None, "reply_markup": markup}
        if isinstance(options := p.json("link_preview_options", "link preview options"), dict) and options:
            changes["link_preview_options"] = options
        return self._apply_edit(stored, changes)

    @api("editMessageCaption")
    async def edit_message_caption(self, p: Params) -> dict:
        content = self._caption(p, edit=True)
        markup = self._markup(p, inline_only=True)
        stored = self._editable(p)
        if not any(key in stored.data for key in MEDIA_KEYS):
            raise bad("there is no caption in the message to edit")
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
            "show_caption_above_media": content.get("show_caption_above_media"),
            "reply_markup": markup,
        }
        return self._apply_edit(stored, changes)

    @api("editMessageReplyMarkup")
    async def edit_message_reply_markup(self, p: Params) -> dict:
        markup = self._markup(p, inline_only=True)
        stored = self._editable(p)
        return self._apply_edit(stored, {"reply_markup": markup})

    def _deletable(self, chat: SimChat, stored: StoredMessage) -> bool:
        if stored.service and "pinned_message" not in stored.data:
            return False
        if self.now() - stored.sent_at > self.limits.delete_window:
            return False
        return stored.outgoing or chat.private or chat.bot_status in ("administrator", "creator")

    @api("deleteMessage")
    async def delete_message(self, p: Params) -> bool:
        chat = self.chat(p.raw.get("chat_id"))
        if not p.integer("message_id"):
            raise bad("message identifier is not specified")
        stored = self.message(chat, p.integer("message_id"))
        if stored is None:
            raise bad("message to delete not found")
        if not self._deletable(chat, stored):
            raise bad("message can't be deleted for everyone")
        self.delete(stored)
        return True

    @api("deleteMessages")
    async def delete_messages(self, p: Params) -> bool:
        chat = self.chat(p.raw.get("chat_id"))
        ids = p.json("message_ids", "message identifiers")
        if not isinstance(ids, list) or not ids:
            raise bad("message identifiers are not specified")
        if len(ids) > 100:
            raise bad("too many message identifiers specified")
        found = [s for s in (self.message(chat, i) for i in ids) if s is not None]
        if found and not any(self._deletable(chat, s) for s in found):
            raise bad("message can't be deleted for everyone")
        for stored in found:
            if self._deletable(chat, stored):
                self.delete(stored)
        return True

    # --- callbacks, commands, menu ------------------------------------------------------------------------

    @api("answerCallbackQuery")
    async def answer_callback_query(self, p: Params) -> bool:
        query_id = p.string("callback_query_id") or ""
        text = p.string("text") or ""
        if len(text) > self.limits.callback_answer_text:
            raise bad("MESSAGE_TOO_LONG")
        state: CallbackState | None = self.callbacks.get(query_id)
        timeout = self.limits.callback_answer_timeout
        if (
            state is None
            or state.answered
            or (timeout is not None and self.now() - state.created_at > timeout)
        ):
            raise bad(QUERY_TOO_OLD)
        state.answered = True
        self.callback_answers[query_id] = {
            "text": text or None,
            "show_alert": p.boolean("show_alert"),
            "url": p.string("url"),
            "cache_time": p.integer("cache_time", 0),
        }
        self._notify()
        return True

    def scope_key(self, scope: Any) -> tuple[Any, ...]:
        """The storage key of a BotCommandScope."""
        if scope is None:
            return ("default",)
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad("can't parse BotCommandScope: Unsupported type specified")
        kind = scope["type"]
        if kind not in ("chat", "chat_administrators", "chat_member"):
            return (kind,)
        chat = self.chat(scope.get("chat_id"))
        if kind != "chat_member":
            return (kind, chat.id)
        user_id = scope.get("user_id")
        if not isinstance(user_id, int) or user_id not in self.users:
            raise bad("user not found")
        return (kind, chat.id, user_id)

    def _commands_key(self, p: Params) -> tuple[tuple[Any, ...], str]:
        return self.scope_key(p.json("scope", "BotCommandScope")), language_code(p.string("language_code"))

    @api("setMyCommands")
    async def set_my_commands(self, p: Params) -> bool:
        if not p.has("commands"):
            raise bad('parameter "commands" is required')
        commands = bot_commands(p.json("commands", "commands"), self.limits)
        key = self._commands_key(p)
        if commands:
            self.command_sets[key] = commands
        else:
            self.command_sets.pop(key, None)
        return True

    @api("getMyCommands")
    async def get_my_commands(self, p: Params) -> list[dict]:
        return copy.deepcopy(self.command_sets.get(self._commands_key(p), []))

    @api("deleteMyCommands")
    async def delete_my_commands(self, p: Params) -> bool:
        self.command_sets.pop(self._commands_key(p), None)
        return True

    @api("setChatMenuButton")
    async def set_chat_menu_button(self, p: Params) -> bool:
        button = p.json("menu_button", "menu button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise bad("can't parse menu button: MenuButton must be an Object")
        if p.has("chat_id"):
            chat = self.chat(p.raw["chat_id"])
            if not chat.private:
                raise bad("menu button can be changed only in private chats")
            chat.menu_button = button
        else:
            self.default_menu_button = button
        return True

    @api("getChatMenuButton")
    async def get_chat_menu_button(self, p: Params) -> dict:
        chat = self.chat(p.raw["chat_id"]) if p.has("chat_id") else None
        return copy.deepcopy((chat and chat.menu_button) or self.default_menu_button or {"type": "commands"})

    # --- chats --------------------------------------------------------------------------------------------

    @api("sendChatAction")
    async def send_chat_action(self, p: Params) -> bool:
        action = (p.string("action") or "").lower()
        chat = self.chat(p.raw.get("chat_id"))
        if action not in CHAT_ACTIONS:
            raise bad("wrong parameter action in request")
        self.check_writable(chat)
        self.chat_actions.append((chat.id, action))
        return True

    @api("getChat")
    async def get_chat(self, p: Params) -> dict:
        chat = self.chat(p.raw.get("chat_id"))
        info = {
            **chat.to_dict(),
            "accent_color_id": chat.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }
        if chat.pinned and (pinned := self.message(chat, chat.pinned[-1])):
            info["pinned_message"] = copy.deepcopy(pinned.data)
        if not chat.private:
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_polls": True,
                "can_invite_users": True,
            }
        return info

    def member(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        """A ChatMember object."""
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "administrator":
            member.update(
                {"can_be_edited": False, "is_anonymous": False, **dict.fromkeys(ADMIN_RIGHTS, True)}
            )
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "kicked":
            member["until_date"] = 0
        return member

    @api("getChatMember")
    async def get_chat_member(self, p: Params) -> dict:
        chat = self.chat(p.raw.get("chat_id"))
        user_id = p.integer("user_id")
        if not user_id:
            raise bad("invalid user_id specified")
        if user_id == self.bot_id:
            return self.member(self.bot_user, chat.bot_status)
        user = self.users.get(user_id)
        if user is None:
            raise bad("user not found")
        if chat.private:
            if chat.id != user_id:
                raise bad("user not found")
            return self.member(user.to_dict(), "member")
        return self.member(user.to_dict(), chat.members.get(user_id, "left"))

    @api("pinChatMessage")
    async def pin_chat_message(self, p: Params) -> bool:
        chat = self.chat(p.raw.get("chat_id"))
        stored = self.message(chat, p.integer("message_id"))
        if stored is None:
            raise bad("message to pin not found")
        self.check_writable(chat)
        if not chat.private and chat.bot_status not in ("administrator", "creator"):
            raise bad("not enough rights to manage pinned messages in the chat")
        if stored.message_id in chat.pinned:
            chat.pinned.remove(stored.message_id)
        chat.pinned.append(stored.message_id)
        pinned = copy.deepcopy(stored.data)
        pinned.pop("reply_to_message", None)
        self.store_message(
            chat, {"pinned_message": pinned}, sender=self.bot_user, outgoing=True, service=True
        )
        return True

    @api("unpinChatMessage")
    async def unpin_chat_message(self, p: Params) -> bool:
        chat = self.chat(p.raw.get("chat_id"))
        if not chat.private and chat.bot_status not in ("administrator", "creator"):
            raise bad("not enough rights to manage pinned messages in the chat")
        if p.has("message_id"):
            if self.message(chat, p.integer("message_id")) is None:
                raise bad("message to unpin not found")
            if p.integer("message_id") in chat.pinned:
                chat.pinned.remove(p.integer("message_id"))
        elif chat.pinned:
            chat.pinned.pop()
        self._notify()
        return True

    @api("leaveChat")
    async def leave_chat(self, p: Params) -> bool:
        chat = self.chat(p.raw.get("chat_id"))
        if chat.private:
            raise bad("chat member status can't be changed in private chats")
        if chat.bot_status in ("left", "kicked"):
            raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        old = self.member(self.bot_user, chat.bot_status)
        chat.bot_status = "left"
        self.queue_update(
            "my_chat_member",
            {
                "chat": chat.to_dict(),
                "from": self.bot_user,
                "date": int(self.now()),
                "old_chat_member": old,
                "new_chat_member": self.member(self.bot_user, "left"),
            },
        )
        return True

    @api("setMessageReaction")
    async def set_message_reaction(self, p: Params) -> bool:
        chat = self.chat(p.raw.get("chat_id"))
        stored = self.message(chat, p.integer("message_id"))
        if stored is None:
            raise bad("MESSAGE_ID_INVALID")
        reactions = p.json("reaction", "reaction types") or []
        if not isinstance(reactions, list):
            raise bad("can't parse reaction types JSON object")
        if len(reactions) > 1:
            raise bad("REACTIONS_TOO_MANY")
        for reaction in reactions:
            if (
                not isinstance(reaction, dict)
                or reaction.get("type") != "emoji"
                or reaction.get("emoji") not in REACTION_EMOJI
            ):
                raise bad("REACTION_INVALID")
        self.reactions[(chat.id, stored.message_id)] = reactions
        self._notify()
        return True

    # --- files --------------------------------------------------------------------------------------------

    @api("getFile")
    async def get_file(self, p: Params) -> dict:
        stored = self.files.get(p.string("file_id") or "")
        if stored is None:
            raise bad("invalid file_id")
        if len(stored.data) > self.limits.download_bytes:
            raise bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

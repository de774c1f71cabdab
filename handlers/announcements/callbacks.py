"""The announcement buttons' callback data. The prefix "an" and the field order stay as they are:
composer cards and /announcements listings already sitting in organizers' chats keep working."""

from __future__ import annotations

from typing import Final

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class AnnounceAction(CallbackData, prefix="an"):
    """Composer and management buttons; `id` is the announcement, `value` a language, an interest
    key, a country code or an audience field depending on `action`."""

    action: str
    id: RowId
    value: str = ""


# Every action an announcement button can carry (the forged-button test presses each one).
ACTIONS: Final = (
    # the composer card
    "preview",
    "translate",
    "translate_to",
    "tr_skip",
    "topic",
    "topic_set",
    "urgent",
    "discard",
    # the audience
    "audience",
    "aud_interest",
    "aud_language",
    "aud_clear",
    "aud_residence",
    "aud_origin",
    "aud_city",
    "aud_country",
    "aud_done",
    # a super-admin's reach (handlers.composer.reach)
    "rch",
    "rch_cp",
    "rch_c",
    "rch_op",
    "rch_o",
    # sending
    "send",
    "send_confirm",
    "schedule",
    "schedule_confirm",
    "local",
    "local_confirm",
    # /announcements and editing
    "edit",
    "ef",
    "edit_text",
    "cancel_scheduled",
)

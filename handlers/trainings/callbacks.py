"""Callback data of the coordinators' training buttons (the members' `TrainingAction` lives with its
keyboard in `bot.views.trainings`, which delivery also builds). Ids and short codes only: any
client can forge these, so every handler re-checks rights and state on the server. Never change a
prefix or the order of the fields: buttons already sent must keep working."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from storage.types import RowId


class TrainingDraft(CallbackData, prefix="trd"):
    """Buttons of the /newtraining questions; `value` is a language, a duration, a step or a token."""

    action: str
    value: str = ""


class TrainingAdmin(CallbackData, prefix="tra"):
    """Coordinator buttons. `id` is the training (the list offset for "page"), `member` a member,
    `event` a session, `page` an offset in a list, `value` a short code."""

    action: str
    id: RowId = 0
    member: RowId = 0
    event: RowId = 0
    page: RowId = 0
    value: str = ""

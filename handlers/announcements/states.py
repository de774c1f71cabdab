"""The /announce dialog's FSM states (names kept: dialogs in progress survive a deployment)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class AnnounceStates(StatesGroup):
    text = State()
    translation = State()
    country = State()  # typing a country for the audience (residence or origin)
    city = State()
    schedule = State()
    local_time = State()
    edit_text = State()

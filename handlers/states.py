"""FSM states of every multi-step dialog, in one place."""

from aiogram.fsm.state import State, StatesGroup


class AnnounceStates(StatesGroup):
    text = State()
    translation = State()
    country = State()  # typing a country for the audience (residence or origin)
    city = State()
    schedule = State()
    local_time = State()
    edit_text = State()

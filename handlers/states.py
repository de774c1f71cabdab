"""FSM states of every multi-step dialog, in one place."""

from aiogram.fsm.state import State, StatesGroup


class ProfileStates(StatesGroup):
    name = State()
    origin = State()
    residence = State()
    city = State()
    timezone = State()
    interests = State()


class AdminStates(StatesGroup):
    target = State()

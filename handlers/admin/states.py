"""/admin's typed steps (persisted by name: never rename them)."""

from aiogram.fsm.state import State, StatesGroup


class AdminStates(StatesGroup):
    target = State()
    quiet_hours = State()

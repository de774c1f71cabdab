"""The profile wizard's states (persisted by name: never rename them)."""

from aiogram.fsm.state import State, StatesGroup


class ProfileStates(StatesGroup):
    name = State()
    origin = State()
    residence = State()
    city = State()
    timezone = State()
    interests = State()
    muted = State()


class DirectoryStates(StatesGroup):
    search = State()  # waits for a name to search the directory for

"""The staff's joint-position dialogs' FSM states."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class NewPosition(StatesGroup):
    title = State()
    statement = State()
    addressee = State()
    deadline = State()
    targets = State()  # whom to ask: organizations ticked (buttons)
    signatures = State()  # may members sign (buttons)
    preview = State()
    translation = State()  # the composer kit's translation items
    edit = State()  # the composer kit's ✏️ Edit value

"""FSM states of the organizer's event dialogs. The class keeps its name: the state strings
("EventStates:title", ...) are stored while a dialog waits, so a restart resumes it."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class EventStates(StatesGroup):
    """/newevent, one question at a time (answers kept in the FSM data until the draft is created),
    then translations and edits of an existing event (the composer kit's steps)."""

    title = State()
    description = State()
    start = State()  # typed, then confirmed with buttons (the parsed moment is echoed in words)
    end = State()
    place = State()
    capacity = State()
    deadline = State()
    reminders = State()  # buttons
    repeat = State()  # buttons
    translation_title = State()  # the kit's translation items: the title, then the description
    edit_value = State()  # the kit's ✏️ Edit: a field's new value
    audience = State()  # buttons: everyone, or a multi-select of interests and languages
    claim_window = State()  # buttons, asked only when there is a capacity

"""FSM states of every multi-step dialog, in one place."""

from aiogram.fsm.state import State, StatesGroup


class ProfileStates(StatesGroup):
    name = State()
    origin = State()
    residence = State()
    city = State()
    timezone = State()
    interests = State()
    muted = State()


class AdminStates(StatesGroup):
    target = State()
    quiet_hours = State()


class EventStates(StatesGroup):
    """/newevent, one question at a time (answers kept in the FSM data until the draft is created),
    then translations and edits of an existing event."""

    title = State()
    description = State()
    start = State()  # typed, then confirmed with buttons (the parsed moment is echoed in words)
    end = State()
    place = State()
    capacity = State()
    deadline = State()
    reminders = State()  # buttons
    repeat = State()  # buttons
    translation_title = State()
    translation_description = State()
    edit_value = State()
    audience = State()  # buttons: everyone, or a multi-select of interests and languages
    claim_window = State()  # buttons, asked only when there is a capacity


class TrainingSignupStates(StatesGroup):
    """Signing up for a training: the eligibility questions, one at a time (the FSM data holds the
    training id and the answers so far)."""

    answer = State()

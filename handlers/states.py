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


class TrainingSignupStates(StatesGroup):
    """Signing up for a training: the eligibility questions, one at a time (the FSM data holds the
    training id and the answers so far)."""

    answer = State()

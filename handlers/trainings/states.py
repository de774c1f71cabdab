"""FSM states of the training dialogs: signing up (members), /newtraining and the typed steps of
/managetrainings (coordinators)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class TrainingSignupStates(StatesGroup):
    """Signing up for a training: the eligibility questions, one at a time (the FSM data holds the
    training id and the answers so far)."""

    answer = State()


class DraftStates(StatesGroup):
    """/newtraining, one question at a time (answers kept in the FSM data until Publish)."""

    title = State()
    description = State()
    teaching = State()  # buttons: languages, several
    trainer = State()
    session_start = State()  # typed, then confirmed (echoed in words)
    session_duration = State()
    session_place = State()
    session_more = State()  # buttons: another session, or done
    capacity = State()
    deadline = State()
    questions = State()  # buttons: add a question, or done
    question_text = State()
    question_options = State()
    translations = State()  # buttons: a language, or done
    translation_title = State()  # the kit's translation items (title, then description), typed
    translation_description = State()  # no longer entered: an older version's dialog goes back
    audience = State()  # buttons, as for events
    preview = State()  # buttons: publish or discard


class ManageStates(StatesGroup):
    seats = State()  # typed: the new number of seats
    message = State()  # typed: a message to the confirmed participants
    message_preview = State()  # buttons: send or not

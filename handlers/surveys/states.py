"""The survey dialogs' FSM states.

Dialog state is stored in the database (`storage/fsm.py`) by its string name, so a member or a
coordinator in the middle of a dialog keeps their place across restarts and deployments. Both
groups were once classes named `SurveyStates`, and their states are stored as "SurveyStates:<name>":
the group name is pinned here so the classes could get names of their own. Never rename a state.
"""

from __future__ import annotations

from typing import Final

from aiogram.fsm.state import State, StatesGroup

STORED_GROUP: Final = "SurveyStates"  # the prefix of every survey state string in the database


class SurveyDialogStates(StatesGroup):
    """The coordinator's dialogs. Answers live in the FSM data ("survey_draft") until the survey is
    created; typed times are echoed in words and confirmed with a button."""

    question = State(group_name=STORED_GROUP)  # /poll: the question
    title = State(group_name=STORED_GROUP)  # /newsurvey: the title
    kind = State(group_name=STORED_GROUP)  # buttons
    text = State(group_name=STORED_GROUP)
    options = State(group_name=STORED_GROUP)  # typed, one per line or one per message; Done when 2+
    bounds = State(group_name=STORED_GROUP)
    max_length = State(group_name=STORED_GROUP)
    optional = State(group_name=STORED_GROUP)  # buttons
    more = State(group_name=STORED_GROUP)  # buttons: another question, or done
    multiple = State(group_name=STORED_GROUP)  # /poll: one answer or several (buttons)
    anonymous = State(group_name=STORED_GROUP)  # buttons
    audience = State(group_name=STORED_GROUP)  # buttons
    opens = State(group_name=STORED_GROUP)  # buttons (now / later), then typed
    closes = State(group_name=STORED_GROUP)  # typed, then confirmed (also: extending, a copy's closing)
    reminder = State(group_name=STORED_GROUP)  # buttons
    translation = State(group_name=STORED_GROUP)  # typed, item after item
    edit_value = State(group_name=STORED_GROUP)  # ✏️ Edit on a draft's card: a field's new value


class AnsweringStates(StatesGroup):
    """A member answering a survey: typed answers go to the survey in the FSM data ("survey_id")."""

    answering = State(group_name=STORED_GROUP)

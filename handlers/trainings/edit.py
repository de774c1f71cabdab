"""✏️ Edit on the /newtraining preview (the composer kit's edit list, issue 16): a field reopens
the dialog's own step — the same question, buttons and checks — and once that step is answered
(`go_on` leaves the field's steps) the preview comes back. The sessions and the sign-up questions
are entered again from the first one."""

from __future__ import annotations

from typing import Final

from aiogram.fsm.state import State

from bot.i18n import _
from handlers.composer import Item, Turn
from handlers.trainings.new_training_steps import ANY_TEXT, EDITING, ask
from handlers.trainings.states import DraftStates as S
from handlers.trainings.training_draft import Draft

# A field: its steps (the first is asked) and, for a list entered again, the draft key emptied.
FIELD_STEPS: Final[dict[str, tuple[State, ...]]] = {
    "title": (S.title,),
    "description": (S.description,),
    "teaching": (S.teaching,),
    "trainer": (S.trainer,),
    "sessions": (S.session_start, S.session_duration, S.session_place, S.session_more),
    "capacity": (S.capacity,),
    "deadline": (S.deadline,),
    "questions": (S.questions, S.question_text, S.question_options),
    "translations": (S.translations,),
    "audience": (S.audience,),
}
ENTERED_AGAIN: Final = ("sessions", "questions")


def fields() -> list[Item]:
    """The ✏️ Edit list (each asked by its dialog step, not by the kit: no prompt of its own)."""
    labels = {
        "title": _("Title"),
        "description": _("Description"),
        "teaching": _("Languages"),
        "trainer": _("Trainer"),
        "sessions": _("Sessions"),
        "capacity": _("Seats"),
        "deadline": _("Sign-up deadline"),
        "questions": _("Questions at sign-up"),
        "translations": _("Translations"),
        "audience": _("Audience"),
    }
    return [Item(key, "", ANY_TEXT, label=label) for key, label in labels.items()]


async def reopen(turn: Turn, draft: Draft, key: str) -> None:
    """The field's first step is asked again, the preview waiting at its end."""
    draft[EDITING] = [str(state.state) for state in FIELD_STEPS[key]]
    if key in ENTERED_AGAIN:
        draft[key] = []
        await turn.say(_("Enter them again from the first one; the preview comes back when you press Done."))
    if key == "sessions":
        draft.pop("deadline", None)  # it must fall before the first session: asked again if wanted
    await turn.state.update_data(training=draft)
    await ask(turn, FIELD_STEPS[key][0], draft)

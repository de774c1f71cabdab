"""The buttons of the /newtraining steps, one handler per action: skips, the teaching languages,
the buttons that only lead on, and a question's free text answer. The sessions' buttons are in
`new_training_sessions`, the audience in `audience`; translations, Publish and Discard are the
kit's (`composer`).

Each handler is registered with the kit's `draft_button`: the right is declared, and the draft is
loaded by `COMPOSER.load` only while the dialog is at a step that answers to that button (else the
press is answered as stale; the catch-all `audience.stale` takes every other `TrainingDraft`)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Router

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import language_names
from bot.services.trainings.rules import TrainingError
from handlers.composer import Turn, draft_button
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.composer import COMPOSER
from handlers.trainings.new_training_steps import go_on, language_picker
from handlers.trainings.states import DraftStates as S
from handlers.trainings.texts import error_text
from handlers.trainings.training_draft import Draft

router: Final[Router] = Router(name=__name__)

# Skip: the step it skips (its value) and the next one.
SKIP_TO: Final = {"description": (S.description, S.teaching), "deadline": (S.deadline, S.questions)}
# Buttons that only lead to the next question: action → the next step.
FORWARD: Final = {
    "sessions_done": S.capacity,
    "q_add": S.question_text,
    "q_done": S.translations,
    "tr_done": S.audience,
}


@draft_button(COMPOSER, router, "skip")
async def skip(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    """Skip an optional step (the description, the deadline): only the one being asked."""
    skipped, following = SKIP_TO.get(data.value, (None, None))
    if skipped is None or following is None or skipped.state != turn.data["step"]:
        turn.stale()
        return
    draft.pop(data.value, None)  # ✏️ Edit may skip a value given before
    await go_on(turn, draft, following)


@draft_button(COMPOSER, router, *FORWARD)
async def forward(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    """Done with the sessions, a question to add, done with the questions or the translations."""
    await go_on(turn, draft, FORWARD[data.action])


@draft_button(COMPOSER, router, "lang")
async def toggle_language(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    chosen = list(draft.get("teaching") or [])
    if data.value not in SHIPPED_LANGUAGES:
        turn.stale()
        return
    draft["teaching"] = (
        [code for code in chosen if code != data.value] if data.value in chosen else [*chosen, data.value]
    )
    await turn.state.update_data(training=draft)
    if turn.message is not None:
        await turn.message.edit_reply_markup(reply_markup=language_picker(draft["teaching"]))


@draft_button(COMPOSER, router, "lang_done")
async def languages_done(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    if not draft.get("teaching"):
        turn.toast(error_text(TrainingError("no_teaching_language")), alert=True)
        return
    chosen = language_names(draft["teaching"])
    await go_on(turn, draft, S.trainer, escape(chosen))


@draft_button(COMPOSER, router, "free")
async def free_text_answer(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    """The question being added takes a typed answer instead of choices."""
    pending = draft.pop("pending_question", None)
    if pending:
        draft["questions"] = [*(draft.get("questions") or []), {"text": pending, "options": []}]
    await go_on(turn, draft, S.questions)

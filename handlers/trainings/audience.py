"""The audience step of /newtraining (everyone, or the interests and languages ticked; see
`handlers.composer.audience`), which leads to the kit's preview; and the catch-all for any other
`TrainingDraft` press (another step's button, a finished dialog, forged data). This router comes
after the other /newtraining routers."""

from __future__ import annotations

from typing import Final

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.i18n import _
from handlers.composer import Turn, audience_choice, audience_summary, draft_button, show_picker
from handlers.fallback import stale_button
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.composer import COMPOSER
from handlers.trainings.managed import COORDINATOR
from handlers.trainings.new_training_steps import close_question
from handlers.trainings.training_draft import Draft

router: Final[Router] = Router(name=__name__)


@draft_button(COMPOSER, router, "aud", "aud_i", "aud_l")
async def audience(turn: Turn, draft: Draft, data: TrainingDraft) -> None:
    """A tick redraws the picker; "Everyone" or Done closes the question and shows the preview."""
    choice = audience_choice(dict(draft.get("audience") or {}), data.action, data.value)
    if choice is None:
        turn.stale()
        return
    outcome, draft["audience"] = choice
    await turn.state.update_data(training=draft)
    if outcome == "done":
        await close_question(turn, audience_summary(draft["audience"]))
        await COMPOSER.show_preview(turn, draft)
    elif turn.message is not None:
        question = _("Who should be told about this training?")
        hint = _("Tick the interests and languages of the members to tell, then press Done.")
        await show_picker(turn.message, outcome, draft["audience"], question, hint, TrainingDraft)


@router.callback_query(TrainingDraft.filter(), flags=COORDINATOR)
async def stale(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button of another step, of a finished dialog, or forged."""
    stale_button(callback_answer)

"""What the step handlers of the /poll and /newsurvey dialogs share: starting a dialog, reading the
draft back for a typed answer or a button (and refusing what does not belong to the current step),
moving to the next step, and writing the draft survey at the end; and what the dialog says to a
message that is no answer (a command, text where buttons are expected, a photo).

Rights are declared on every handler (`rights(Action.RUN_SURVEYS)`): the policy refuses a typed step
or a button of someone who may not run surveys, and ends their dialog, before any handler runs.
"""

from __future__ import annotations

import secrets
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.surveys.drafts import build_survey
from bot.services.surveys.rules import SurveyError
from handlers.fallback import stale_button
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.states import SurveyDialogStates
from handlers.surveys.steps import (
    BUTTON_STEPS,
    BUTTON_VALUES,
    BUTTONS,
    STEP_OF_STATE,
    STEP_STATES,
    ask,
    draft_of,
    following,
)
from handlers.surveys.texts import error_text, expired
from handlers.surveys.views import send_draft
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

Step = tuple[str, dict[str, Any]]  # the current step's name and the draft so far


def step_button(*actions: str) -> CallbackQueryFilter:
    """The filter of a dialog button (`id` 0: a draft card's buttons carry the survey's id)."""
    return SurveyDialog.filter(F.action.in_(actions) & (F.id == 0))


async def start_dialog(message: Message, ctx: Context, state: FSMContext, bot: Bot, mode: str) -> None:
    """/poll ("poll") or /newsurvey ("survey"): a fresh draft, then its first question."""
    draft = {
        "mode": mode,
        "zone": ctx.zone,
        "language": ctx.locale,
        "questions": [],
        "current": {"kind": "single"} if mode == "poll" else {},
        "audience": {},
        "nonce": secrets.token_hex(4),
    }
    await state.set_state(None)
    await state.update_data(survey_draft=draft, survey_translation=None)
    await ask(bot, message.chat.id, state, "question" if mode == "poll" else "title", draft)


async def is_command(message: Message) -> bool:
    """A command typed where the dialog waits for an answer: say so (the answer is not taken)."""
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return True
    return False


async def typed_step(message: Message, state: FSMContext) -> Step | None:
    """The step a typed answer belongs to, and the draft; None once the sender was told why not."""
    if await is_command(message):
        return None
    step = STEP_OF_STATE.get(await state.get_state() or "")
    draft = draft_of(await state.get_data())
    if step is None or draft is None:
        await state.clear()
        await message.answer(expired())
        return None
    return step, draft


async def button_step(
    callback_data: SurveyDialog, state: FSMContext, callback_answer: CallbackAnswer
) -> Step | None:
    """The step a dialog button belongs to, and the draft; None (a stale button) when the dialog
    is not at that step, or the button carries a value it never offers."""
    action, value = callback_data.action, callback_data.value
    step = STEP_OF_STATE.get(await state.get_state() or "")
    draft = draft_of(await state.get_data())
    if draft is None or step is None or BUTTON_STEPS.get(action) != step:
        stale_button(callback_answer)
        return None
    if action in BUTTON_VALUES and value not in BUTTON_VALUES[action]:
        stale_button(callback_answer)
        return None
    return step, draft


async def hide_buttons(query: CallbackQuery) -> None:
    """A question is answered: its buttons go."""
    message = query.message if isinstance(query.message, Message) else None
    if message is not None and message.reply_markup is not None:
        await message.edit_reply_markup(reply_markup=None)


async def advance(
    bot: Bot, chat_id: int, ctx: Context, state: FSMContext, step: str, draft: dict[str, Any]
) -> None:
    """Keep the draft and ask the step after `step` (or write the survey when it was the last)."""
    await state.update_data(survey_draft=draft)
    after = following(step, draft)
    if after is None:
        await create_draft(bot, chat_id, ctx, state, draft)
        return
    await ask(bot, chat_id, state, after, draft)


async def create_draft(
    bot: Bot, chat_id: int, ctx: Context, state: FSMContext, draft: dict[str, Any]
) -> None:
    """The end of a dialog: the draft is written, then shown with its Publish button."""
    member_id = ctx.member.id if ctx.member else None
    try:
        survey = await build_survey(ctx.session, ctx.organization_id, draft, utcnow(), member_id)
    except SurveyError as error:
        await refused(bot, chat_id, ctx, state, draft, error)
        if error.reason != "bad_times":
            await bot.send_message(chat_id, expired())
        return
    await state.clear()
    await ctx.session.commit()
    await bot.send_message(
        chat_id, _("👁 Preview: nothing is sent until you press Publish. Members get it in their language.")
    )
    await send_draft(bot, chat_id, ctx, survey, draft["zone"])


async def refused(
    bot: Bot, chat_id: int, ctx: Context, state: FSMContext, draft: dict[str, Any], error: SurveyError
) -> None:
    """The service refused the dialog's outcome: nothing is kept, a closing time too early is asked
    again, anything else ends the dialog."""
    await ctx.session.rollback()
    await bot.send_message(chat_id, error_text(error))
    if error.reason == "bad_times":
        await ask(bot, chat_id, state, "closes", draft)
    else:
        await state.clear()


# -- messages that are no answer ------------------------------------------------------------------


BUTTON_STATES: Final = tuple(STEP_STATES[step] for step in BUTTONS)


@router.message(StateFilter(*BUTTON_STATES), F.text, flags=rights(Action.RUN_SURVEYS))
async def buttons_expected(message: Message, state: FSMContext) -> None:
    """Text typed where the step offers buttons."""
    if await typed_step(message, state) is not None:
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


@router.message(
    StateFilter(*STEP_STATES.values(), SurveyDialogStates.translation),
    ~F.text,
    flags=rights(Action.RUN_SURVEYS),
)
async def not_text(message: Message) -> None:
    """A photo, a sticker... where the dialog waits for text or a button."""
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

"""What the steps of the /poll and /newsurvey dialogs share: starting a dialog; registering a step's
handler (`typed_step`, `step_button`), which reads the draft back, refuses what does not belong to
the current step and checks typed text with the composer kit's rule; moving on to the next step
(`answered`: the question's buttons go, the next question comes); and writing the draft survey at
the end. Also what the dialog says to a message that is no answer (text where buttons are expected,
a photo).

Rights are declared on every handler (`rights(Action.RUN_SURVEYS)`): the policy refuses a typed step
or a button of someone who may not run surveys, and ends their dialog, before any handler runs.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.surveys.drafts import build_survey
from bot.services.surveys.rules import SurveyError
from handlers.composer import TextRule, Turn, echo_choice, message_turn, read_text
from handlers.surveys.buttons import register_button
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.composer import show_card
from handlers.surveys.steps import BUTTON_STATES, STATES, ask, current_step, following, go_to, offers
from handlers.surveys.texts import ANY_TEXT, error_text, expired
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

RUN_SURVEYS: Final = rights(Action.RUN_SURVEYS)
Draft = dict[str, Any]
TypedStep = Callable[[Turn, str, Draft, str], Awaitable[None]]  # (turn, step, draft, text)
ButtonStep = Callable[[Turn, str, Draft, SurveyDialog], Awaitable[None]]  # (turn, step, draft, button)


def typed_step(on: Router, rule: TextRule, *states: State) -> Callable[[TypedStep], TypedStep]:
    """Register `handler(turn, step, draft, text)` for text typed in these states: the text is
    checked by `rule` (empty or invisible, too long, a command: the dialog says so and waits), the
    draft read back (gone: the dialog has expired). A value the service's checks refuse
    (`SurveyError`) is said in words, and the step waits for a corrected one."""

    def register(handler: TypedStep) -> TypedStep:
        async def on_text(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
            turn = message_turn(message, ctx, state, bot)
            text = await read_text(message, state, rule)
            if text is None:
                return
            step, draft = await current_step(state)
            if step is None or draft is None:
                await state.clear()
                await turn.say(expired())
                return
            try:
                await handler(turn, step, draft, text)
            except SurveyError as error:
                await turn.say(error_text(error))

        on_text.__name__, on_text.__qualname__ = handler.__name__, handler.__qualname__
        on_text.__module__ = handler.__module__
        on.message(StateFilter(*states), F.text, flags=RUN_SURVEYS)(on_text)
        return handler

    return register


def step_button(on: Router, *actions: str) -> Callable[[ButtonStep], ButtonStep]:
    """Register `handler(turn, step, draft, button)` for these dialog buttons (`id` 0: a draft
    card's buttons carry the survey's id). A button of another step than the current one, or with
    a value it never offers, is stale; a value the service's checks refuse is an alert."""

    def register(handler: ButtonStep) -> ButtonStep:
        async def run(turn: Turn, button: SurveyDialog, data: dict[str, Any]) -> None:
            step, draft = await current_step(turn.state)
            if step is None or draft is None or not offers(step, button):
                turn.stale()
                return
            try:
                await handler(turn, step, draft, button)
            except SurveyError as error:
                turn.toast(error_text(error), alert=True)

        buttons = SurveyDialog.filter(F.action.in_(actions) & (F.id == 0))
        register_button(on, buttons, RUN_SURVEYS, handler, run)
        return handler

    return register


# -- moving on ------------------------------------------------------------------------------------


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
    await go_to(message_turn(message, ctx, state, bot), "question" if mode == "poll" else "title", draft)


async def hide_buttons(turn: Turn, choice: str | None = None) -> None:
    """A question is answered: its buttons go and the choice is echoed under it (the kit's)."""
    await echo_choice(turn, choice)


async def advance(turn: Turn, step: str, draft: Draft) -> None:
    """Keep the draft and ask the step after `step` (or write the survey when it was the last)."""
    after = following(step, draft)
    if after is None:
        await create_draft(turn, draft)
    else:
        await go_to(turn, after, draft)


async def answered(turn: Turn, step: str, draft: Draft, choice: str | None = None) -> None:
    """A step answered with a button: the question's buttons go (the choice echoed: the pressed
    button's text, or `choice`), the next step comes."""
    await hide_buttons(turn, choice)
    await advance(turn, step, draft)


async def create_draft(turn: Turn, draft: Draft) -> None:
    """The end of a dialog: the draft is written, then shown with its Publish button."""
    ctx = turn.ctx
    member_id = ctx.member.id if ctx.member else None
    try:
        survey = await build_survey(ctx.session, ctx.organization_id, draft, utcnow(), member_id)
    except SurveyError as error:
        await refused(turn, draft, error)
        if error.reason != "bad_times":
            await turn.say(expired())
        return
    await turn.state.clear()
    await turn.say(_("👁 Preview: nothing is sent until you press Publish. Members get it in their language."))
    await show_card(turn, survey, draft["zone"])


async def refused(turn: Turn, draft: Draft, error: SurveyError) -> None:
    """The service refused the dialog's outcome: nothing is kept, a closing time too early is asked
    again, anything else ends the dialog."""
    await turn.ctx.session.rollback()
    await turn.say(error_text(error))
    if error.reason == "bad_times":
        await ask(turn, "closes", draft)
    else:
        await turn.state.clear()


# -- messages that are no answer ------------------------------------------------------------------


@typed_step(router, ANY_TEXT, *BUTTON_STATES)
async def buttons_expected(turn: Turn, step: str, draft: Draft, text: str) -> None:
    """Text typed where the step offers only buttons."""
    await turn.say(_("Please choose with the buttons above, or send /cancel to stop."))


@router.message(StateFilter(*STATES.values()), ~F.text, flags=RUN_SURVEYS)
async def not_text(message: Message) -> None:
    """A photo, a sticker... where the dialog waits for text or a button."""
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

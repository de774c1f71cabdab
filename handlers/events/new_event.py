"""/newevent: one question at a time, each typed answer checked (the dialog waits for a corrected
value) and each button valid only in the step it belongs to. Nothing is written before the last
answer; then `drafts.create_drafts` writes the draft and shows the preview."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action
from bot.services.dates import DateError
from bot.services.events.rules import EventError
from handlers.composer import (
    Turn,
    audience_choice,
    audience_summary,
    button_turn,
    date_error_text,
    message_turn,
    read_text,
    show_picker,
    staff_dialog,
)
from handlers.composer.audience import dialog_reach
from handlers.composer.reach import CODES as REACH_CODES
from handlers.composer.reach import offers_reach
from handlers.composer.spec import STEP_KEY
from handlers.events import new_event_steps as steps
from handlers.events.callbacks import EventAdmin
from handlers.events.common import MANAGE, close_question
from handlers.events.drafts import create_drafts
from handlers.events.edit import EDIT_KEY
from handlers.events.texts import ANSWER, expired, refusal
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
QuestionButton = Callable[[Turn, dict[str, Any], EventAdmin], Awaitable[None]]


@staff_dialog(router, "newevent", Action.MANAGE_EVENTS, publishes=True)
async def new_event(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(None)
    await state.update_data(
        {"draft": {"zone": ctx.zone, "language": ctx.locale}, STEP_KEY: None, EDIT_KEY: None}
    )
    await steps.ask(message_turn(message, ctx, state, bot), "title", {})


async def _waiting(state: FSMContext) -> tuple[str, dict[str, Any]] | None:
    """The step the dialog waits in and the answers so far (None: no such dialog any more)."""
    step = steps.STEP_OF_STATE.get(await state.get_state() or "")
    draft = (await state.get_data()).get("draft")
    if step is None or not isinstance(draft, dict) or not draft.get("zone"):
        return None
    return step, dict(draft)


@router.message(StateFilter(*steps.DIALOG_STATES), F.text, flags=MANAGE)
async def dialog_answer(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    """A typed answer: checked (empty, a command, too long; then by its step), kept, and the next
    question; a typed start is echoed in words to confirm first."""
    found = await _waiting(state)
    if found is None:
        await state.clear()
        await message.answer(expired())
        return
    step, draft = found
    text = await read_text(message, state, steps.TEXT_RULES.get(step, ANSWER))
    if text is None:
        return
    if step in steps.BUTTON_STEPS:
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    try:
        draft.update(steps.TYPED[step](text, draft, utcnow()))
    except (EventError, DateError) as error:
        await message.answer(refusal(error))
        return
    turn = message_turn(message, ctx, state, bot)
    if step != "start":
        await steps.ask_next(turn, step, draft, steps.echo(step, draft, ctx.locale))
        return
    await state.update_data(draft=draft)
    start = steps.moment(draft["pending_start"])
    assert start is not None
    await steps.confirm_start(turn, start, draft["zone"], "start_ok", "start_change", 0)


@router.message(StateFilter(*steps.DIALOG_STATES), ~F.text, flags=MANAGE)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


# -- the buttons of the questions -------------------------------------------------------------------


def question_button(step: str | None, *actions: str) -> Callable[[QuestionButton], QuestionButton]:
    """Register `handler(turn, draft, callback_data)` for the buttons `actions` of the question of
    `step` (None: Skip, whose value names the step): it runs only while the dialog waits in that
    step, with the answers so far; any other press is "no longer active" (an old question, or
    forged data)."""

    def register(handler: QuestionButton) -> QuestionButton:
        async def on_button(
            query: CallbackQuery,
            callback_data: EventAdmin,
            ctx: Context,
            state: FSMContext,
            callback_answer: CallbackAnswer,
            bot: Bot,
        ) -> None:
            turn = button_turn(query, ctx, state, bot, callback_answer)
            expected = step or (callback_data.value if callback_data.value in steps.SKIPPABLE else None)
            found = await _waiting(state)
            if found is None or found[0] != expected:
                turn.stale()
                return
            await handler(turn, found[1], callback_data)

        on_button.__name__, on_button.__qualname__ = handler.__name__, handler.__qualname__
        router.callback_query(EventAdmin.filter(F.action.in_(set(actions))), flags=MANAGE)(on_button)
        return handler

    return register


async def answered(turn: Turn, step: str, draft: dict[str, Any] | None, choice: str | None = None) -> None:
    """Close the question (`choice` echoed, else the pressed button's text) and go to the next
    step (after the last one the draft is written); None: a value this question never offered
    (forged), "no longer active"."""
    if draft is None:
        turn.stale()
        return
    await close_question(turn, choice)
    if step != steps.STEPS[-1]:
        await steps.ask_next(turn, step, draft)
        return
    await turn.state.update_data(draft=draft)
    await create_drafts(turn, draft)


@question_button(None, "skip")
async def skip_step(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    await answered(turn, data.value, draft)


@question_button("start", "start_change")
async def change_start(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    await close_question(turn)
    draft.pop("pending_start", None)
    await turn.state.update_data(draft=draft)
    await steps.ask(turn, "start", draft)


@question_button("start", "start_ok")
async def confirm_start_button(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    """✅ Correct under the echo of a typed start: it confirms the moment it shows, or nothing."""
    pending = steps.moment(draft.pop("pending_start", None))
    if pending is None or steps.token(pending) != data.value:
        turn.stale()
    elif pending > utcnow():
        await answered(turn, "start", {**draft, "starts_at": pending.isoformat()})
    else:
        await close_question(turn)
        await turn.say(date_error_text(DateError("past")))
        await steps.ask(turn, "start", draft)


@question_button("capacity", "nolimit")
async def no_limit(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    await answered(turn, "capacity", {**draft, "capacity": None})


@question_button("reminders", "rem")
async def choose_reminders(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    reminders = steps.REMINDERS.get(data.value)
    await answered(turn, "reminders", None if reminders is None else {**draft, "reminders": reminders})


@question_button("audience", "aud", "aud_i", "aud_l", *REACH_CODES)
async def choose_audience(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    """Everyone, or ticking interests and languages (the kit's picker; for super-admins, the
    organizations reached too), then Done."""
    reach = await offers_reach(turn.ctx)
    if data.action in REACH_CODES:
        widened = await dialog_reach(
            turn, dict(draft.get("audience") or {}), data.action, data.value, EventAdmin
        )
        if widened is None:
            turn.stale()
        else:
            await turn.state.update_data(draft={**draft, "audience": widened})
        return
    choice = audience_choice(dict(draft.get("audience") or {}), data.action, data.value)
    if choice is None or choice[0] == "done":
        chosen = None if choice is None else {**draft, "audience": choice[1]}
        await answered(turn, "audience", chosen, None if choice is None else audience_summary(choice[1]))
        return
    outcome, audience = choice
    await turn.state.update_data(draft={**draft, "audience": audience})
    if turn.message is not None:
        question = _("Who should be told about this event?")
        hint = _("Tick the interests and languages of the members to tell, then press Done.")
        await show_picker(turn.message, outcome, audience, question, hint, EventAdmin, reach)


@question_button("claim_window", "claim")
async def choose_claim_window(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    known = data.value in steps.CLAIM_WINDOWS
    await answered(
        turn, "claim_window", {**draft, "claim_window": steps.CLAIM_WINDOWS[data.value]} if known else None
    )


@question_button("repeat", "rep")
async def choose_repeat(turn: Turn, draft: dict[str, Any], data: EventAdmin) -> None:
    """The last answer: then the draft (or the series of drafts) is written and previewed."""
    known = data.value == "once" or data.value in steps.RULES
    await answered(turn, "repeat", {**draft, "repeat": data.value} if known else None)

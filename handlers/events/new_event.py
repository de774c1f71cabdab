"""/newevent: one question at a time, each typed answer validated (the dialog waits for a
corrected value) and each button valid only in the step it belongs to. Nothing is written before
the last answer; then `drafts.create_drafts` writes the draft and shows the preview."""

from __future__ import annotations

from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.dates import DateError, parse_local_datetime
from bot.services.events import rules
from bot.services.events.rules import EventError
from handlers.composer.audience import audience_choice, show_picker
from handlers.events.callbacks import EventAdmin
from handlers.events.common import close_question, typed_answer
from handlers.events.drafts import create_drafts
from handlers.events.new_event_steps import (
    BUTTON_STEPS,
    CLAIM_WINDOWS,
    DIALOG_STATES,
    REMINDERS,
    RULES,
    SKIPPABLE,
    STEP_OF_STATE,
    ask,
    ask_next,
    confirm_start,
    moment,
    parse_end,
    token,
)
from handlers.events.states import EventStates
from handlers.events.texts import date_error_text, error_text, parse_place
from handlers.fallback import stale_button
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
MANAGE: Final = rights(Action.MANAGE_EVENTS)


@router.message(Command("newevent"), flags=MANAGE)
async def new_event(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(None)
    await state.update_data(draft={"zone": ctx.zone, "language": ctx.locale}, edit=None, translate=None)
    await ask(bot, message.chat.id, state, "title", {})


# -- typed answers ----------------------------------------------------------------------------------


async def _typed_step(message: Message, state: FSMContext) -> tuple[str, dict[str, Any]] | None:
    """For a typed answer: (step, answers so far); None after telling the organizer why not."""
    step = STEP_OF_STATE.get(await state.get_state() or "")
    draft = (await state.get_data()).get("draft")
    if step is None or not isinstance(draft, dict) or not draft.get("zone"):
        await state.clear()
        await message.answer(_("This dialog has expired. Send /newevent to start again."))
        return None
    if not await typed_answer(message):
        return None
    return step, dict(draft)


@router.message(StateFilter(*DIALOG_STATES), F.text, flags=MANAGE)
async def dialog_answer(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    found = await _typed_step(message, state)
    if found is None:
        return
    step, draft = found
    text, zone, now = message.text or "", draft["zone"], utcnow()
    if step in BUTTON_STEPS:
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    try:
        if step == "title":
            draft["title"] = rules.validate_title(text)
        elif step == "description":
            draft["description"] = rules.validate_description(text)
        elif step == "start":
            typed = parse_local_datetime(text, zone, now)
            draft["pending_start"] = typed.utc.isoformat()
            await state.update_data(draft=draft)
            await confirm_start(message, typed.utc, zone, ctx.locale, "start_ok", "start_change", 0)
            return
        elif step == "end":
            starts_at = moment(draft.get("starts_at"))
            assert starts_at is not None
            ends_at = parse_end(text, starts_at, zone, now)
            rules.validate_times(starts_at, ends_at, None, now, check_start=False)
            draft["ends_at"] = ends_at.isoformat()
        elif step == "place":
            draft["place"], draft["online_url"] = parse_place(text)
            if draft["place"] is None and draft["online_url"] is None:
                await message.answer(_("That looks empty. Please type your answer."))
                return
        elif step == "capacity":
            capacity = rules.validate_capacity(text)
            if capacity is None:
                raise EventError("capacity_range", rules.CAPACITY_MAX)
            draft["capacity"] = capacity
        elif step == "deadline":
            starts_at = moment(draft.get("starts_at"))
            assert starts_at is not None
            deadline = parse_local_datetime(text, zone, now).utc
            rules.validate_times(starts_at, moment(draft.get("ends_at")), deadline, now, check_start=False)
            draft["rsvp_deadline"] = deadline.isoformat()
    except EventError as error:
        await message.answer(error_text(error))
        return
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    await ask_next(bot, message.chat.id, state, step, draft)


@router.message(
    StateFilter(
        *DIALOG_STATES,
        EventStates.translation_title,
        EventStates.translation_description,
        EventStates.edit_value,
    ),
    ~F.text,
    flags=MANAGE,
)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


# -- the buttons of the questions -------------------------------------------------------------------


async def _button_step(
    state: FSMContext, expected: State | None, callback_answer: CallbackAnswer
) -> tuple[str, dict[str, Any]] | None:
    """(step, answers so far) when the dialog waits in `expected`, the state the pressed button
    belongs to; None after answering "no longer active" (an old question, or forged data)."""
    current = await state.get_state()
    draft = dict((await state.get_data()).get("draft") or {})
    step = STEP_OF_STATE.get(current or "")
    if expected is None or current != expected.state or step is None or not draft.get("zone"):
        stale_button(callback_answer)
        return None
    return step, draft


@router.callback_query(EventAdmin.filter((F.action == "skip") & (F.value != "tr_description")), flags=MANAGE)
async def skip_step(
    query: CallbackQuery,
    callback_data: EventAdmin,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    found = await _button_step(state, SKIPPABLE.get(callback_data.value), callback_answer)
    if found is None:
        return
    await close_question(query)
    await ask_next(bot, query.from_user.id, state, *found)


@router.callback_query(EventAdmin.filter(F.action == "start_change"), flags=MANAGE)
async def change_start(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    found = await _button_step(state, EventStates.start, callback_answer)
    if found is None:
        return
    await close_question(query)
    _step, draft = found
    draft.pop("pending_start", None)
    await state.update_data(draft=draft)
    await ask(bot, query.from_user.id, state, "start", draft)


@router.callback_query(EventAdmin.filter(F.action == "start_ok"), flags=MANAGE)
async def confirm_start_button(
    query: CallbackQuery,
    callback_data: EventAdmin,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    found = await _button_step(state, EventStates.start, callback_answer)
    if found is None:
        return
    await close_question(query)
    step, draft = found
    chat_id = query.from_user.id
    pending = moment(draft.pop("pending_start", None))
    if pending is None or token(pending) != callback_data.value:
        stale_button(callback_answer)
        return
    if pending <= utcnow():
        await bot.send_message(chat_id, date_error_text(DateError("past")))
        await ask(bot, chat_id, state, "start", draft)
        return
    draft["starts_at"] = pending.isoformat()
    await ask_next(bot, chat_id, state, step, draft)


@router.callback_query(EventAdmin.filter(F.action == "nolimit"), flags=MANAGE)
async def no_limit(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    found = await _button_step(state, EventStates.capacity, callback_answer)
    if found is None:
        return
    await close_question(query)
    step, draft = found
    draft["capacity"] = None
    await ask_next(bot, query.from_user.id, state, step, draft)


@router.callback_query(EventAdmin.filter(F.action == "rem"), flags=MANAGE)
async def choose_reminders(
    query: CallbackQuery,
    callback_data: EventAdmin,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    found = await _button_step(state, EventStates.reminders, callback_answer)
    if found is None:
        return
    await close_question(query)
    step, draft = found
    if callback_data.value not in REMINDERS:
        stale_button(callback_answer)
        return
    draft["reminders"] = REMINDERS[callback_data.value]
    await ask_next(bot, query.from_user.id, state, step, draft)


@router.callback_query(EventAdmin.filter(F.action.in_({"aud", "aud_i", "aud_l"})), flags=MANAGE)
async def choose_audience(
    query: CallbackQuery,
    callback_data: EventAdmin,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The audience question: everyone, or ticking interests and languages, then Done."""
    found = await _button_step(state, EventStates.audience, callback_answer)
    if found is None:
        return
    _step, draft = found
    message = query.message if isinstance(query.message, Message) else None
    choice = audience_choice(dict(draft.get("audience") or {}), callback_data.action, callback_data.value)
    if choice is None:
        stale_button(callback_answer)
        return
    outcome, draft["audience"] = choice
    if outcome == "done":
        if message is not None and message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        await ask_next(bot, query.from_user.id, state, "audience", draft)
        return
    await state.update_data(draft=draft)
    if message is not None:
        question = _("Who should be told about this event?")
        hint = _("Tick the interests and languages of the members to tell, then press Done.")
        await show_picker(message, outcome, draft["audience"], question, hint, EventAdmin)


@router.callback_query(EventAdmin.filter(F.action == "claim"), flags=MANAGE)
async def choose_claim_window(
    query: CallbackQuery,
    callback_data: EventAdmin,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    found = await _button_step(state, EventStates.claim_window, callback_answer)
    if found is None:
        return
    if callback_data.value not in CLAIM_WINDOWS:  # checked before the question is closed
        stale_button(callback_answer)
        return
    await close_question(query)
    step, draft = found
    draft["claim_window"] = CLAIM_WINDOWS[callback_data.value]
    await ask_next(bot, query.from_user.id, state, step, draft)


@router.callback_query(EventAdmin.filter(F.action == "rep"), flags=MANAGE)
async def choose_repeat(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """The last answer: then the draft (or the series of drafts) is written and previewed."""
    found = await _button_step(state, EventStates.repeat, callback_answer)
    if found is None:
        return
    await close_question(query)
    _step, draft = found
    if callback_data.value != "once" and callback_data.value not in RULES:
        stale_button(callback_answer)
        return
    draft["repeat"] = callback_data.value
    await state.update_data(draft=draft)
    await create_drafts(query, ctx, state, bot, draft)

"""The steps about the survey as a whole in the creation dialogs: its title, anonymity, audience,
opening and closing times and reminder. A typed time is echoed in words and confirmed with a button
that carries it (`steps.token`), so an older echo cannot confirm a newer time.

The closing-time step also serves /results: a new closing time for an open survey ("extend") or for
a copy ("copy"), asked with `steps.ask_closing`.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.i18n import _, format_when
from bot.policy import Action, rights
from bot.services.dates import DateError, parse_local_datetime
from bot.services.surveys.closing import extend
from bot.services.surveys.drafts import check_title, set_copy_closing
from bot.services.surveys.rules import SurveyError
from handlers.composer.audience import audience_choice, show_picker
from handlers.fallback import stale_button
from handlers.surveys.callbacks import SurveyDialog
from handlers.surveys.dialog import advance, button_step, hide_buttons, refused, step_button, typed_step
from handlers.surveys.states import SurveyDialogStates as States
from handlers.surveys.steps import REMINDERS, ask, confirm_time, token
from handlers.surveys.texts import date_error_text, error_text, gone
from handlers.surveys.views import send_draft
from storage.models import Survey
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")


# -- typed ----------------------------------------------------------------------------------------


@router.message(StateFilter(States.title), F.text, flags=rights(Action.RUN_SURVEYS))
async def title_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    if (found := await typed_step(message, state)) is None:
        return
    step, draft = found
    try:
        draft["title"] = check_title(message.text or "")
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    await advance(bot, message.chat.id, ctx, state, step, draft)


@router.message(StateFilter(States.opens), F.text, flags=rights(Action.RUN_SURVEYS))
async def opening_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    """The opening time, once "Later…" was chosen (before that, the step offers buttons)."""
    if (found := await typed_step(message, state)) is None:
        return
    step, draft = found
    if not draft.get("opens_later"):
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    await _time_typed(message, ctx, state, step, draft)


@router.message(StateFilter(States.closes), F.text, flags=rights(Action.RUN_SURVEYS))
async def closing_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    if (found := await typed_step(message, state)) is None:
        return
    step, draft = found
    await _time_typed(message, ctx, state, step, draft)


async def _time_typed(
    message: Message, ctx: Context, state: FSMContext, step: str, draft: dict[str, Any]
) -> None:
    """A typed time, read in the coordinator's zone, then echoed in words to be confirmed."""
    zone = draft["zone"]
    try:
        moment = parse_local_datetime(message.text or "", zone, utcnow()).utc
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    draft["pending"] = moment.isoformat()
    await state.update_data(survey_draft=draft)
    await confirm_time(message, step, moment, zone, ctx.locale)


# -- buttons --------------------------------------------------------------------------------------


@router.callback_query(step_button("anon"), flags=rights(Action.RUN_SURVEYS))
async def anonymity_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    draft["anonymous"] = callback_data.value == "yes"
    await advance(bot, query.from_user.id, ctx, state, step, draft)


@router.callback_query(step_button("aud", "aud_i", "aud_l"), flags=rights(Action.RUN_SURVEYS))
async def audience_button(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Everyone, or ticking interests and languages (the picker shared with the other dialogs),
    then Done."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    message = query.message if isinstance(query.message, Message) else None
    choice = audience_choice(dict(draft.get("audience") or {}), callback_data.action, callback_data.value)
    if choice is None:
        stale_button(callback_answer)
        return
    outcome, draft["audience"] = choice
    if outcome == "done":
        await hide_buttons(query)
        await advance(bot, query.from_user.id, ctx, state, step, draft)
        return
    await state.update_data(survey_draft=draft)
    if message is not None:
        question = _("Who should receive it?")
        hint = _("Tick the interests and languages of the members to ask, then press Done.")
        await show_picker(message, outcome, draft["audience"], question, hint, SurveyDialog)


@router.callback_query(step_button("opens"), flags=rights(Action.RUN_SURVEYS))
async def opening_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """When it is published, or later (a time typed next)."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    if callback_data.value == "later":
        draft["opens_later"] = True
        await state.update_data(survey_draft=draft)
        await bot.send_message(
            query.from_user.id,
            _("When should it open? Send the date and time in your time zone ({zone}).").format(
                zone=escape(draft["zone"])
            ),
        )
        return
    draft["opens_at"] = None
    await advance(bot, query.from_user.id, ctx, state, step, draft)


@router.callback_query(step_button("opens_change", "closes_change"), flags=rights(Action.RUN_SURVEYS))
async def time_change(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """✏️ Change under an echoed time (opening or closing): the question again."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    draft.pop("pending", None)
    await state.update_data(survey_draft=draft)
    await ask(bot, query.from_user.id, state, step, draft)


async def _confirmed_time(
    query: CallbackQuery, callback_data: SurveyDialog, state: FSMContext, callback_answer: CallbackAnswer
) -> tuple[str, dict[str, Any], datetime] | None:
    """✅ Correct under an echoed time: the step, the draft and the time, if the button confirms
    the time typed last (an older echo is a stale button)."""
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return None
    step, draft = found
    pending = draft.get("pending")
    if not pending or token(datetime.fromisoformat(pending)) != callback_data.value:
        stale_button(callback_answer)
        return None
    await hide_buttons(query)
    return step, draft, datetime.fromisoformat(draft.pop("pending"))


@router.callback_query(step_button("opens_ok"), flags=rights(Action.RUN_SURVEYS))
async def opening_confirmed(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    if (confirmed := await _confirmed_time(query, callback_data, state, callback_answer)) is None:
        return
    step, draft, moment = confirmed
    chat_id = query.from_user.id
    if moment <= utcnow():
        await bot.send_message(chat_id, date_error_text(DateError("past")))
        await ask(bot, chat_id, state, step, draft)
        return
    draft["opens_at"] = moment.isoformat()
    await advance(bot, chat_id, ctx, state, step, draft)


@router.callback_query(step_button("closes_ok"), flags=rights(Action.RUN_SURVEYS))
async def closing_confirmed(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A confirmed closing time: for the dialog, for extending an open survey, or for a copy."""
    if (confirmed := await _confirmed_time(query, callback_data, state, callback_answer)) is None:
        return
    step, draft, moment = confirmed
    chat_id, now = query.from_user.id, utcnow()
    opens_at = draft.get("opens_at")
    if moment <= now or (opens_at and moment <= datetime.fromisoformat(opens_at)):
        await bot.send_message(chat_id, error_text(SurveyError("bad_times")))
        await ask(bot, chat_id, state, "closes", draft)
        return
    if draft.get("mode") in ("poll", "survey"):
        draft["closes_at"] = moment.isoformat()
        await advance(bot, chat_id, ctx, state, step, draft)
        return
    await _new_closing(chat_id, ctx, state, bot, draft, moment, now)


async def _new_closing(
    chat_id: int,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    draft: dict[str, Any],
    moment: datetime,
    now: datetime,
) -> None:
    """/results: an open survey now closes later ("extend"), or a copy gets its closing time."""
    survey = await ctx.load(Action.RUN_SURVEYS, Survey, int(draft.get("survey_id") or 0))
    if survey is None:
        await state.clear()
        await bot.send_message(chat_id, gone())
        return
    mode, zone = draft.get("mode"), draft["zone"]
    try:
        if mode == "extend":
            await extend(ctx.session, survey, moment, now)
        else:
            await set_copy_closing(ctx.session, survey, moment, now)
    except SurveyError as error:
        await refused(bot, chat_id, ctx, state, draft, error)
        return
    await state.clear()
    await ctx.session.commit()
    if mode == "extend":
        await bot.send_message(
            chat_id,
            _("🕒 Survey #{id} now closes on {when}.").format(
                id=survey.id, when=escape(format_when(moment, ctx.locale, zone, "words"))
            ),
        )
        return
    await send_draft(bot, chat_id, ctx, survey, zone)


@router.callback_query(step_button("reminder"), flags=rights(Action.RUN_SURVEYS))
async def reminder_chosen(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    if (found := await button_step(callback_data, state, callback_answer)) is None:
        return
    step, draft = found
    await hide_buttons(query)
    draft["reminder"] = REMINDERS[callback_data.value]
    await advance(bot, query.from_user.id, ctx, state, step, draft)

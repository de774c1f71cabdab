"""/newtraining: the command and the typed answers, one handler per step. Each answer is checked
(a refused one gets a message and the step waits for a corrected value), saved in the draft, and
the next question is asked (`new_training_steps.ask`). The buttons, the preview and publishing are
in `draft`. Nothing is written to the database before Publish."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _, format_when
from bot.services import events as event_rules
from bot.services.dates import DateError, parse_local_datetime
from bot.services.events import EventError
from bot.services.trainings.rules import DURATION_MAX, TRAINER_MAX, TrainingError
from handlers.events.texts import date_error_text, parse_place
from handlers.trainings.callbacks import TrainingDraft
from handlers.trainings.managed import COORDINATOR
from handlers.trainings.new_training_steps import (
    BUTTON_STEPS,
    ask,
    clean,
    expired,
    first_start,
    moment,
    overlapping,
    parse_duration,
    question,
    save_translation,
    sessions,
    token,
)
from handlers.trainings.states import DraftStates
from handlers.trainings.texts import DURATION_MIN, error_text
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

Refused = TrainingError | EventError | DateError


def refusal_text(error: Refused) -> str:
    return date_error_text(error) if isinstance(error, DateError) else error_text(error)


@router.message(Command("newtraining"), flags=COORDINATOR)
async def new_training(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await state.set_state(None)
    await state.update_data(training={"zone": ctx.zone, "language": ctx.locale})
    await ask(bot, message.chat.id, state, DraftStates.title, {})


async def typed_draft(message: Message, state: FSMContext) -> dict[str, Any] | None:
    """The draft a typed answer belongs to; None after saying why the text is not taken."""
    draft = (await state.get_data()).get("training")
    if not isinstance(draft, dict) or not draft.get("zone"):
        await state.clear()
        await message.answer(expired())
        return None
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return None
    return dict(draft)


async def _take(
    message: Message,
    state: FSMContext,
    bot: Bot,
    apply: Callable[[dict[str, Any], str], None],
    following: State,
) -> None:
    """One typed answer: `apply` checks it and writes it into the draft; then the next question."""
    draft = await typed_draft(message, state)
    if draft is None:
        return
    try:
        apply(draft, message.text or "")
    except (TrainingError, EventError, DateError) as error:
        await message.answer(refusal_text(error))
        return
    await state.update_data(training=draft)
    await ask(bot, message.chat.id, state, following, draft)


# -- steps that take the answer and move on ------------------------------------------------------


def _title(draft: dict[str, Any], text: str) -> None:
    draft["title"] = event_rules.validate_title(text)


def _description(draft: dict[str, Any], text: str) -> None:
    draft["description"] = event_rules.validate_description(text)


def _trainer(draft: dict[str, Any], text: str) -> None:
    draft["trainer"] = clean(text, TRAINER_MAX, "trainer_empty", "trainer_too_long")


def _capacity(draft: dict[str, Any], text: str) -> None:
    capacity = event_rules.validate_capacity(text)
    if capacity is None:
        raise TrainingError("capacity_invalid", event_rules.CAPACITY_MAX)
    draft["capacity"] = capacity


def _question_text(draft: dict[str, Any], text: str) -> None:
    draft["pending_question"] = question(text, None)["text"]


def _question_options(draft: dict[str, Any], text: str) -> None:
    asked = question(draft.get("pending_question", ""), text)
    draft.pop("pending_question", None)
    draft["questions"] = [*(draft.get("questions") or []), asked]


def _translation_title(draft: dict[str, Any], text: str) -> None:
    draft["tr_title"] = event_rules.validate_title(text)


def _translation_description(draft: dict[str, Any], text: str) -> None:
    save_translation(draft, event_rules.validate_description(text))


@router.message(DraftStates.title, F.text, flags=COORDINATOR)
async def title_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _title, DraftStates.description)


@router.message(DraftStates.description, F.text, flags=COORDINATOR)
async def description_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _description, DraftStates.teaching)


@router.message(DraftStates.trainer, F.text, flags=COORDINATOR)
async def trainer_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _trainer, DraftStates.session_start)


@router.message(DraftStates.capacity, F.text, flags=COORDINATOR)
async def capacity_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _capacity, DraftStates.deadline)


@router.message(DraftStates.question_text, F.text, flags=COORDINATOR)
async def question_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _question_text, DraftStates.question_options)


@router.message(DraftStates.question_options, F.text, flags=COORDINATOR)
async def options_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _question_options, DraftStates.questions)


@router.message(DraftStates.translation_title, F.text, flags=COORDINATOR)
async def translation_title_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _translation_title, DraftStates.translation_description)


@router.message(DraftStates.translation_description, F.text, flags=COORDINATOR)
async def translation_description_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    await _take(message, state, bot, _translation_description, DraftStates.translations)


# -- sessions: start (confirmed), length, place ----------------------------------------------------


async def confirm_start(message: Message, when: datetime, zone: str, locale: str) -> None:
    words = format_when(when, locale, zone, "words")
    builder = InlineKeyboardBuilder()
    # The moment this message shows rides on its button: an older echo cannot confirm a newer time.
    builder.button(text=_("✅ Correct"), callback_data=TrainingDraft(action="start_ok", value=token(when)))
    builder.button(text=_("✏️ Change"), callback_data=TrainingDraft(action="start_change"))
    builder.adjust(2)
    await message.answer(
        _("The session starts on {when}. Is that right?").format(when=escape(words)),
        reply_markup=builder.as_markup(),
    )


async def save_duration(
    bot: Bot, chat_id: int, state: FSMContext, draft: dict[str, Any], minutes: int | None
) -> None:
    """The length of the session being added (typed or a button), unless it overlaps another."""
    if minutes is None or not DURATION_MIN <= minutes <= DURATION_MAX:
        await bot.send_message(chat_id, error_text(TrainingError("duration_invalid", DURATION_MAX)))
        return
    starts_at = moment(draft.get("pending_start"))
    if starts_at is None:
        await ask(bot, chat_id, state, DraftStates.session_start, draft)
        return
    overlapped = overlapping(draft, starts_at, minutes)
    if overlapped is not None:
        draft.pop("pending_start", None)
        await state.update_data(training=draft)
        await bot.send_message(
            chat_id,
            _("This session overlaps session {number}. Please send another start time.").format(
                number=overlapped
            ),
        )
        await ask(bot, chat_id, state, DraftStates.session_start, draft)
        return
    draft["pending_duration"] = minutes
    await state.update_data(training=draft)
    await ask(bot, chat_id, state, DraftStates.session_place, draft)


async def save_session(
    bot: Bot, chat_id: int, state: FSMContext, draft: dict[str, Any], place: str | None, url: str | None
) -> None:
    """The session being added is complete (its place typed, or the previous one's)."""
    starts_at, minutes = draft.pop("pending_start", None), draft.pop("pending_duration", None)
    if not starts_at or not minutes:
        await ask(bot, chat_id, state, DraftStates.session_start, draft)
        return
    item = {"starts_at": starts_at, "duration": int(minutes), "place": place, "online_url": url}
    draft["sessions"] = sorted([*sessions(draft), item], key=lambda entry: entry["starts_at"])
    await state.update_data(training=draft)
    await ask(bot, chat_id, state, DraftStates.session_more, draft)


@router.message(DraftStates.session_start, F.text, flags=COORDINATOR)
async def start_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    draft = await typed_draft(message, state)
    if draft is None:
        return
    try:
        when = parse_local_datetime(message.text or "", draft["zone"], utcnow()).utc
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    draft["pending_start"] = when.isoformat()
    await state.update_data(training=draft)
    await confirm_start(message, when, draft["zone"], ctx.locale)


@router.message(DraftStates.session_duration, F.text, flags=COORDINATOR)
async def duration_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    draft = await typed_draft(message, state)
    if draft is not None:
        await save_duration(bot, message.chat.id, state, draft, parse_duration(message.text or ""))


@router.message(DraftStates.session_place, F.text, flags=COORDINATOR)
async def place_typed(message: Message, state: FSMContext, bot: Bot) -> None:
    draft = await typed_draft(message, state)
    if draft is None:
        return
    try:
        place, url = parse_place(message.text or "")
    except (TrainingError, EventError) as error:
        await message.answer(refusal_text(error))
        return
    if place is None and url is None:
        await message.answer(_("That looks empty. Please type your answer."))
        return
    await save_session(bot, message.chat.id, state, draft, place, url)


@router.message(DraftStates.deadline, F.text, flags=COORDINATOR)
async def deadline_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    draft = await typed_draft(message, state)
    if draft is None:
        return
    try:
        deadline = parse_local_datetime(message.text or "", draft["zone"], utcnow()).utc
        first = first_start(draft)
        if first is None:
            raise TrainingError("no_sessions")
        if deadline >= first:
            raise TrainingError("deadline_after_start")
    except (TrainingError, DateError) as error:
        await message.answer(refusal_text(error))
        return
    draft["deadline"] = deadline.isoformat()
    await message.answer(
        _("✅ Sign-ups close on {when}.").format(
            when=escape(format_when(deadline, ctx.locale, draft["zone"], "words"))
        )
    )
    await state.update_data(training=draft)
    await ask(bot, message.chat.id, state, DraftStates.questions, draft)


# -- anything else while the dialog waits ----------------------------------------------------------


@router.message(StateFilter(*BUTTON_STEPS), F.text, flags=COORDINATOR)
async def text_at_a_button_step(message: Message, state: FSMContext) -> None:
    if await typed_draft(message, state) is not None:
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


@router.message(StateFilter(*DraftStates.__all_states__), flags=COORDINATOR)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

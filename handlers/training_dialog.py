"""/newtraining: a guided dialog for coordinators, one question at a time, then a preview to publish.

The answers live in the FSM data (in the database: a restart loses nothing) until Publish, which
creates and publishes the training in one transaction. Every typed answer and every button re-checks
that the sender may coordinate, and a button only counts in the step it belongs to.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES
from bot.delivery import DeliveryEngine
from bot.i18n import _, format_when, language_name, ngettext
from bot.policy import Action, rights
from bot.services import events as event_rules
from bot.services import trainings as service
from bot.services.dates import DateError, parse_local_datetime
from bot.services.events import EventError
from bot.services.roles import Actor, can_coordinate
from bot.services.schedule_math import parse_clock
from bot.services.text import TextRejected, clean_line
from bot.services.trainings import (
    DURATION_MAX,
    OPTION_MAX,
    OPTIONS_MAX,
    QUESTION_MAX,
    QUESTIONS_MAX,
    SESSIONS_MAX,
    TRAINER_MAX,
    SessionInput,
    TrainingError,
)
from handlers.composer.audience import audience_choice, show_picker
from handlers.event_admin import date_error_text, parse_place
from handlers.fallback import stale_button, toast
from handlers.training_common import DURATION_MIN, duration_label, error_text, markup, refusal, short_when
from handlers.ui import member_zone
from storage.models import Member, Organization, Training
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

DURATIONS: Final = (60, 90, 120, 180)  # minutes offered as buttons


class TrainingDraft(CallbackData, prefix="trd"):
    """Buttons of the /newtraining questions; `value` is a language, a duration, a step or a token."""

    action: str
    value: str = ""


class DraftStates(StatesGroup):
    title = State()
    description = State()
    teaching = State()  # buttons: languages, several
    trainer = State()
    session_start = State()  # typed, then confirmed (echoed in words)
    session_duration = State()
    session_place = State()
    session_more = State()  # buttons: another session, or done
    capacity = State()
    deadline = State()
    questions = State()  # buttons: add a question, or done
    question_text = State()
    question_options = State()
    translations = State()  # buttons: a language, or done
    translation_title = State()
    translation_description = State()
    audience = State()  # buttons, as for events
    preview = State()  # buttons: publish or discard


STEP_OF_STATE: Final = {state.state: state for state in DraftStates.__all_states__}
TEXT_STEPS: Final = {
    DraftStates.title,
    DraftStates.description,
    DraftStates.trainer,
    DraftStates.session_start,
    DraftStates.session_duration,
    DraftStates.session_place,
    DraftStates.capacity,
    DraftStates.deadline,
    DraftStates.question_text,
    DraftStates.question_options,
    DraftStates.translation_title,
    DraftStates.translation_description,
}
# Which step each button belongs to.
BUTTON_STEPS: Final = {
    "lang": DraftStates.teaching,
    "lang_done": DraftStates.teaching,
    "start_ok": DraftStates.session_start,
    "start_change": DraftStates.session_start,
    "dur": DraftStates.session_duration,
    "same": DraftStates.session_place,
    "more": DraftStates.session_more,
    "sessions_done": DraftStates.session_more,
    "q_add": DraftStates.questions,
    "q_done": DraftStates.questions,
    "free": DraftStates.question_options,
    "tr": DraftStates.translations,
    "tr_done": DraftStates.translations,
    "aud": DraftStates.audience,
    "aud_i": DraftStates.audience,
    "aud_l": DraftStates.audience,
    "publish": DraftStates.preview,
    "discard": DraftStates.preview,
}
SKIPPABLE: Final = {
    "description": DraftStates.description,
    "deadline": DraftStates.deadline,
    "tr_description": DraftStates.translation_description,
}


def expired() -> str:
    return _("This dialog has expired. Send /newtraining to start again.")


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _token(moment: datetime) -> str:
    return str(int(moment.timestamp()) // 60)


def parse_duration(text: str) -> int | None:
    """ "90" (minutes), "1:30", "1h30", "2h" → minutes; None if not a duration."""
    stripped = text.strip().lower().removesuffix("min").strip()
    if stripped.isdigit() and len(stripped) <= 4:
        return int(stripped)
    return parse_clock(stripped)


def _sessions(draft: dict[str, Any]) -> list[dict[str, Any]]:
    return list(draft.get("sessions") or [])


def _first_start(draft: dict[str, Any]) -> datetime | None:
    starts = [_moment(item["starts_at"]) for item in _sessions(draft)]
    return min((moment for moment in starts if moment), default=None)


def _overlapping(draft: dict[str, Any], starts_at: datetime, minutes: int) -> int | None:
    """The number (1-based) of a session the new one overlaps, if any."""
    ends_at = starts_at + timedelta(minutes=minutes)
    for number, item in enumerate(_sessions(draft), start=1):
        other = _moment(item["starts_at"])
        assert other is not None
        if starts_at < other + timedelta(minutes=int(item["duration"])) and other < ends_at:
            return number
    return None


# -- the command and the questions ----------------------------------------------------------------


@router.message(Command("newtraining"), flags=rights(Action.MANAGE_TRAININGS))
async def new_training(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    if not await can_coordinate(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    await state.set_state(None)
    await state.update_data(
        training={"zone": member_zone(member, organization), "language": i18n.current_locale}
    )
    await _ask(bot, message.chat.id, state, DraftStates.title, {})


def _language_picker(selected: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in SHIPPED_LANGUAGES:
        mark = "✅" if code in selected else "▫️"
        builder.button(
            text=f"{mark} {language_name(code)}", callback_data=TrainingDraft(action="lang", value=code)
        )
    builder.button(text=_("Done"), callback_data=TrainingDraft(action="lang_done"))
    builder.adjust(*[2] * (len(SHIPPED_LANGUAGES) // 2), 1)
    return builder.as_markup()


def _questions_text(draft: dict[str, Any]) -> str:
    lines = []
    for number, question in enumerate(draft.get("questions") or [], start=1):
        options = question.get("options") or []
        kind = " / ".join(escape(option) for option in options) if options else _("free text answer")
        lines.append(f"{number}. {escape(question['text'])} <i>({kind})</i>")
    return "\n".join(lines)


async def _ask(bot: Bot, chat_id: int, state: FSMContext, step: State, draft: dict[str, Any]) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    await state.set_state(step)
    builder = InlineKeyboardBuilder()

    def button(text: str, action: str, value: str = "") -> None:
        builder.button(text=text, callback_data=TrainingDraft(action=action, value=value))

    keyboard: InlineKeyboardMarkup | None = None
    zone = draft.get("zone", "UTC")
    if step == DraftStates.title:
        text = _(
            "🎓 <b>New training</b>\n\nWhat is it called? Send the title (at most {limit} characters). "
            "Send /cancel to stop."
        ).format(limit=event_rules.TITLE_MAX)
    elif step == DraftStates.description:
        text = _("Describe the training for members (at most {limit} characters), or press Skip.").format(
            limit=event_rules.DESCRIPTION_MAX
        )
        button(_("Skip"), "skip", "description")
    elif step == DraftStates.teaching:
        text = _("Which language or languages is it taught in? Tick them, then press Done.")
        keyboard = _language_picker(list(draft.get("teaching") or []))
    elif step == DraftStates.trainer:
        text = _("Who is the trainer? Send their name (at most {limit} characters).").format(
            limit=TRAINER_MAX
        )
    elif step == DraftStates.session_start:
        number = len(_sessions(draft)) + 1
        text = _(
            "Session {number}: when does it start? Send the date and time in your time zone ({zone}), "
            "for example 2027-03-14 18:30 or 14.03.2027 18:30."
        ).format(number=number, zone=escape(zone))
    elif step == DraftStates.session_duration:
        text = _("How long is the session? Press a button or send the length, for example 90 or 1:30.")
        for minutes in DURATIONS:
            button(duration_label(minutes), "dur", str(minutes))
    elif step == DraftStates.session_place:
        text = _(
            "Where does the session take place? Send an address, or a link (https://…) for an online session."
        )
        if _sessions(draft):
            button(_("Same place as the previous session"), "same")
    elif step == DraftStates.session_more:
        text = _session_list(draft) + "\n\n" + _("Add another session, or press Done.")
        if len(_sessions(draft)) < SESSIONS_MAX:
            button(_("➕ Add another session"), "more")
        button(_("Done"), "sessions_done")
    elif step == DraftStates.capacity:
        text = _("How many seats are there? Send a number (at least 1).")
    elif step == DraftStates.deadline:
        first = _first_start(draft)
        assert first is not None
        text = _(
            "Until when can members sign up? Send a date and time before the first session ({when}), "
            "or press Skip to take sign-ups until it starts."
        ).format(when=escape(format_when(first, _locale(), zone, "words")))
        button(_("Skip"), "skip", "deadline")
    elif step == DraftStates.questions:
        listed = _questions_text(draft)
        text = (
            _("Questions asked at sign-up:")
            + "\n"
            + listed
            + "\n\n"
            + _("Add another question, or press Done.")
            if listed
            else _(
                "Do you want to ask members something when they sign up, for example “Which organization "
                "are you with?” (at most {limit} questions)?"
            ).format(limit=QUESTIONS_MAX)
        )
        if len(draft.get("questions") or []) < QUESTIONS_MAX:
            button(_("➕ Add a question"), "q_add")
        button(_("Done") if listed else _("No questions"), "q_done")
    elif step == DraftStates.question_text:
        text = _("Send the question (at most {limit} characters).").format(limit=QUESTION_MAX)
    elif step == DraftStates.question_options:
        text = _(
            "Send the choices, one per line (2 to {count}, each at most {limit} characters), or press "
            "“Free text answer”."
        ).format(count=OPTIONS_MAX, limit=OPTION_MAX)
        button(_("Free text answer"), "free")
    elif step == DraftStates.translations:
        done = draft.get("translations") or {}
        text = _("Add a translation of the title and description? Members who use that language will see it.")
        if done:
            text += "\n" + _("Translated: {languages}").format(
                languages=", ".join(language_name(code) for code in done)
            )
        for code in SHIPPED_LANGUAGES:
            if code != draft.get("language"):
                button(("✅ " if code in done else "") + language_name(code), "tr", code)
        button(_("Done") if done else _("No translations"), "tr_done")
        keyboard = markup(builder, *[2] * ((len(SHIPPED_LANGUAGES) - 1) // 2), 1, 1)
    elif step == DraftStates.translation_title:
        text = _("Send the title in {language} (at most {limit} characters).").format(
            language=language_name(draft.get("tr_language", "en")), limit=event_rules.TITLE_MAX
        )
    elif step == DraftStates.translation_description:
        text = _("Now the description in {language}, or press Skip to show the original one.").format(
            language=language_name(draft.get("tr_language", "en"))
        )
        button(_("Skip"), "skip", "tr_description")
    elif step == DraftStates.audience:
        text = _("Who should be told about this training?")
        button(_("Everyone"), "aud", "all")
        button(_("Choose…"), "aud", "choose")
    else:
        raise ValueError(step)
    await bot.send_message(chat_id, text, reply_markup=keyboard or markup(builder))


def _locale() -> str:
    return I18n.get_current().current_locale


def _session_line(number: int, item: dict[str, Any], zone: str) -> str:
    starts_at = _moment(item["starts_at"])
    assert starts_at is not None
    where = (
        f"📍 {escape(item['place'])}" if item.get("place") else f"🔗 {escape(item.get('online_url') or '')}"
    )
    when = short_when(starts_at, _locale(), zone)
    return f"{number}. {escape(when)} · {escape(duration_label(int(item['duration'])))} · {where}"


def _session_list(draft: dict[str, Any]) -> str:
    zone = draft.get("zone", "UTC")
    ordered = sorted(_sessions(draft), key=lambda item: item["starts_at"])
    lines = [_session_line(number, item, zone) for number, item in enumerate(ordered, start=1)]
    return _("🗓 <b>Sessions</b>") + "\n" + "\n".join(lines)


# -- typed answers ------------------------------------------------------------------------------


async def _dialog_step(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> tuple[State, dict[str, Any]] | None:
    if not await can_coordinate(session, actor, member, organization.id or 0):
        await state.clear()
        await message.answer(refusal())
        return None
    step = STEP_OF_STATE.get(await state.get_state() or "")
    draft = (await state.get_data()).get("training")
    if step is None or not isinstance(draft, dict) or not draft.get("zone"):
        await state.clear()
        await message.answer(expired())
        return None
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return None
    return step, dict(draft)


def _clean(text: str, limit: int, empty: str, too_long: str) -> str:
    try:
        return clean_line(text, limit)
    except TextRejected as error:
        raise TrainingError(empty if error.reason == "empty" else too_long, limit) from None


def _question(text: str, options_text: str | None) -> dict[str, Any]:
    """A question with its choices (one per line), checked by the service's rules."""
    options = [line for line in (options_text or "").splitlines() if line.strip()]
    if options_text is not None and len(options) < 2:
        raise TrainingError("options_count", OPTIONS_MAX)
    return service.validate_questions([{"text": text, "options": options}])[0]


@router.message(
    StateFilter(*TEXT_STEPS, *BUTTON_STEPS.values()), F.text, flags=rights(Action.MANAGE_TRAININGS)
)
async def dialog_answer(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    found = await _dialog_step(message, actor, member, session, organization, state)
    if found is None:
        return
    step, draft = found
    if step not in TEXT_STEPS:
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    text, zone, now, chat_id = message.text or "", draft["zone"], utcnow(), message.chat.id
    try:
        if step == DraftStates.title:
            draft["title"] = event_rules.validate_title(text)
            following = DraftStates.description
        elif step == DraftStates.description:
            draft["description"] = event_rules.validate_description(text)
            following = DraftStates.teaching
        elif step == DraftStates.trainer:
            draft["trainer"] = _clean(text, TRAINER_MAX, "trainer_empty", "trainer_too_long")
            following = DraftStates.session_start
        elif step == DraftStates.session_start:
            moment = parse_local_datetime(text, zone, now).utc
            draft["pending_start"] = moment.isoformat()
            await state.update_data(training=draft)
            await _confirm_start(message, moment, zone, i18n)
            return
        elif step == DraftStates.session_duration:
            await _save_duration(bot, chat_id, state, draft, parse_duration(text))
            return
        elif step == DraftStates.session_place:
            place, url = parse_place(text)
            if place is None and url is None:
                await message.answer(_("That looks empty. Please type your answer."))
                return
            await _save_session(bot, chat_id, state, draft, place, url)
            return
        elif step == DraftStates.capacity:
            capacity = event_rules.validate_capacity(text)
            if capacity is None:
                raise TrainingError("capacity_invalid", event_rules.CAPACITY_MAX)
            draft["capacity"] = capacity
            following = DraftStates.deadline
        elif step == DraftStates.deadline:
            deadline = parse_local_datetime(text, zone, now).utc
            first = _first_start(draft)
            if first is None:
                raise TrainingError("no_sessions")
            if deadline >= first:
                raise TrainingError("deadline_after_start")
            draft["deadline"] = deadline.isoformat()
            await message.answer(
                _("✅ Sign-ups close on {when}.").format(
                    when=escape(format_when(deadline, i18n.current_locale, zone, "words"))
                )
            )
            following = DraftStates.questions
        elif step == DraftStates.question_text:
            draft["pending_question"] = _question(text, None)["text"]
            following = DraftStates.question_options
        elif step == DraftStates.question_options:
            question = _question(draft.get("pending_question", ""), text)
            draft.pop("pending_question", None)
            draft["questions"] = [*(draft.get("questions") or []), question]
            following = DraftStates.questions
        elif step == DraftStates.translation_title:
            draft["tr_title"] = event_rules.validate_title(text)
            following = DraftStates.translation_description
        else:  # the translated description
            description = event_rules.validate_description(text)
            _save_translation(draft, description)
            following = DraftStates.translations
    except (TrainingError, EventError) as error:
        await message.answer(error_text(error))
        return
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    await state.update_data(training=draft)
    await _ask(bot, chat_id, state, following, draft)


def _save_translation(draft: dict[str, Any], description: str | None) -> None:
    language, title = draft.pop("tr_language", None), draft.pop("tr_title", None)
    if language in SHIPPED_LANGUAGES and title:
        entry = {"title": title} | ({"description": description} if description else {})
        draft["translations"] = {**(draft.get("translations") or {}), language: entry}


async def _confirm_start(message: Message, moment: datetime, zone: str, i18n: I18n) -> None:
    when = format_when(moment, i18n.current_locale, zone, "words")
    builder = InlineKeyboardBuilder()
    # The moment this message shows rides on its button: an older echo cannot confirm a newer time.
    builder.button(text=_("✅ Correct"), callback_data=TrainingDraft(action="start_ok", value=_token(moment)))
    builder.button(text=_("✏️ Change"), callback_data=TrainingDraft(action="start_change"))
    builder.adjust(2)
    await message.answer(
        _("The session starts on {when}. Is that right?").format(when=escape(when)),
        reply_markup=builder.as_markup(),
    )


async def _save_duration(
    bot: Bot, chat_id: int, state: FSMContext, draft: dict[str, Any], minutes: int | None
) -> None:
    if minutes is None or not DURATION_MIN <= minutes <= DURATION_MAX:
        await bot.send_message(chat_id, error_text(TrainingError("duration_invalid", DURATION_MAX)))
        return
    starts_at = _moment(draft.get("pending_start"))
    if starts_at is None:
        await _ask(bot, chat_id, state, DraftStates.session_start, draft)
        return
    overlapped = _overlapping(draft, starts_at, minutes)
    if overlapped is not None:
        draft.pop("pending_start", None)
        await state.update_data(training=draft)
        await bot.send_message(
            chat_id,
            _("This session overlaps session {number}. Please send another start time.").format(
                number=overlapped
            ),
        )
        await _ask(bot, chat_id, state, DraftStates.session_start, draft)
        return
    draft["pending_duration"] = minutes
    await state.update_data(training=draft)
    await _ask(bot, chat_id, state, DraftStates.session_place, draft)


async def _save_session(
    bot: Bot, chat_id: int, state: FSMContext, draft: dict[str, Any], place: str | None, url: str | None
) -> None:
    starts_at, minutes = draft.pop("pending_start", None), draft.pop("pending_duration", None)
    if not starts_at or not minutes:
        await _ask(bot, chat_id, state, DraftStates.session_start, draft)
        return
    item = {"starts_at": starts_at, "duration": int(minutes), "place": place, "online_url": url}
    draft["sessions"] = sorted([*_sessions(draft), item], key=lambda entry: entry["starts_at"])
    await state.update_data(training=draft)
    await _ask(bot, chat_id, state, DraftStates.session_more, draft)


@router.message(StateFilter(*DraftStates.__all_states__), flags=rights(Action.MANAGE_TRAININGS))
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


# -- buttons ------------------------------------------------------------------------------------


@router.callback_query(TrainingDraft.filter(), flags=rights(Action.MANAGE_TRAININGS))
async def draft_button(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
) -> None:
    if not await can_coordinate(session, actor, member, organization.id or 0):
        toast(callback_answer, refusal(), alert=True)
        return
    action, value, chat_id = callback_data.action, callback_data.value, query.from_user.id
    current = await state.get_state()
    draft = dict((await state.get_data()).get("training") or {})
    expected = SKIPPABLE.get(value) if action == "skip" else BUTTON_STEPS.get(action)
    if expected is None or current != expected.state or not draft.get("zone"):
        stale_button(callback_answer)
        return
    message = query.message if isinstance(query.message, Message) else None
    if action in ("lang", "aud", "aud_i", "aud_l"):
        await _multi_select(query, callback_data, session, organization, state, callback_answer, bot, draft)
        return
    if action == "dur" and not value.isdigit():
        stale_button(callback_answer)
        return
    if action == "tr" and (value not in SHIPPED_LANGUAGES or value == draft.get("language")):
        stale_button(callback_answer)
        return
    if action == "start_ok":
        pending = _moment(draft.get("pending_start"))
        if pending is None or _token(pending) != value:
            stale_button(callback_answer)
            return
    if action == "lang_done" and not draft.get("teaching"):
        toast(callback_answer, error_text(TrainingError("no_teaching_language")), alert=True)
        return
    if message is not None and message.reply_markup is not None and action != "publish":
        await message.edit_reply_markup(reply_markup=None)  # answered: the question is done
    if action == "publish":
        await _publish(query, member, session, organization, state, callback_answer, delivery, bot, draft)
        return
    following: State
    if action == "skip":
        if value == "tr_description":
            _save_translation(draft, None)
            following = DraftStates.translations
        else:
            following = DraftStates.teaching if value == "description" else DraftStates.questions
    elif action == "lang_done":
        following = DraftStates.trainer
    elif action == "start_change":
        draft.pop("pending_start", None)
        following = DraftStates.session_start
    elif action == "start_ok":
        pending = _moment(draft.get("pending_start"))
        assert pending is not None
        if pending <= utcnow():
            draft.pop("pending_start", None)
            await bot.send_message(chat_id, date_error_text(DateError("past")))
            following = DraftStates.session_start
        else:
            following = DraftStates.session_duration
    elif action == "dur":
        await _save_duration(bot, chat_id, state, draft, int(value))
        return
    elif action == "same":
        previous = _sessions(draft)[-1] if _sessions(draft) else None
        if previous is None:
            stale_button(callback_answer)
            return
        await _save_session(bot, chat_id, state, draft, previous.get("place"), previous.get("online_url"))
        return
    elif action == "more":
        if len(_sessions(draft)) >= SESSIONS_MAX:
            stale_button(callback_answer)
            return
        following = DraftStates.session_start
    elif action == "sessions_done":
        following = DraftStates.capacity
    elif action == "q_add":
        following = DraftStates.question_text
    elif action == "q_done":
        following = DraftStates.translations
    elif action == "free":
        question = draft.pop("pending_question", None)
        if question:
            draft["questions"] = [*(draft.get("questions") or []), {"text": question, "options": []}]
        following = DraftStates.questions
    elif action == "tr":
        draft["tr_language"] = value
        following = DraftStates.translation_title
    elif action == "tr_done":
        following = DraftStates.audience
    else:  # discard
        await state.clear()
        await bot.send_message(chat_id, _("🗑 The draft was discarded."))
        return
    await state.update_data(training=draft)
    await _ask(bot, chat_id, state, following, draft)


async def _multi_select(
    query: CallbackQuery,
    callback_data: TrainingDraft,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
    draft: dict[str, Any],
) -> None:
    """Teaching languages (ticked, several) and the audience (everyone, or interests and languages)."""
    action, value = callback_data.action, callback_data.value
    audience = dict(draft.get("audience") or {})
    message = query.message if isinstance(query.message, Message) else None
    if action == "lang" and value in SHIPPED_LANGUAGES:
        chosen = list(draft.get("teaching") or [])
        draft["teaching"] = (
            [code for code in chosen if code != value] if value in chosen else [*chosen, value]
        )
        await state.update_data(training=draft)
        if message is not None:
            await message.edit_reply_markup(reply_markup=_language_picker(draft["teaching"]))
        return
    choice = audience_choice(audience, action, value)
    if choice is None:
        stale_button(callback_answer)
        return
    outcome, draft["audience"] = choice
    if outcome == "done":
        if message is not None and message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        await state.update_data(training=draft)
        await _preview(bot, query.from_user.id, session, organization, state, draft)
        return
    await state.update_data(training=draft)
    if message is not None:
        question = _("Who should be told about this training?")
        hint = _("Tick the interests and languages of the members to tell, then press Done.")
        await show_picker(message, outcome, draft["audience"], question, hint, TrainingDraft)


# -- preview and publish ------------------------------------------------------------------------


async def reach(session: AsyncSession, organization: Organization, audience: dict[str, Any]) -> int:
    """How many members publishing to `audience` would tell (the training is not written yet)."""
    unsaved = Training(organization_id=organization.id or 0, title="", capacity=1, audience=audience)
    return await service.count_audience(session, unsaved)


def preview_text(draft: dict[str, Any]) -> str:
    """The whole training as the coordinator entered it (every typed value escaped)."""
    zone = draft.get("zone", "UTC")
    lines = [f"🎓 <b>{escape(draft.get('title', ''))}</b>"]
    if draft.get("description"):
        lines += ["", escape(draft["description"])]
    lines += [
        "",
        _("🗣 Taught in: {languages}").format(
            languages=", ".join(language_name(code) for code in draft.get("teaching") or [])
        ),
        _("👤 Trainer: {name}").format(name=escape(draft.get("trainer", ""))),
        _("🎟 Seats: {count}").format(count=draft.get("capacity")),
    ]
    deadline = _moment(draft.get("deadline"))
    if deadline is not None:
        lines.append(_("⏳ Sign up until {when}").format(when=escape(short_when(deadline, _locale(), zone))))
    lines += ["", _session_list(draft)]
    if draft.get("questions"):
        lines += ["", _("❓ <b>Questions at sign-up</b>"), _questions_text(draft)]
    if draft.get("translations"):
        lines += [
            "",
            _("🌐 Translated: {languages}").format(
                languages=", ".join(language_name(code) for code in draft["translations"])
            ),
        ]
    return "\n".join(lines)


async def _preview(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    draft: dict[str, Any],
) -> None:
    count = await reach(session, organization, draft.get("audience") or {})
    await state.set_state(DraftStates.preview)
    header = (
        _("👁 Preview. Nothing is sent until you press Publish.")
        + "\n"
        + ngettext(
            "This training reaches <b>{count}</b> member.",
            "This training reaches <b>{count}</b> members.",
            count,
        ).format(count=count)
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("📤 Publish"), callback_data=TrainingDraft(action="publish"))
    builder.button(text=_("🗑 Discard"), callback_data=TrainingDraft(action="discard"))
    builder.adjust(2)
    await bot.send_message(chat_id, header + "\n\n" + preview_text(draft), reply_markup=builder.as_markup())


async def _publish(
    query: CallbackQuery,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
    draft: dict[str, Any],
) -> None:
    chat_id, now = query.from_user.id, utcnow()
    if not draft.get("title") or not draft.get("sessions") or not draft.get("capacity"):
        await state.clear()
        await bot.send_message(chat_id, expired())
        return
    sessions = [
        SessionInput(
            starts_at=_moment(item["starts_at"]),  # type: ignore[arg-type]
            duration_minutes=int(item["duration"]),
            place=item.get("place"),
            online_url=item.get("online_url"),
        )
        for item in draft["sessions"]
    ]
    try:
        training = await service.create_training(
            session,
            organization,
            member,
            title=draft["title"],
            description=draft.get("description") or "",
            language=draft.get("language") or organization.default_language,
            teaching_languages=list(draft.get("teaching") or []),
            trainer=draft.get("trainer") or "",
            capacity=int(draft["capacity"]),
            signup_deadline=_moment(draft.get("deadline")),
            timezone=draft["zone"],
            questions=list(draft.get("questions") or []),
            translations=dict(draft.get("translations") or {}),
            audience=dict(draft.get("audience") or {}),
            sessions=sessions,
            now=now,
        )
        told = await service.publish_training(session, training, organization, now)
    except (TrainingError, EventError) as error:
        await session.rollback()
        toast(
            callback_answer,
            error_text(error),
            True,
        )
        return
    await state.clear()
    await session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await bot.send_message(
        chat_id,
        ngettext(
            "📤 Published: {count} member will be told.", "📤 Published: {count} members will be told.", told
        ).format(count=told)
        + "\n"
        + _("/managetrainings shows the sign-ups, attendance and more."),
    )
    delivery.wake()

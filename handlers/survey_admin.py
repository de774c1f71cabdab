"""The coordinator's side of surveys: /poll (a one-question Telegram poll) and /newsurvey (a guided
dialog, question after question), both ending in a draft card to publish; translations of a draft.

Every action is authorized on the server (coordinator, organizer or admin of the organization) for
the command, each typed step and every button: callback data can be forged. The dialog keeps its
answers in the FSM data (in the database); the survey is written as a draft at the end, and members
are invited only when the coordinator presses Publish (`surveys.open_survey`, through the outbox).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES
from bot.delivery import DeliveryEngine
from bot.i18n import _, format_when, language_name, ngettext
from bot.policy import Action, rights
from bot.services import surveys as service
from bot.services.dates import DateError, parse_local_datetime
from bot.services.roles import Actor, can_coordinate
from bot.services.survey_drafts import (
    build_survey,
    check_question,
    check_title,
    checked_line,
    delete_draft,
    is_choice,
    more_options,
    parse_bounds,
    set_copy_closing,
    set_translation,
    translation_items,
)
from bot.services.surveys import SurveyError
from handlers.composer.audience import audience_choice, show_picker
from handlers.fallback import stale_button, toast
from handlers.survey_kit import (
    KIND_BUTTONS,
    SurveyDialog,
    SurveyStates,
    date_error_text,
    draft_card,
    draft_keyboard,
    draft_of,
    error_text,
    expired,
    gone,
    kind_label,
    known_id,
    refusal,
    token,
)
from handlers.ui import member_zone
from storage.models import Member, Organization, QuestionKind, Survey, SurveyStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

REMINDERS: Final = {"24": 1440, "2": 120, "48": 2880, "off": None}
TYPED: Final = ("question", "title", "text", "options", "bounds", "max_length", "opens", "closes")
BUTTONS: Final = ("kind", "optional", "more", "multiple", "anonymous", "audience", "reminder")
STEP_STATES: Final = {name: getattr(SurveyStates, name) for name in (*TYPED, *BUTTONS)}
STEP_OF_STATE: Final = {state.state: name for name, state in STEP_STATES.items()}
# Which step each dialog button belongs to: pressed in any other, it is stale.
BUTTON_STEPS: Final = {
    "kind": "kind",
    "opt_done": "options",
    "skip_bounds": "bounds",
    "maxlen_default": "max_length",
    "optional": "optional",
    "more": "more",
    "multiple": "multiple",
    "anon": "anonymous",
    "aud": "audience",
    "aud_i": "audience",
    "aud_l": "audience",
    "opens": "opens",
    "opens_ok": "opens",
    "opens_change": "opens",
    "closes_ok": "closes",
    "closes_change": "closes",
    "reminder": "reminder",
}
# The values each choice button may carry.
BUTTON_VALUES: Final = {
    "kind": KIND_BUTTONS,
    "optional": ("yes", "no"),
    "more": ("add", "done"),
    "multiple": ("yes", "no"),
    "anon": ("yes", "no"),
    "opens": ("now", "later"),
    "reminder": tuple(REMINDERS),
}


# -- starting -------------------------------------------------------------------------------------


async def _start(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
    mode: str,
) -> None:
    if not await can_coordinate(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    draft = {
        "mode": mode,
        "zone": member_zone(member, organization),
        "language": i18n.current_locale,
        "questions": [],
        "current": {"kind": "single"} if mode == "poll" else {},
        "audience": {},
        "nonce": secrets.token_hex(4),
    }
    await state.set_state(None)
    await state.update_data(survey_draft=draft, survey_translation=None)
    await _ask(bot, message.chat.id, state, "question" if mode == "poll" else "title", draft)


@router.message(Command("poll"), flags=rights(Action.RUN_SURVEYS))
async def new_poll(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    await _start(message, actor, member, session, organization, state, i18n, bot, "poll")


@router.message(Command("newsurvey"), flags=rights(Action.RUN_SURVEYS))
async def new_survey(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    await _start(message, actor, member, session, organization, state, i18n, bot, "survey")


async def ask_closing(
    bot: Bot, chat_id: int, state: FSMContext, mode: str, survey: Survey, zone: str
) -> None:
    """From /results: a new closing time for an open survey ("extend") or for a copy ("copy")."""
    draft = {"mode": mode, "zone": zone, "survey_id": survey.id, "nonce": secrets.token_hex(4)}
    await state.set_state(None)
    await state.update_data(survey_draft=draft, survey_translation=None)
    await _ask(bot, chat_id, state, "closes", draft)


# -- asking ---------------------------------------------------------------------------------------


def _options_so_far(options: list[str]) -> str:
    lines = [f"{number}. {escape(option)}" for number, option in enumerate(options, start=1)]
    return "\n".join(
        [
            ngettext("{count} answer option so far:", "{count} answer options so far:", len(options)).format(
                count=len(options)
            ),
            *lines,
            "",
            _("Send more, or press Done."),
        ]
    )


async def _ask(bot: Bot, chat_id: int, state: FSMContext, step: str, draft: dict[str, Any]) -> None:
    """Send the question of a step (with its buttons) and wait for the answer in its state."""
    await state.set_state(STEP_STATES[step])
    builder = InlineKeyboardBuilder()
    number = len(draft.get("questions") or []) + 1

    def button(text: str, action: str, value: str = "") -> None:
        builder.button(text=text, callback_data=SurveyDialog(action=action, value=value))

    sizes: tuple[int, ...] = (1,)
    if step == "question":
        text = _(
            "📊 <b>New quick poll</b>\n\nSend the question (at most {limit} characters). "
            "Send /cancel to stop."
        ).format(limit=service.QUESTION_MAX)
    elif step == "title":
        text = _(
            "📋 <b>New survey</b>\n\nWhat is the survey called? Send its title (at most {limit} "
            "characters). Send /cancel to stop."
        ).format(limit=service.TITLE_MAX)
    elif step == "kind":
        text = _("<b>Question {number}</b>: what kind of answer?").format(number=number)
        for kind in KIND_BUTTONS:
            button(kind_label(kind), "kind", kind)
        sizes = (2,)
    elif step == "text":
        text = _("Send the text of question {number} (at most {limit} characters).").format(
            number=number, limit=service.QUESTION_MAX
        )
    elif step == "options":
        text = _(
            "Send the answer options, one per line or one per message: from {low} to {high} options, "
            "each at most {limit} characters. Press Done when they are all there."
        ).format(low=service.OPTIONS_MIN, high=service.OPTIONS_MAX, limit=service.OPTION_MAX)
        button(_("Done"), "opt_done")
    elif step == "bounds":
        text = _(
            "Should the number have limits? Send the lowest and the highest allowed, for example "
            "0 100, or press Skip."
        )
        button(_("Skip"), "skip_bounds")
    elif step == "max_length":
        text = _("How long may an answer be? Send the maximum number of characters (1 to {limit}).").format(
            limit=service.TEXT_MAX
        )
        button(
            ngettext("{count} character", "{count} characters", service.TEXT_DEFAULT).format(
                count=service.TEXT_DEFAULT
            ),
            "maxlen_default",
        )
    elif step == "optional":
        text = _("Must members answer this question?")
        button(_("Required"), "optional", "no")
        button(_("Optional (can be skipped)"), "optional", "yes")
        sizes = (2,)
    elif step == "more":
        text = _("✅ Question {number} is added. Add another one?").format(number=number - 1)
        button(_("➕ Another question"), "more", "add")
        button(_("✅ That's all"), "more", "done")
        sizes = (2,)
    elif step == "multiple":
        text = _("May members choose one answer, or several?")
        button(_("One answer"), "multiple", "no")
        button(_("Several answers"), "multiple", "yes")
        sizes = (2,)
    elif step == "anonymous":
        text = _("Should the answers be anonymous? Then nobody, not even you, can see who answered what.")
        button(_("🙈 Anonymous"), "anon", "yes")
        button(_("👤 With names"), "anon", "no")
        sizes = (2,)
    elif step == "audience":
        text = _("Who should receive it?")
        button(_("Everyone"), "aud", "all")
        button(_("Choose…"), "aud", "choose")
        sizes = (2,)
    elif step == "opens":
        text = _("When should it open?")
        button(_("When I publish it"), "opens", "now")
        button(_("Later…"), "opens", "later")
        sizes = (2,)
    elif step == "closes":
        text = _(
            "When does it close? Send the date and time in your time zone ({zone}), for example "
            "2027-03-14 18:30, 14.03.2027 18:30 or tomorrow 18:00."
        ).format(zone=escape(draft.get("zone", "UTC")))
    else:
        text = _("Remind the members who have not answered yet, before it closes?")
        button(_("24 hours before"), "reminder", "24")
        button(_("2 hours before"), "reminder", "2")
        button(_("48 hours before"), "reminder", "48")
        button(_("No reminder"), "reminder", "off")
        sizes = (2,)
    markup = builder.as_markup() if list(builder.buttons) else None
    if markup is not None:
        builder.adjust(*sizes)
        markup = builder.as_markup()
    await bot.send_message(chat_id, text, reply_markup=markup)


def _following(step: str, draft: dict[str, Any]) -> str | None:
    """The step after `step` (None: the dialog is complete)."""
    if draft.get("mode") == "poll":
        order = ("question", "options", "multiple", "anonymous", "closes", "audience")
        index = order.index(step) + 1
        return order[index] if index < len(order) else None
    kind = (draft.get("current") or {}).get("kind")
    after = {
        "title": "kind",
        "kind": "text",
        "text": "options"
        if kind and is_choice(kind)
        else {"number": "bounds", "text": "max_length"}.get(kind or "", "optional"),
        "options": "optional",
        "bounds": "optional",
        "max_length": "optional",
        "optional": "more",
        "anonymous": "audience",
        "audience": "opens",
        "opens": "closes",
        "closes": "reminder",
    }
    return after.get(step)


async def _next(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    organization: Organization,
    member: Member | None,
    state: FSMContext,
    i18n: I18n,
    step: str,
    draft: dict[str, Any],
) -> None:
    await state.update_data(survey_draft=draft)
    following = _following(step, draft)
    if following is None:
        await _create(bot, chat_id, session, organization, member, state, i18n, draft)
        return
    await _ask(bot, chat_id, state, following, draft)


async def _create(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    organization: Organization,
    member: Member | None,
    state: FSMContext,
    i18n: I18n,
    draft: dict[str, Any],
) -> None:
    """The end of a dialog: the draft is written, then shown with its Publish button."""
    try:
        survey = await build_survey(
            session, organization.id or 0, draft, utcnow(), member.id if member else None
        )
    except SurveyError as error:
        await session.rollback()
        await bot.send_message(chat_id, error_text(error))
        if error.reason == "bad_times":
            await _ask(bot, chat_id, state, "closes", draft)
        else:
            await state.clear()
            await bot.send_message(chat_id, expired())
        return
    await state.clear()
    await session.commit()
    await bot.send_message(
        chat_id, _("👁 Preview: nothing is sent until you press Publish. Members get it in their language.")
    )
    await send_draft(bot, chat_id, session, survey, organization, i18n.current_locale, draft["zone"])


async def send_draft(
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    survey: Survey,
    organization: Organization,
    locale: str,
    zone: str,
) -> None:
    await bot.send_message(
        chat_id,
        await draft_card(session, survey, organization, locale, zone),
        reply_markup=draft_keyboard(survey),
    )


# -- typed answers --------------------------------------------------------------------------------


async def _allowed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> bool:
    if not await can_coordinate(session, actor, member, organization.id or 0):
        await state.clear()
        await message.answer(refusal())
        return False
    if (message.text or "").startswith("/"):
        await message.answer(_("Please answer the question above, or send /cancel to stop."))
        return False
    return True


@router.message(StateFilter(*STEP_STATES.values()), F.text, flags=rights(Action.RUN_SURVEYS))
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
    if not await _allowed(message, actor, member, session, organization, state):
        return
    step = STEP_OF_STATE.get(await state.get_state() or "")
    draft = draft_of(await state.get_data())
    if step is None or draft is None:
        await state.clear()
        await message.answer(expired())
        return
    if step in BUTTONS or (step == "opens" and not draft.get("opens_later")):
        await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))
        return
    text, zone = message.text or "", draft["zone"]
    current = dict(draft.get("current") or {})
    try:
        if step == "title":
            draft["title"] = check_title(text)
        elif step in ("question", "text"):
            current["text"] = checked_line(text, service.QUESTION_MAX, "question_empty", "question_too_long")
        elif step == "options":
            current["options"] = more_options(list(current.get("options") or []), text)
            draft["current"] = current
            await state.update_data(survey_draft=draft)
            await _options_reply(message, current["options"])
            return
        elif step == "bounds":
            current["min_value"], current["max_value"] = parse_bounds(text)
            check_question({**current, "text": current.get("text") or "?"})
        elif step == "max_length":
            length = int(text.strip()) if text.strip().isdigit() and len(text.strip()) < 6 else 0
            current["max_length"] = length
            check_question({**current, "text": current.get("text") or "?"})
        else:  # "opens" or "closes": echoed in words, then confirmed
            moment = parse_local_datetime(text, zone, utcnow()).utc
            draft["pending"] = moment.isoformat()
            await state.update_data(survey_draft=draft)
            await _confirm_time(message, step, moment, zone, i18n)
            return
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    except DateError as error:
        await message.answer(date_error_text(error))
        return
    draft["current"] = current
    await _next(bot, message.chat.id, session, organization, member, state, i18n, step, draft)


async def _options_reply(message: Message, options: list[str]) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Done"), callback_data=SurveyDialog(action="opt_done"))
    await message.answer(_options_so_far(options), reply_markup=builder.as_markup())


async def _confirm_time(message: Message, step: str, moment: datetime, zone: str, i18n: I18n) -> None:
    when = escape(format_when(moment, i18n.current_locale, zone, "words"))
    text = (
        _("It opens on {when}. Is that right?")
        if step == "opens"
        else _("It closes on {when}. Is that right?")
    ).format(when=when)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✅ Correct"), callback_data=SurveyDialog(action=f"{step}_ok", value=token(moment)))
    builder.button(text=_("✏️ Change"), callback_data=SurveyDialog(action=f"{step}_change"))
    builder.adjust(2)
    await message.answer(text, reply_markup=builder.as_markup())


# -- dialog buttons -------------------------------------------------------------------------------


@router.callback_query(SurveyDialog.filter(), flags=rights(Action.RUN_SURVEYS))
async def dialog_button(
    query: CallbackQuery,
    callback_data: SurveyDialog,
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
    if callback_data.id:
        await _draft_button(
            query, callback_data, member, session, organization, state, callback_answer, delivery, i18n, bot
        )
        return
    action, value, chat_id = callback_data.action, callback_data.value, query.from_user.id
    step = STEP_OF_STATE.get(await state.get_state() or "")
    draft = draft_of(await state.get_data())
    if draft is None or step is None or BUTTON_STEPS.get(action) != step:
        stale_button(callback_answer)
        return
    message = query.message if isinstance(query.message, Message) else None
    current = dict(draft.get("current") or {})
    if step == "audience":
        await _audience_button(
            query, callback_data, session, organization, member, state, callback_answer, i18n, bot, draft
        )
        return
    if action == "opt_done":
        try:
            check_question({**current, "text": current.get("text") or "?"})
        except SurveyError as error:
            toast(callback_answer, error_text(error), alert=True)
            return
    elif action in BUTTON_VALUES and value not in BUTTON_VALUES[action]:
        stale_button(callback_answer)
        return
    elif action in ("opens_ok", "closes_ok"):
        pending = draft.get("pending")
        if not pending or token(datetime.fromisoformat(pending)) != value:
            stale_button(callback_answer)
            return
    if message is not None and message.reply_markup is not None:
        await message.edit_reply_markup(reply_markup=None)  # answered: the question is done
    args = (bot, chat_id, session, organization, member, state, i18n)
    if action == "kind":
        scales = {"rating5": (1, 5), "rating10": (0, 10)}
        current = {"kind": "rating" if value in scales else value}
        if value in scales:
            current["min_value"], current["max_value"] = scales[value]
        draft["current"] = current
    elif action == "skip_bounds":
        current["min_value"] = current["max_value"] = None
        draft["current"] = current
    elif action == "maxlen_default":
        current["max_length"] = service.TEXT_DEFAULT
        draft["current"] = current
    elif action == "optional":
        current["optional"] = value == "yes"
        try:
            draft["questions"] = [*draft.get("questions", []), check_question(current)]
        except SurveyError as error:
            await bot.send_message(chat_id, error_text(error))
            await _ask(bot, chat_id, state, "kind", draft)
            return
        draft["current"] = {}
        if len(draft["questions"]) >= service.QUESTIONS_MAX:
            await bot.send_message(chat_id, error_text(SurveyError("too_many_questions")))
            await state.update_data(survey_draft=draft)
            await _ask(bot, chat_id, state, "anonymous", draft)  # the settings come next
            return
    elif action == "more":
        await state.update_data(survey_draft=draft)
        await _ask(bot, chat_id, state, "kind" if value == "add" else "anonymous", draft)
        return
    elif action == "multiple":
        current["kind"] = str(QuestionKind.MULTIPLE if value == "yes" else QuestionKind.SINGLE)
        draft["questions"] = [check_question(current)]
    elif action == "anon":
        draft["anonymous"] = value == "yes"
    elif action == "opens":
        if value == "later":
            draft["opens_later"] = True
            await state.update_data(survey_draft=draft)
            await bot.send_message(
                chat_id,
                _("When should it open? Send the date and time in your time zone ({zone}).").format(
                    zone=escape(draft["zone"])
                ),
            )
            return
        draft["opens_at"] = None
    elif action in ("opens_change", "closes_change"):
        draft.pop("pending", None)
        await state.update_data(survey_draft=draft)
        await _ask(bot, chat_id, state, step, draft)
        return
    elif action == "opens_ok":
        moment = datetime.fromisoformat(draft.pop("pending"))
        if moment <= utcnow():
            await bot.send_message(chat_id, date_error_text(DateError("past")))
            await _ask(bot, chat_id, state, step, draft)
            return
        draft["opens_at"] = moment.isoformat()
    elif action == "closes_ok":
        await _closing_confirmed(
            query, session, organization, member, state, callback_answer, delivery, i18n, bot, draft
        )
        return
    elif action == "reminder":
        draft["reminder"] = REMINDERS[value]
    await _next(*args, step, draft)


async def _closing_confirmed(
    query: CallbackQuery,
    session: AsyncSession,
    organization: Organization,
    member: Member | None,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
    draft: dict[str, Any],
) -> None:
    """A confirmed closing time: for the dialog, for extending an open survey, or for a copy."""
    chat_id, now, zone = query.from_user.id, utcnow(), draft["zone"]
    moment = datetime.fromisoformat(draft.pop("pending"))
    opens_at = draft.get("opens_at")
    if moment <= now or (opens_at and moment <= datetime.fromisoformat(opens_at)):
        await bot.send_message(chat_id, error_text(SurveyError("bad_times")))
        await _ask(bot, chat_id, state, "closes", draft)
        return
    mode = draft.get("mode")
    if mode in ("poll", "survey"):
        draft["closes_at"] = moment.isoformat()
        await _next(bot, chat_id, session, organization, member, state, i18n, "closes", draft)
        return
    survey = await session.get(Survey, int(draft.get("survey_id") or 0))
    if survey is None or survey.organization_id != organization.id:
        await state.clear()
        await bot.send_message(chat_id, gone())
        return
    try:
        if mode == "extend":
            await service.extend(session, survey, moment, now)
        else:
            await set_copy_closing(session, survey, moment, now)
    except SurveyError as error:
        await session.rollback()
        await bot.send_message(chat_id, error_text(error))
        if error.reason == "bad_times":
            await _ask(bot, chat_id, state, "closes", draft)
        else:
            await state.clear()
        return
    await state.clear()
    await session.commit()
    if mode == "extend":
        await bot.send_message(
            chat_id,
            _("🕒 Survey #{id} now closes on {when}.").format(
                id=survey.id, when=escape(format_when(moment, i18n.current_locale, zone, "words"))
            ),
        )
        return
    await send_draft(bot, chat_id, session, survey, organization, i18n.current_locale, zone)


async def _audience_button(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    session: AsyncSession,
    organization: Organization,
    member: Member | None,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    bot: Bot,
    draft: dict[str, Any],
) -> None:
    """Everyone, or ticking interests and languages, then Done."""
    message = query.message if isinstance(query.message, Message) else None
    choice = audience_choice(dict(draft.get("audience") or {}), callback_data.action, callback_data.value)
    if choice is None:
        stale_button(callback_answer)
        return
    outcome, draft["audience"] = choice
    if outcome == "done":
        if message is not None and message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        await _next(bot, query.from_user.id, session, organization, member, state, i18n, "audience", draft)
        return
    await state.update_data(survey_draft=draft)
    if message is not None:
        question = _("Who should receive it?")
        hint = _("Tick the interests and languages of the members to ask, then press Done.")
        await show_picker(message, outcome, draft["audience"], question, hint, SurveyDialog)


# -- the draft card: publish, translate, discard --------------------------------------------------


async def _draft_button(
    query: CallbackQuery,
    callback_data: SurveyDialog,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
) -> None:
    survey = await session.get(Survey, callback_data.id) if known_id(callback_data.id) else None
    if survey is None or survey.organization_id != organization.id or survey.status != SurveyStatus.DRAFT:
        stale_button(callback_answer)
        return
    action, chat_id = callback_data.action, query.from_user.id
    message = query.message if isinstance(query.message, Message) else None
    zone = member_zone(member, organization)
    if action == "publish":
        await _publish(
            query, session, organization, survey, state, callback_answer, delivery, i18n, bot, zone
        )
    elif action == "discard":
        await delete_draft(session, survey)
        await session.commit()
        if message is not None:
            await message.edit_text(_("🗑 The draft was discarded."))
    elif action == "translate" and not survey.native_poll:
        builder = InlineKeyboardBuilder()
        for code in SHIPPED_LANGUAGES:
            if code != survey.language:
                mark = "✅ " if code in survey.translations else ""
                builder.button(
                    text=mark + language_name(code),
                    callback_data=SurveyDialog(action="tr_lang", id=survey.id or 0, value=code),
                )
        builder.adjust(2)
        await bot.send_message(
            chat_id, _("Which language is the translation in?"), reply_markup=builder.as_markup()
        )
    elif action == "tr_lang" and not survey.native_poll:
        if callback_data.value not in SHIPPED_LANGUAGES or callback_data.value == survey.language:
            stale_button(callback_answer)
            return
        info = {"survey_id": survey.id, "language": callback_data.value, "title": None, "versions": []}
        await state.set_state(SurveyStates.translation)
        await state.update_data(survey_translation=info)
        await _ask_translation(bot, chat_id, session, survey, info)
    else:
        stale_button(callback_answer)


async def _publish(
    query: CallbackQuery,
    session: AsyncSession,
    organization: Organization,
    survey: Survey,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    i18n: I18n,
    bot: Bot,
    zone: str,
) -> None:
    chat_id = query.from_user.id
    if survey.closes_at is None or survey.closes_at <= utcnow():
        await bot.send_message(chat_id, error_text(SurveyError("bad_times")))
        await ask_closing(bot, chat_id, state, "copy", survey, zone)
        return
    current = await session.get(Organization, organization.id) or organization
    try:
        invited = await service.open_survey(session, survey, current, utcnow())
    except SurveyError as error:
        await session.rollback()
        toast(callback_answer, error_text(error), alert=True)
        return
    await session.commit()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await bot.send_message(
        chat_id,
        ngettext(
            "📤 Published: {count} member is invited.", "📤 Published: {count} members are invited.", invited
        ).format(count=invited)
        + "\n"
        + _("/results shows the answers as they come in."),
    )
    delivery.wake()


# -- translations of a draft ----------------------------------------------------------------------


async def _ask_translation(
    bot: Bot, chat_id: int, session: AsyncSession, survey: Survey, info: dict[str, Any]
) -> None:
    questions = await service.questions_of(session, survey.id or 0)
    items = translation_items(survey, questions)
    what, index = items[_position(info)]
    language = language_name(info["language"])
    if what == "title":
        text = _("Send the title in {language}. The original: {original}").format(
            language=language, original=f"<i>{escape(survey.title)}</i>"
        )
    elif what == "text":
        text = _("Question {number} in {language}. The original: {original}").format(
            number=index + 1, language=language, original=f"<i>{escape(questions[index].text)}</i>"
        )
    else:
        options = "\n".join(escape(option) for option in questions[index].options)
        text = (
            _("The answer options of question {number} in {language}, one per line, in this order:").format(
                number=index + 1, language=language
            )
            + f"\n<i>{options}</i>"
        )
    await bot.send_message(chat_id, text)


def _position(info: dict[str, Any]) -> int:
    """How many items of the translation are answered (the title, then texts and option lists)."""
    answered = 0 if info.get("title") is None else 1
    for version in info.get("versions") or []:
        answered += 1 + ("options" in version)
    return answered


@router.message(SurveyStates.translation, F.text, flags=rights(Action.RUN_SURVEYS))
async def translation_typed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
) -> None:
    if not await _allowed(message, actor, member, session, organization, state):
        return
    info = (await state.get_data()).get("survey_translation")
    survey = await session.get(Survey, int(info.get("survey_id") or 0)) if isinstance(info, dict) else None
    if (
        survey is None
        or survey.organization_id != organization.id
        or survey.status != SurveyStatus.DRAFT
        or info.get("language") not in SHIPPED_LANGUAGES  # type: ignore[union-attr]
    ):
        await state.clear()
        await message.answer(gone())
        return
    info = dict(info)  # type: ignore[arg-type]
    questions = await service.questions_of(session, survey.id or 0)
    items = translation_items(survey, questions)
    position = _position(info)
    if position >= len(items):
        await state.clear()
        await message.answer(gone())
        return
    what, index = items[position]
    text = message.text or ""
    try:
        if what == "title":
            info["title"] = check_title(text)
        elif what == "text":
            line = checked_line(text, service.QUESTION_MAX, "question_empty", "question_too_long")
            info["versions"] = [*info["versions"], {"text": line}]
        else:
            expected = len(questions[index].options)
            typed = [line for line in text.splitlines() if line.strip()]
            if len(typed) != expected:
                raise SurveyError("bad_translation", expected)
            options = more_options([], "\n".join(typed))
            info["versions"] = [*info["versions"][:-1], {**info["versions"][-1], "options": options}]
    except SurveyError as error:
        await message.answer(error_text(error))
        return
    if _position(info) < len(items):
        await state.update_data(survey_translation=info)
        await _ask_translation(bot, message.chat.id, session, survey, info)
        return
    try:
        await set_translation(session, survey, info["language"], info["title"], info["versions"])
    except SurveyError as error:
        await session.rollback()
        await state.clear()
        await message.answer(error_text(error))
        return
    await state.clear()
    await session.commit()
    await message.answer(
        _("✅ Translation saved: {language}.").format(language=language_name(info["language"]))
    )
    await send_draft(
        bot,
        message.chat.id,
        session,
        survey,
        organization,
        i18n.current_locale,
        member_zone(member, organization),
    )


@router.message(
    StateFilter(*STEP_STATES.values(), SurveyStates.translation), flags=rights(Action.RUN_SURVEYS)
)
async def not_text(message: Message) -> None:
    """Last in the module: what the typed steps above did not take (a photo, a sticker...)."""
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

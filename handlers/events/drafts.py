"""Drafts: the end of /newevent writes the draft (or a series of drafts) and shows the preview
exactly as members will see it; then translations (title, then description or Skip), Publish
(the audience is told, a series once) and Discard (drafts simply go: members never saw them)."""

from __future__ import annotations

from html import escape
from typing import Any, Final
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import format_date

from bot.config import SHIPPED_LANGUAGES
from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, language_name, ngettext
from bot.policy import Action, rights
from bot.services import events as service
from bot.services.events.rules import EventError
from bot.services.events.series import create_series, discard_draft, publish_draft, update_series_from
from handlers.events.callbacks import EventAdmin
from handlers.events.common import DRAFT, OPEN, event_of_step, managed_event, typed_answer
from handlers.events.new_event_steps import REMINDERS, RULES, SERIES_COUNT, ask, moment
from handlers.events.states import EventStates
from handlers.events.texts import error_text, rule_label, weekday_position
from handlers.events.views import draft_keyboard, manage_keyboard, preview_card
from handlers.fallback import stale_button, toast
from storage.models import Event, EventStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
MANAGE: Final = rights(Action.MANAGE_EVENTS)


async def create_drafts(
    query: CallbackQuery, ctx: Context, state: FSMContext, bot: Bot, draft: dict[str, Any]
) -> None:
    """The end of the dialog: the draft (or the series of drafts) is written, then previewed."""
    chat_id, now, zone, organization = query.from_user.id, utcnow(), draft["zone"], ctx.organization
    starts_at = moment(draft.get("starts_at"))
    if starts_at is None or not draft.get("title"):
        await state.clear()
        await bot.send_message(chat_id, _("This dialog has expired. Send /newevent to start again."))
        return
    ends_at, deadline = moment(draft.get("ends_at")), moment(draft.get("rsvp_deadline"))
    fields: dict[str, Any] = {
        "title": draft["title"],
        "description": draft.get("description") or "",
        "language": draft.get("language") or organization.default_language,
        "place": draft.get("place"),
        "online_url": draft.get("online_url"),
        "capacity": draft.get("capacity"),
        "reminder_offsets": draft.get("reminders", REMINDERS["dh"]),
        "audience": draft.get("audience") or {},
        "claim_window_hours": draft.get("claim_window") if draft.get("capacity") is not None else None,
        "created_by_member_id": ctx.member.id if ctx.member else None,
    }
    repeat = draft.get("repeat", "once")
    try:
        if repeat == "once":
            event = await service.create_event(
                ctx.session,
                organization_id=ctx.organization_id,
                starts_at=starts_at,
                ends_at=ends_at,
                rsvp_deadline=deadline,
                timezone=zone,
                now=now,
                **fields,
            )
            events = [event]
        else:
            local = starts_at.astimezone(ZoneInfo(zone))
            duration = int((ends_at - starts_at).total_seconds() // 60) if ends_at else None
            _series, events = await create_series(
                ctx.session,
                organization_id=ctx.organization_id,
                rule=RULES[repeat],
                timezone=zone,
                starts_on=local.date(),
                local_start=local.hour * 60 + local.minute,
                now=now,
                duration_minutes=duration,
                weekday=local.weekday(),
                nth=weekday_position(starts_at, zone)[0] if repeat == "monthly" else None,
                count=SERIES_COUNT,
                **fields,
            )
            if deadline is not None:  # each date closes answers as long before its start
                lead = starts_at - deadline
                for occurrence in events:
                    await service.update_event(
                        ctx.session, occurrence, organization, now, rsvp_deadline=occurrence.starts_at - lead
                    )
    except EventError as error:
        await ctx.session.rollback()
        await bot.send_message(chat_id, error_text(error))
        back = {"past_start": "start", "deadline_in_past": "deadline"}.get(error.reason, "repeat")
        await ask(bot, chat_id, state, back, draft)
        return
    await state.clear()
    first = events[0]
    reach = await service.count_audience(ctx.session, first)
    header = (
        _("👁 Preview: this is how members will see it. Nothing is sent until you press Publish.")
        + "\n"
        + ngettext(
            "This event reaches <b>{count}</b> member.", "This event reaches <b>{count}</b> members.", reach
        ).format(count=reach)
    )
    if repeat != "once":
        last = format_date(events[-1].starts_at.astimezone(ZoneInfo(zone)), "long", locale=ctx.locale)
        header += "\n" + ngettext(
            "🔁 {rule}: {count} date, the last on {last}.",
            "🔁 {rule}: {count} dates, the last on {last}.",
            len(events),
        ).format(rule=escape(rule_label(repeat, starts_at, zone)), count=len(events), last=escape(last))
    await bot.send_message(chat_id, header)
    await bot.send_message(
        chat_id,
        await preview_card(ctx.session, first, organization, ctx.locale, zone),
        reply_markup=draft_keyboard(first),
    )


# -- publish and discard ----------------------------------------------------------------------------


@router.callback_query(EventAdmin.filter(F.action == "publish"), flags=MANAGE)
async def publish(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine,
    bot: Bot,
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer, DRAFT)
    if event is None:
        return
    try:
        told = await publish_draft(ctx.session, event, ctx.organization, utcnow())
    except EventError as error:
        await ctx.session.rollback()
        texts = {
            "past_start": lambda: _(
                "The start time has passed. Change it with ✏️ Edit in /myevents, then publish."
            ),
            "deadline_in_past": lambda: _(
                "The deadline for answers has passed. Discard this draft and create the event again."
            ),
        }
        text = texts[error.reason]() if error.reason in texts else error_text(error)
        toast(callback_answer, text, alert=True)
        return
    await ctx.session.commit()
    if isinstance(query.message, Message):
        # The preview's buttons are done; the /myevents card gets the buttons of a published event.
        keyboard = manage_keyboard(event) if callback_data.value == "manage" else None
        await query.message.edit_reply_markup(reply_markup=keyboard)
    await bot.send_message(
        query.from_user.id,
        ngettext(
            "📤 Published: {count} member will be told.", "📤 Published: {count} members will be told.", told
        ).format(count=told)
        + "\n"
        + _("/myevents shows the answers, the check-in code and more."),
    )
    delivery.wake()


@router.callback_query(EventAdmin.filter(F.action == "discard"), flags=MANAGE)
async def discard(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer, DRAFT)
    if event is None:
        return
    await discard_draft(ctx.session, event)
    await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("🗑 The draft was discarded."))


# -- translations -----------------------------------------------------------------------------------


@router.callback_query(EventAdmin.filter(F.action == "translate"), flags=MANAGE)
async def choose_language(
    query: CallbackQuery, callback_data: EventAdmin, ctx: Context, callback_answer: CallbackAnswer, bot: Bot
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer, DRAFT)
    if event is None:
        return
    builder = InlineKeyboardBuilder()
    for code in SHIPPED_LANGUAGES:
        if code != event.language:
            mark = "✅ " if code in event.translations else ""
            builder.button(
                text=mark + language_name(code),
                callback_data=EventAdmin(action="tr_lang", id=event.id or 0, value=code),
            )
    builder.adjust(2)
    await bot.send_message(
        query.from_user.id, _("Which language is the translation in?"), reply_markup=builder.as_markup()
    )


@router.callback_query(EventAdmin.filter(F.action == "tr_lang"), flags=MANAGE)
async def start_translation(
    query: CallbackQuery,
    callback_data: EventAdmin,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    event = await managed_event(ctx, callback_data.id, callback_answer, DRAFT)
    if event is None:
        return
    language = callback_data.value
    if language not in SHIPPED_LANGUAGES or language == event.language:
        stale_button(callback_answer)
        return
    await state.set_state(EventStates.translation_title)
    await state.update_data(translate={"event_id": event.id or 0, "language": language}, edit=None)
    await bot.send_message(
        query.from_user.id,
        _("Send the title in {language} (at most {limit} characters).").format(
            language=language_name(language), limit=service.TITLE_MAX
        ),
    )


@router.message(StateFilter(EventStates.translation_title), F.text, flags=MANAGE)
async def translation_title(message: Message, ctx: Context, state: FSMContext) -> None:
    if not await typed_answer(message):
        return
    found = await event_of_step(message, ctx, state, "translate")
    if found is None:
        return
    _event, info = found
    try:
        info["title"] = service.validate_title(message.text or "")
    except EventError as error:
        await message.answer(error_text(error))
        return
    await state.update_data(translate=info)
    await state.set_state(EventStates.translation_description)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=EventAdmin(action="skip", value="tr_description"))
    await message.answer(
        _("Now the description in {language}, or press Skip to show the original one.").format(
            language=language_name(info.get("language", ""))
        ),
        reply_markup=builder.as_markup(),
    )


@router.message(StateFilter(EventStates.translation_description), F.text, flags=MANAGE)
async def translation_description(
    message: Message, ctx: Context, state: FSMContext, i18n: I18n, bot: Bot
) -> None:
    if not await typed_answer(message):
        return
    try:
        description = service.validate_description(message.text or "")
    except EventError as error:
        await message.answer(error_text(error))
        return
    await _save_translation(message.chat.id, ctx, state, i18n, bot, description)


@router.callback_query(EventAdmin.filter((F.action == "skip") & (F.value == "tr_description")), flags=MANAGE)
async def skip_translated_description(
    query: CallbackQuery,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    i18n: I18n,
    bot: Bot,
) -> None:
    if await state.get_state() != EventStates.translation_description.state:
        stale_button(callback_answer)
        return
    await _save_translation(query.from_user.id, ctx, state, i18n, bot, None)


async def _save_translation(
    chat_id: int, ctx: Context, state: FSMContext, i18n: I18n, bot: Bot, description: str | None
) -> None:
    """Store the translation on the event (and the later dates of its series), then show the
    card in that language."""
    found = (await state.get_data()).get("translate")
    info: dict[str, Any] = found if isinstance(found, dict) else {}
    event = None
    if info.get("event_id"):
        event = await ctx.load(Action.MANAGE_EVENTS, Event, int(info["event_id"]))
    language, title = info.get("language"), info.get("title")
    if (
        event is None
        or event.training_id is not None
        or event.status not in OPEN
        or not isinstance(language, str)
        or language not in SHIPPED_LANGUAGES
        or not title
    ):
        await state.clear()
        await bot.send_message(chat_id, _("This event can no longer be changed."))
        return
    entry = {"title": title}
    if description:
        entry["description"] = description
    translations = {**event.translations, language: entry}
    try:
        await update_series_from(ctx.session, event, ctx.organization, utcnow(), translations=translations)
    except EventError as error:
        await bot.send_message(chat_id, error_text(error))
        return
    await state.clear()
    await bot.send_message(
        chat_id,
        _("✅ Translation saved: {language}. Members who use it will see:").format(
            language=language_name(language)
        ),
    )
    keyboard = draft_keyboard(event) if event.status == EventStatus.DRAFT else None
    with i18n.use_locale(language):
        card = await preview_card(ctx.session, event, ctx.organization, language, ctx.zone, version=language)
    await bot.send_message(chat_id, card, reply_markup=keyboard)

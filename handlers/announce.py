"""/announce: the organizer's composer, and /announcements: what is scheduled or going out.

Every action is authorized on the server (organizer or admin of the organization) for the command,
each typed step and every button: callback data can be forged.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape, unescape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import SHIPPED_LANGUAGES
from bot.delivery import DeliveryEngine
from bot.i18n import _, format_when, language_name, ngettext
from bot.policy import Action, rights
from bot.services import announcements as service
from bot.services.dates import DateError, parse_local_datetime
from bot.services.geo import country_codes, country_name, find_countries
from bot.services.members import CITY_MAX, INTERESTS
from bot.services.roles import Actor, can_organize
from bot.services.schedule_math import parse_clock
from bot.services.text import TextRejected, clean_line
from handlers.callbacks import AnnounceAction
from handlers.fallback import stale_button, toast
from handlers.states import AnnounceStates
from handlers.ui import INTEREST_LABELS, locale_now, member_zone
from storage.models import Announcement, AnnouncementStatus, MediaKind, Member, Organization
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

TEXT_MAX = 4096
CAPTION_MAX = 1024
EDITABLE = (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED)


def refusal() -> str:
    return _("Sorry, only organizers can send announcements.")


# -- writing the text ------------------------------------------------------------------------------


@router.message(Command("announce"), flags=rights(Action.ANNOUNCE))
async def start_announcement(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    if not await can_organize(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    await state.set_state(AnnounceStates.text)
    await state.update_data(announcement_id=None)
    await message.answer(
        _(
            "📣 <b>New announcement</b>\n\n"
            "Send the text exactly as members should see it: your formatting is kept. "
            "You can also send a photo or a document with a caption. Send /cancel to stop."
        )
    )


def _content(message: Message) -> tuple[str, MediaKind | None, str | None] | str:
    """(HTML text, media kind, file id) from the organizer's message, or an error to show."""
    if message.photo:
        html = message.html_text if message.caption else ""
        if len(message.caption or "") > CAPTION_MAX:
            return _("A caption can have at most {limit} characters.").format(limit=CAPTION_MAX)
        return html, MediaKind.PHOTO, message.photo[-1].file_id
    if message.document:
        html = message.html_text if message.caption else ""
        return html, MediaKind.DOCUMENT, message.document.file_id
    if message.text:
        if message.text.startswith("/"):
            return _("Please send the announcement text first, or /cancel to stop.")
        try:
            clean_line(message.text, TEXT_MAX)
        except TextRejected:
            return _("That looks empty. Please type your answer.")
        return message.html_text, None, None
    return _("Please send text, a photo or a document.")


@router.message(AnnounceStates.text, flags=rights(Action.ANNOUNCE))
async def text_received(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
) -> None:
    if not await can_organize(session, actor, member, organization.id or 0):
        await state.clear()
        await message.answer(refusal())
        return
    content = _content(message)
    if isinstance(content, str):
        await message.answer(content)
        return
    html, media_kind, file_id = content
    announcement = Announcement(
        organization_id=organization.id or 0,
        author_member_id=member.id if member else None,
        author_chat_id=message.chat.id,
        author_language=i18n.current_locale,
        author_timezone=member_zone(member, organization),
        text=html,
        language=i18n.current_locale,
        media_kind=media_kind,
        media_file_id=file_id,
    )
    session.add(announcement)
    await session.flush()
    await state.set_state(None)
    await state.update_data(announcement_id=announcement.id)
    await send_composer(message.bot, message.chat.id, session, announcement)  # type: ignore[arg-type]


# -- the composer card -----------------------------------------------------------------------------


def audience_summary(audience: dict[str, Any]) -> str:
    locale = locale_now()
    parts = []
    if audience.get("interests"):
        parts.append(
            ", ".join(str(INTEREST_LABELS[key]) for key in audience["interests"] if key in INTEREST_LABELS)
        )
    if audience.get("languages"):
        parts.append(", ".join(language_name(code) for code in audience["languages"]))
    if audience.get("residence_countries"):
        names = ", ".join(country_name(code, locale) for code in audience["residence_countries"])
        parts.append(_("living in {countries}").format(countries=names))
    if audience.get("origin_countries"):
        names = ", ".join(country_name(code, locale) for code in audience["origin_countries"])
        parts.append(_("from {countries}").format(countries=names))
    if audience.get("city"):
        parts.append(_("in {city}").format(city=audience["city"]))
    return escape("; ".join(parts)) if parts else _("everyone")


async def composer_text(session: AsyncSession, announcement: Announcement) -> str:
    count = await service.count_audience(session, announcement)
    versions = [language_name(announcement.language), *map(language_name, sorted(announcement.translations))]
    media = {MediaKind.PHOTO: _("with a photo"), MediaKind.DOCUMENT: _("with a document")}
    lines = [
        _("📣 <b>Announcement #{id}</b>").format(id=announcement.id)
        + (f" ({media[announcement.media_kind]})" if announcement.media_kind else ""),
        "",
        _("<b>Languages:</b> {languages}").format(languages=", ".join(versions)),
        _("<b>Audience:</b> {audience}").format(audience=audience_summary(announcement.audience)),
        _("<b>Topic:</b> {topic}").format(
            topic=INTEREST_LABELS[announcement.category] if announcement.category else _("none")
        ),
        _("<b>Urgent:</b> {answer}").format(answer=_("yes") if announcement.urgent else _("no")),
        "",
        ngettext("It reaches <b>{count}</b> member.", "It reaches <b>{count}</b> members.", count).format(
            count=count
        ),
    ]
    return "\n".join(lines)


def composer_keyboard(announcement: Announcement) -> InlineKeyboardMarkup:
    ident = announcement.id or 0
    builder = InlineKeyboardBuilder()

    def add(text: str, action: str) -> None:
        builder.button(text=text, callback_data=AnnounceAction(action=action, id=ident))

    add(_("👁 Preview"), "preview")
    add(_("🌐 Add a translation"), "translate")
    add(_("🎯 Audience"), "audience")
    add(_("🏷 Topic"), "topic")
    add(_("⚡ Urgent: on") if announcement.urgent else _("⚡ Urgent: off"), "urgent")
    add(_("📤 Send now"), "send")
    add(_("🕒 Schedule"), "schedule")
    add(_("🌅 At members' local time"), "local")
    add(_("🗑 Discard"), "discard")
    builder.adjust(2, 2, 1, 2, 1, 1)
    return builder.as_markup()


async def send_composer(bot: Bot, chat_id: int, session: AsyncSession, announcement: Announcement) -> None:
    await bot.send_message(
        chat_id, await composer_text(session, announcement), reply_markup=composer_keyboard(announcement)
    )


async def _refresh(query: CallbackQuery, session: AsyncSession, announcement: Announcement) -> None:
    if isinstance(query.message, Message):
        await query.message.edit_text(
            await composer_text(session, announcement), reply_markup=composer_keyboard(announcement)
        )


# -- buttons -----------------------------------------------------------------------------------------


async def _load(
    session: AsyncSession,
    callback_data: AnnounceAction,
    organization: Organization,
    callback_answer: CallbackAnswer,
    statuses: tuple[AnnouncementStatus, ...] = (AnnouncementStatus.DRAFT,),
) -> Announcement | None:
    announcement = await session.get(Announcement, callback_data.id)
    if (
        announcement is None
        or announcement.organization_id != organization.id
        or announcement.status not in statuses
    ):
        stale_button(callback_answer)
        return None
    return announcement


@router.callback_query(AnnounceAction.filter(), flags=rights(Action.ANNOUNCE))
async def composer_button(
    query: CallbackQuery,
    callback_data: AnnounceAction,
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
    if not await can_organize(session, actor, member, organization.id or 0):
        toast(callback_answer, refusal(), alert=True)
        return
    action, chat_id = callback_data.action, query.from_user.id
    if action in {"cancel_scheduled", "edit_text"}:
        await _manage(query, callback_data, session, organization, state, callback_answer, bot)
        return
    announcement = await _load(session, callback_data, organization, callback_answer)
    if announcement is None:
        return
    value = callback_data.value
    if action == "preview":
        await bot.send_message(chat_id, _("👁 Preview: this is exactly what members will see."))
        for language in [announcement.language, *sorted(announcement.translations)]:
            if announcement.translations:
                await bot.send_message(chat_id, f"— {language_name(language)} —")
            await _send_version(bot, chat_id, announcement, language)
    elif action == "translate":
        builder = InlineKeyboardBuilder()
        for code in SHIPPED_LANGUAGES:
            if code != announcement.language:
                mark = "✅ " if code in announcement.translations else ""
                builder.button(
                    text=mark + language_name(code),
                    callback_data=AnnounceAction(action="translate_to", id=announcement.id or 0, value=code),
                )
        builder.adjust(2)
        await bot.send_message(
            chat_id, _("Which language is the translation in?"), reply_markup=builder.as_markup()
        )
    elif action == "translate_to":
        if value not in SHIPPED_LANGUAGES or value == announcement.language:
            stale_button(callback_answer)
            return
        await state.set_state(AnnounceStates.translation)
        await state.update_data(announcement_id=announcement.id, language=value)
        await bot.send_message(
            chat_id,
            _("Send the text in {language}. Members who use {language} get this version.").format(
                language=language_name(value)
            ),
        )
    elif action == "audience":
        await bot.send_message(
            chat_id, _("Who should receive it?"), reply_markup=audience_keyboard(announcement)
        )
    elif action in {"aud_interest", "aud_language", "aud_clear"}:
        _toggle_audience(announcement, action, value)
        session.add(announcement)
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=audience_keyboard(announcement))
        count = await service.count_audience(session, announcement)
        toast(
            callback_answer,
            ngettext("Reaches {count} member", "Reaches {count} members", count).format(count=count),
        )
    elif action in {"aud_residence", "aud_origin", "aud_city"}:
        await state.set_state(AnnounceStates.city if action == "aud_city" else AnnounceStates.country)
        await state.update_data(announcement_id=announcement.id, field=action)
        prompt = (
            _("Which city? Members who live there receive it.")
            if action == "aud_city"
            else _("Type a country (in any language). Send it again to remove it.")
        )
        await bot.send_message(chat_id, prompt)
    elif action == "aud_country":
        field = (
            "origin_countries"
            if (await state.get_data()).get("field") == "aud_origin"
            else "residence_countries"
        )
        if value not in country_codes():
            stale_button(callback_answer)
            return
        _toggle_list(announcement.audience, field, value)
        session.add(announcement)
        await state.set_state(None)
        await send_composer(bot, chat_id, session, announcement)
    elif action == "aud_done":
        await send_composer(bot, chat_id, session, announcement)
    elif action == "topic":
        builder = InlineKeyboardBuilder()
        for key in INTERESTS:
            mark = "✅ " if announcement.category == key else ""
            builder.button(
                text=mark + str(INTEREST_LABELS[key]),
                callback_data=AnnounceAction(action="topic_set", id=announcement.id or 0, value=key),
            )
        builder.button(
            text=_("No topic"), callback_data=AnnounceAction(action="topic_set", id=announcement.id or 0)
        )
        builder.adjust(2)
        await bot.send_message(
            chat_id,
            _("Which topic is it about? Members who muted that topic won't receive it."),
            reply_markup=builder.as_markup(),
        )
    elif action == "topic_set":
        if value and value not in INTERESTS:
            stale_button(callback_answer)
            return
        announcement.category = value or None
        session.add(announcement)
        await send_composer(bot, chat_id, session, announcement)
    elif action == "urgent":
        announcement.urgent = not announcement.urgent
        session.add(announcement)
        await _refresh(query, session, announcement)
    elif action == "send":
        count = await service.count_audience(session, announcement)
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("✅ Yes, send it"),
            callback_data=AnnounceAction(action="send_confirm", id=announcement.id or 0),
        )
        builder.button(
            text=_("← Back"), callback_data=AnnounceAction(action="aud_done", id=announcement.id or 0)
        )
        builder.adjust(1)
        note = "" if announcement.urgent else "\n" + _("Members in their quiet hours get it when those end.")
        await bot.send_message(
            chat_id,
            ngettext("Send it to {count} member now?", "Send it to {count} members now?", count).format(
                count=count
            )
            + note,
            reply_markup=builder.as_markup(),
        )
    elif action == "send_confirm":
        await _enqueue(query, session, organization, announcement, delivery, callback_answer, bot)
    elif action == "schedule":
        await state.set_state(AnnounceStates.schedule)
        await state.update_data(announcement_id=announcement.id)
        await bot.send_message(
            chat_id,
            _(
                "When should it go out? Send the date and time in your time zone ({zone}), "
                "for example 2027-03-14 18:30 or 14.03.2027 18:30."
            ).format(zone=announcement.author_timezone),
        )
    elif action == "local":
        await state.set_state(AnnounceStates.local_time)
        await state.update_data(announcement_id=announcement.id)
        await bot.send_message(
            chat_id,
            _(
                "At what time on each member's own clock? For example 10:00: members in Toronto, "
                "Nairobi and Manila each get it at 10:00 their time."
            ),
        )
    elif action == "schedule_confirm":
        at = (await state.get_data()).get("scheduled_at")
        if not at:
            stale_button(callback_answer)
            return
        await service.schedule(session, announcement, datetime.fromisoformat(at))
        await state.clear()
        when = format_when(
            announcement.scheduled_at, i18n.current_locale, announcement.author_timezone, "words"
        )  # type: ignore[arg-type]
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _(
                    "🕒 Announcement #{id} is scheduled for {when}. "
                    "/announcements lists, edits and cancels it."
                ).format(id=announcement.id, when=escape(when))
            )
    elif action == "local_confirm":
        clock = (await state.get_data()).get("local_time")
        if not clock:
            stale_button(callback_answer)
            return
        announcement.local_time = clock
        await state.clear()
        await _enqueue(query, session, organization, announcement, delivery, callback_answer, bot)
    elif action == "discard":
        await session.delete(announcement)
        await state.clear()
        if isinstance(query.message, Message):
            await query.message.edit_text(_("🗑 The draft was discarded."))
    else:
        stale_button(callback_answer)


async def _send_version(bot: Bot, chat_id: int, announcement: Announcement, language: str) -> None:
    text = service.text_for(announcement, language)
    if announcement.media_kind == MediaKind.PHOTO:
        await bot.send_photo(chat_id, announcement.media_file_id or "", caption=text or None)
    elif announcement.media_kind == MediaKind.DOCUMENT:
        await bot.send_document(chat_id, announcement.media_file_id or "", caption=text or None)
    else:
        await bot.send_message(chat_id, text)


async def _enqueue(
    query: CallbackQuery,
    session: AsyncSession,
    organization: Organization,
    announcement: Announcement,
    delivery: DeliveryEngine,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    try:
        count = await service.enqueue_announcement(session, announcement, organization)
    except service.AnnouncementError as error:
        await session.rollback()
        if error.reason == "empty_audience":
            toast(
                callback_answer, _("Nobody in this audience can receive it. Change the audience."), alert=True
            )
        else:
            stale_button(callback_answer)
        return
    status = await bot.send_message(
        query.from_user.id,
        ngettext(
            "📣 Announcement #{id} is on its way to {count} member.",
            "📣 Announcement #{id} is on its way to {count} members.",
            count,
        ).format(id=announcement.id, count=count),
    )
    announcement.status_message_id = status.message_id
    session.add(announcement)
    await session.commit()
    delivery.wake()


def audience_keyboard(announcement: Announcement) -> InlineKeyboardMarkup:
    ident = announcement.id or 0
    audience = announcement.audience
    builder = InlineKeyboardBuilder()
    for key in INTERESTS:
        mark = "✅" if key in audience.get("interests", []) else "▫️"
        builder.button(
            text=f"{mark} {INTEREST_LABELS[key]}",
            callback_data=AnnounceAction(action="aud_interest", id=ident, value=key),
        )
    for code in SHIPPED_LANGUAGES:
        mark = "✅" if code in audience.get("languages", []) else "▫️"
        builder.button(
            text=f"{mark} {language_name(code)}",
            callback_data=AnnounceAction(action="aud_language", id=ident, value=code),
        )
    builder.button(
        text=_("🏠 Country of residence…"), callback_data=AnnounceAction(action="aud_residence", id=ident)
    )
    builder.button(
        text=_("🌍 Country of origin…"), callback_data=AnnounceAction(action="aud_origin", id=ident)
    )
    builder.button(text=_("🏙 City…"), callback_data=AnnounceAction(action="aud_city", id=ident))
    builder.button(text=_("Everyone"), callback_data=AnnounceAction(action="aud_clear", id=ident))
    builder.button(text=_("Done"), callback_data=AnnounceAction(action="aud_done", id=ident))
    builder.adjust(*([2] * 4), 1, *([2] * 4), 2, 1, 1, 1)
    return builder.as_markup()


def _toggle_list(audience: dict[str, Any], field: str, value: str) -> None:
    values = list(audience.get(field, []))
    values = [item for item in values if item != value] if value in values else [*values, value]
    audience[field] = values


def _toggle_audience(announcement: Announcement, action: str, value: str) -> None:
    audience = dict(announcement.audience)
    if action == "aud_clear":
        audience = {}
    elif action == "aud_interest" and value in INTERESTS:
        _toggle_list(audience, "interests", value)
    elif action == "aud_language" and value in SHIPPED_LANGUAGES:
        _toggle_list(audience, "languages", value)
    announcement.audience = {key: items for key, items in audience.items() if items}


# -- typed steps ---------------------------------------------------------------------------------------


async def _step_draft(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    statuses: tuple[AnnouncementStatus, ...],
) -> Announcement | None:
    """For a typed step: the announcement being edited, after checking again (on the server) that
    the sender may still edit it; None after telling them why not."""
    if not await can_organize(session, actor, member, organization.id or 0):
        await state.clear()
        await message.answer(refusal())
        return None
    announcement_id = (await state.get_data()).get("announcement_id")
    announcement = await session.get(Announcement, announcement_id) if announcement_id else None
    if (
        announcement is None
        or announcement.organization_id != organization.id
        or announcement.status not in statuses
    ):
        await state.clear()
        await message.answer(_("This announcement can no longer be changed."))
        return None
    return announcement


@router.message(AnnounceStates.translation, F.text, flags=rights(Action.ANNOUNCE))
async def translation_received(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    announcement = await _step_draft(message, actor, member, session, organization, state, EDITABLE)
    if announcement is None:
        return
    language = (await state.get_data()).get("language")
    if language not in SHIPPED_LANGUAGES:
        await state.clear()
        await message.answer(_("This announcement can no longer be changed."))
        return
    if (message.text or "").startswith("/"):
        await message.answer(_("Please send the announcement text first, or /cancel to stop."))
        return
    announcement.translations = {**announcement.translations, language: message.html_text}
    session.add(announcement)
    await state.set_state(None)
    await message.answer(_("✅ Translation saved: {language}.").format(language=language_name(language)))
    await send_composer(message.bot, message.chat.id, session, announcement)  # type: ignore[arg-type]


@router.message(AnnounceStates.country, F.text, flags=rights(Action.ANNOUNCE))
async def audience_country_typed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    announcement = await _step_draft(
        message, actor, member, session, organization, state, (AnnouncementStatus.DRAFT,)
    )
    if announcement is None:
        return
    matches = find_countries(message.text or "")
    if not matches:
        await message.answer(
            _(
                "I couldn't find a country called “{text}”. Please check the spelling, or try its name in "
                "English."
            ).format(text=escape((message.text or "")[:80]))
        )
        return
    builder = InlineKeyboardBuilder()
    for code in matches:
        builder.button(
            text=country_name(code, locale_now()),
            callback_data=AnnounceAction(action="aud_country", id=announcement.id or 0, value=code),
        )
    builder.adjust(1)
    await message.answer(_("Which one do you mean?"), reply_markup=builder.as_markup())


@router.message(AnnounceStates.city, F.text, flags=rights(Action.ANNOUNCE))
async def audience_city_typed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    announcement = await _step_draft(
        message, actor, member, session, organization, state, (AnnouncementStatus.DRAFT,)
    )
    if announcement is None:
        return
    try:
        city = clean_line(message.text, CITY_MAX)
    except TextRejected:
        await message.answer(_("That looks empty. Please type your answer."))
        return
    audience = dict(announcement.audience)
    audience["city"] = city
    announcement.audience = audience
    session.add(announcement)
    await state.set_state(None)
    await send_composer(message.bot, message.chat.id, session, announcement)  # type: ignore[arg-type]


@router.message(AnnounceStates.schedule, F.text, flags=rights(Action.ANNOUNCE))
async def schedule_typed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    i18n: I18n,
) -> None:
    announcement = await _step_draft(message, actor, member, session, organization, state, EDITABLE)
    if announcement is None:
        return
    try:
        moment = parse_local_datetime(message.text or "", announcement.author_timezone, utcnow())
    except DateError as error:
        await message.answer(
            _("That time has already passed. Please send a time in the future.")
            if error.reason == "past"
            else _("I couldn't read that date. Please write it like 2027-03-14 18:30 or 14.03.2027 18:30.")
        )
        return
    await state.update_data(scheduled_at=moment.utc.isoformat())
    when = format_when(moment.utc, i18n.current_locale, announcement.author_timezone, "words")
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Confirm"), callback_data=AnnounceAction(action="schedule_confirm", id=announcement.id or 0)
    )
    builder.button(text=_("← Back"), callback_data=AnnounceAction(action="aud_done", id=announcement.id or 0))
    builder.adjust(1)
    await message.answer(
        _("It will go out on {when}. Confirm?").format(when=escape(when)), reply_markup=builder.as_markup()
    )


@router.message(AnnounceStates.local_time, F.text, flags=rights(Action.ANNOUNCE))
async def local_time_typed(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    announcement = await _step_draft(
        message, actor, member, session, organization, state, (AnnouncementStatus.DRAFT,)
    )
    if announcement is None:
        return
    minutes = parse_clock(message.text or "")
    if minutes is None:
        await message.answer(_("Please send a time such as 10:00 or 9:30."))
        return
    clock = f"{minutes // 60:02d}:{minutes % 60:02d}"
    await state.update_data(local_time=clock)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✅ Confirm"), callback_data=AnnounceAction(action="local_confirm", id=announcement.id or 0)
    )
    builder.button(text=_("← Back"), callback_data=AnnounceAction(action="aud_done", id=announcement.id or 0))
    builder.adjust(1)
    await message.answer(
        _("Each member gets it at {time} on their own clock, within the next 24 hours. Confirm?").format(
            time=clock
        ),
        reply_markup=builder.as_markup(),
    )


# -- /announcements: scheduled and running ones ----------------------------------------------------------


@router.message(Command("announcements"), flags=rights(Action.ANNOUNCE))
async def list_announcements(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    i18n: I18n,
) -> None:
    if not await can_organize(session, actor, member, organization.id or 0):
        await message.answer(refusal())
        return
    rows = (
        await session.exec(
            select(Announcement)
            .where(
                Announcement.organization_id == organization.id,
                col(Announcement.status).in_([AnnouncementStatus.SCHEDULED, AnnouncementStatus.SENDING]),
            )
            .order_by(col(Announcement.id))
            .limit(20)
        )
    ).all()
    if not rows:
        await message.answer(_("Nothing is scheduled or being sent right now. /announce writes a new one."))
        return
    for announcement in rows:
        preview = escape(_plain_preview(announcement.text))
        if announcement.status == AnnouncementStatus.SCHEDULED and announcement.scheduled_at:
            when = format_when(
                announcement.scheduled_at, i18n.current_locale, member_zone(member, organization)
            )
            head = _("🕒 #{id}, scheduled for {when}").format(id=announcement.id, when=escape(when))
        else:
            head = _("📣 #{id}, being sent").format(id=announcement.id)
        builder = InlineKeyboardBuilder()
        if announcement.status == AnnouncementStatus.SCHEDULED:
            builder.button(
                text=_("✏️ Edit text"),
                callback_data=AnnounceAction(action="edit_text", id=announcement.id or 0),
            )
        builder.button(
            text=_("✖ Cancel it"),
            callback_data=AnnounceAction(action="cancel_scheduled", id=announcement.id or 0),
        )
        await message.answer(f"{head}\n<i>{preview}</i>", reply_markup=builder.as_markup())


def _plain_preview(html: str, limit: int = 120) -> str:
    text = unescape(re.sub(r"<[^>]+>", "", html)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def _manage(
    query: CallbackQuery,
    callback_data: AnnounceAction,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    statuses = (
        (AnnouncementStatus.SCHEDULED,)
        if callback_data.action == "edit_text"
        else (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED, AnnouncementStatus.SENDING)
    )
    announcement = await _load(session, callback_data, organization, callback_answer, statuses)
    if announcement is None:
        return
    if callback_data.action == "edit_text":
        await state.set_state(AnnounceStates.edit_text)
        await state.update_data(announcement_id=announcement.id)
        await bot.send_message(query.from_user.id, _("Send the new text. Translations stay as they are."))
        return
    stopped = await service.cancel(session, announcement)
    text = ngettext(
        "✖ Announcement #{id} is cancelled: {count} message will not be sent.",
        "✖ Announcement #{id} is cancelled: {count} messages will not be sent.",
        stopped,
    ).format(id=announcement.id, count=stopped)
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


@router.message(AnnounceStates.edit_text, F.text, flags=rights(Action.ANNOUNCE))
async def new_text_received(
    message: Message,
    actor: Actor,
    member: Member | None,
    session: AsyncSession,
    organization: Organization,
    state: FSMContext,
) -> None:
    announcement = await _step_draft(
        message, actor, member, session, organization, state, (AnnouncementStatus.SCHEDULED,)
    )
    if announcement is None:
        return
    if (message.text or "").startswith("/"):
        await message.answer(_("Please send the announcement text first, or /cancel to stop."))
        return
    if announcement.media_kind and len(message.text or "") > CAPTION_MAX:
        await message.answer(_("A caption can have at most {limit} characters.").format(limit=CAPTION_MAX))
        return
    announcement.text = message.html_text
    session.add(announcement)
    await state.clear()
    await message.answer(_("✅ The text of announcement #{id} is updated.").format(id=announcement.id))


@router.message(AnnounceStates.translation, flags=rights(Action.ANNOUNCE))
@router.message(AnnounceStates.country, flags=rights(Action.ANNOUNCE))
@router.message(AnnounceStates.city, flags=rights(Action.ANNOUNCE))
@router.message(AnnounceStates.schedule, flags=rights(Action.ANNOUNCE))
@router.message(AnnounceStates.local_time, flags=rights(Action.ANNOUNCE))
@router.message(AnnounceStates.edit_text, flags=rights(Action.ANNOUNCE))
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

"""What the organizer sees of an announcement: the composer card and its keyboard, the audience
picker, the short preview of /announcements, and each language version as members get it."""

from __future__ import annotations

import re
from html import unescape

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _, language_name, ngettext
from bot.services.announcements import count_audience, text_for
from handlers.announcements.callbacks import AnnounceAction
from handlers.composer import audience_summary, organization_line, ticks_keyboard
from handlers.ui import INTEREST_LABELS
from storage.models import Announcement, MediaKind


async def composer_text(session: AsyncSession, announcement: Announcement) -> str:
    count = await count_audience(session, announcement)
    versions = [language_name(announcement.language), *map(language_name, sorted(announcement.translations))]
    media = {MediaKind.PHOTO: _("with a photo"), MediaKind.DOCUMENT: _("with a document")}
    lines = [
        _("📣 <b>Announcement #{id}</b>").format(id=announcement.id)
        + (f" ({media[announcement.media_kind]})" if announcement.media_kind else ""),
        "",
        *filter(None, [await organization_line(session, announcement.organization_id)]),
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


def button(text: str, action: str, ident: int, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=AnnounceAction(action=action, id=ident, value=value).pack()
    )


def composer_keyboard(announcement: Announcement) -> InlineKeyboardMarkup:
    ident = announcement.id or 0
    urgent = _("⚡ Urgent: on") if announcement.urgent else _("⚡ Urgent: off")
    rows = [
        [button(_("👁 Preview"), "preview", ident), button(_("🌐 Add a translation"), "translate", ident)],
        [button(_("🎯 Audience"), "audience", ident), button(_("🏷 Topic"), "topic", ident)],
        [button(urgent, "urgent", ident)],
        [button(_("📤 Send now"), "send", ident), button(_("🕒 Schedule"), "schedule", ident)],
        [button(_("🌅 At members' local time"), "local", ident)],
        [button(_("🗑 Discard"), "discard", ident)],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def send_composer(bot: Bot, chat_id: int, session: AsyncSession, announcement: Announcement) -> None:
    await bot.send_message(
        chat_id, await composer_text(session, announcement), reply_markup=composer_keyboard(announcement)
    )


def audience_keyboard(announcement: Announcement) -> InlineKeyboardMarkup:
    ident = announcement.id or 0
    codes = {"interests": "aud_interest", "languages": "aud_language"}
    tail = [
        [
            (_("🏠 Country of residence…"), AnnounceAction(action="aud_residence", id=ident)),
            (_("🌍 Country of origin…"), AnnounceAction(action="aud_origin", id=ident)),
        ],
        [(_("🏙 City…"), AnnounceAction(action="aud_city", id=ident))],
        [(_("Everyone"), AnnounceAction(action="aud_clear", id=ident))],
        [(_("Done"), AnnounceAction(action="aud_done", id=ident))],
    ]
    return ticks_keyboard(
        announcement.audience,
        lambda field, value: AnnounceAction(action=codes[field], id=ident, value=value),
        tail,
    )


def plain_preview(html: str, limit: int = 120) -> str:
    text = unescape(re.sub(r"<[^>]+>", "", html)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def send_version(bot: Bot, chat_id: int, announcement: Announcement, language: str) -> None:
    """One language version exactly as members get it (the delivery code renders the same)."""
    text = text_for(announcement, language)
    if announcement.media_kind == MediaKind.PHOTO:
        await bot.send_photo(chat_id, announcement.media_file_id or "", caption=text or None)
    elif announcement.media_kind == MediaKind.DOCUMENT:
        await bot.send_document(chat_id, announcement.media_file_id or "", caption=text or None)
    else:
        await bot.send_message(chat_id, text)

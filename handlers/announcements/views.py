"""What the organizer sees of an announcement: the composer card and its keyboard, the audience
picker, the short preview of /announcements, and each language version as members get it."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _, language_name, ngettext
from bot.services.announcements import count_audience
from bot.services.origins import origin_name
from bot.views.announcements import member_text
from handlers.announcements.callbacks import AnnounceAction
from handlers.composer import audience_summary, organization_line, reach_rows, ticks_keyboard
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


def audience_keyboard(
    announcement: Announcement, reach: bool = False, audience: dict[str, Any] | None = None
) -> InlineKeyboardMarkup:
    """Interests and languages to tick, countries and a city to type, Everyone, (with `reach`, a
    super-admin's, the organizations reached), Done; for the announcement's audience, or `audience`."""
    ident = announcement.id or 0
    audience = announcement.audience if audience is None else audience
    codes = {"interests": "aud_interest", "languages": "aud_language"}

    def button(action: str, value: str = "") -> AnnounceAction:
        return AnnounceAction(action=action, id=ident, value=value)

    tail = [
        [
            (_("🏠 Country of residence…"), button("aud_residence")),
            (_("🌍 Country of origin…"), button("aud_origin")),
        ],
        [(_("🏙 City…"), button("aud_city"))],
        *(reach_rows(audience, button) if reach else []),
        [(_("Everyone"), button("aud_clear"))],
        [(_("Done"), button("aud_done"))],
    ]
    return ticks_keyboard(audience, lambda field, value: button(codes[field], value), tail)


def plain_preview(html: str, limit: int = 120) -> str:
    text = unescape(re.sub(r"<[^>]+>", "", html)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def send_version(
    bot: Bot, chat_id: int, session: AsyncSession, announcement: Announcement, language: str
) -> None:
    """One language version exactly as members get it (the delivery code renders the same)."""
    origin = await origin_name(session, announcement.organization_id, language)
    text = member_text(announcement, language, origin)
    if announcement.media_kind == MediaKind.PHOTO:
        await bot.send_photo(chat_id, announcement.media_file_id or "", caption=text)
    elif announcement.media_kind == MediaKind.DOCUMENT:
        await bot.send_document(chat_id, announcement.media_file_id or "", caption=text)
    else:
        await bot.send_message(chat_id, text or "")

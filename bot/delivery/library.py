"""The library on the delivery engine: a member's suggestion to each staff member (its file
follows as the message itself, with ✅ Approve / ✖ Reject), the decision to the member, and the
weekly digest (one message, a button per resource); each rendered at send time in the reader's
language. The scheduler job writes the digests due (`bot.services.library.digest`)."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from aiogram.methods import SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.delivery.outbox import Claimed
from bot.logs import log_event
from bot.services import library
from bot.views.library import category_label, title_in
from storage.models import Member, Organization, Resource, ResourceStatus
from storage.types import utcnow

log = logging.getLogger(__name__)
CAPTION_MAX = 1024


class LibraryDelivery:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], i18n: I18n, organization_id: int) -> None:
        self.sessions = sessions
        self.i18n = i18n
        self.organization_id = organization_id
        self.on_enqueued: list[Any] = []
        self.clock = utcnow  # the digest job's "now" (tests move it to a Monday morning)

    async def _resource(self, row: Claimed) -> tuple[Resource | None, Organization | None, Member | None]:
        async with self.sessions() as session:
            resource = await session.get(Resource, int(row.payload.get("resource_id") or 0))
            if resource is None:
                return None, None, None
            organization = await session.get(Organization, resource.organization_id)
            author = await session.get(Member, resource.created_by) if resource.created_by else None
            return resource, organization, author

    async def render_suggestion(self, row: Claimed) -> TelegramMethod[Any] | None:
        from handlers.library.callbacks import Decision  # the buttons' data lives with their handlers

        resource, organization, author = await self._resource(row)
        if resource is None or resource.status != ResourceStatus.SUGGESTED:
            return None  # decided (or gone) before this copy went out
        with self.i18n.context(), self.i18n.use_locale(row.language):
            _ = self.i18n.gettext
            lines = [
                _("💡 <b>A member suggests a resource</b> for {organization}").format(
                    organization=escape(organization.name if organization else "")
                ),
                "",
                f"<b>{escape(resource.title)}</b>",
            ]
            if author is not None and author.display_name:
                lines.append(_("From: {name}").format(name=escape(author.display_name)))
            if resource.url:
                lines.append(f"🔗 {escape(resource.url)}")
            if resource.note:
                lines += ["", escape(resource.note[:500])]
            markup = InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        InlineKeyboardButton(
                            text=_("✅ Approve"),
                            callback_data=Decision(action="approve", id=resource.id or 0).pack(),
                        ),
                        InlineKeyboardButton(
                            text=_("✖ Reject"),
                            callback_data=Decision(action="reject", id=resource.id or 0).pack(),
                        ),
                    ]
                ]
            )
        text = "\n".join(lines)
        if resource.file_id and resource.file_kind == "photo":
            return SendPhoto(
                chat_id=row.chat_id, photo=resource.file_id, caption=text[:CAPTION_MAX], reply_markup=markup
            )
        if resource.file_id:
            return SendDocument(
                chat_id=row.chat_id,
                document=resource.file_id,
                caption=text[:CAPTION_MAX],
                reply_markup=markup,
            )
        return SendMessage(chat_id=row.chat_id, text=text, reply_markup=markup)

    async def render_decision(self, row: Claimed) -> TelegramMethod[Any] | None:
        resource, _organization, _author = await self._resource(row)
        if resource is None:
            return None
        with self.i18n.context(), self.i18n.use_locale(row.language):
            _ = self.i18n.gettext
            title = escape(resource.title)
            if row.payload.get("approved"):
                text = _(
                    "✅ Your suggestion “{title}” was approved and is now in the library "
                    "(/resources). Thank you!"
                ).format(title=title)
            else:
                text = _(
                    "Your suggestion “{title}” was not added to the library. The team's reason: {reason}"
                ).format(title=title, reason=escape(resource.reason or ""))
        return SendMessage(chat_id=row.chat_id, text=text)

    async def render_digest(self, row: Claimed) -> TelegramMethod[Any] | None:
        from handlers.library.callbacks import Library

        ids = [int(ident) for ident in row.payload.get("resource_ids") or []]
        async with self.sessions() as session:
            found = await session.exec(
                select(Resource).where(col(Resource.id).in_(ids), Resource.status == ResourceStatus.PUBLISHED)
            )
            resources = sorted(found.all(), key=lambda item: ids.index(item.id or 0))
        if not resources:
            return None
        with self.i18n.context(), self.i18n.use_locale(row.language):
            _ = self.i18n.gettext
            lines = [_("📬 <b>New in the library this week</b>"), ""]
            buttons = []
            for number, resource in enumerate(resources, start=1):
                title = title_in(resource, row.language)
                lines.append(f"{number}. <b>{escape(title)}</b> — {category_label(resource.category)}")
                buttons.append(
                    InlineKeyboardButton(
                        text=str(number), callback_data=Library(action="open", id=resource.id or 0).pack()
                    )
                )
            lines += [
                "",
                _("Open one with its number. /resources has everything; /profile switches the digest off."),
            ]
        rows = [buttons[index : index + 5] for index in range(0, len(buttons), 5)]
        return SendMessage(
            chat_id=row.chat_id,
            text="\n".join(lines),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
        )

    async def write_digests(self) -> None:
        """Scheduler job: the digests due now (idempotent: a row per member and week)."""
        async with self.sessions() as session:
            organization = await session.get(Organization, self.organization_id)
            if organization is None:
                return
            written = await library.write_digests(session, organization, self.clock())
            await session.commit()
        if written:
            log_event(log, "library_digests", count=written)
            for callback in self.on_enqueued:
                callback()

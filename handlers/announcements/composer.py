"""The announcement on the composer kit: what it declares (its draft in the database, the one
text to translate or edit, Send as its publish, Discard), and the loading every handler shares."""

from __future__ import annotations

from typing import Final

from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot.context import Context
from bot.i18n import _, language_name, ngettext
from bot.policy import Action
from bot.services.announcements import (
    EDITABLE,
    AnnouncementError,
    delete_draft,
    enqueue_announcement,
    set_text,
    set_translation,
    store_status_message,
)
from handlers.announcements.callbacks import AnnounceAction
from handlers.announcements.states import AnnounceStates
from handlers.announcements.views import send_composer
from handlers.composer import CAPTION_MAX, TEXT_MAX, Codes, Composer, Item, Published, TextRule, Turn
from storage.models import Announcement, AnnouncementStatus

DRAFT: Final = (AnnouncementStatus.DRAFT,)
SCHEDULED: Final = (AnnouncementStatus.SCHEDULED,)
CANCELLABLE: Final = (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED, AnnouncementStatus.SENDING)
# What each button (by action code) or typed step accepts: the card's buttons act on drafts only
# (a scheduled one is changed from /announcements); text and translations change until it goes out.
STATUSES_FOR: Final = {
    "translation": EDITABLE,
    "edit": EDITABLE,
    "ef": EDITABLE,
    "edit_text": SCHEDULED,
    "cancel_scheduled": CANCELLABLE,
}


def gone_text() -> str:
    return _("This announcement can no longer be changed.")


def text_first() -> str:
    return _("Please send the announcement text first, or /cancel to stop.")


def caption_too_long(limit: int, length: int) -> str:
    return _("A caption can have at most {limit} characters.").format(limit=limit)


def text_rule(media: bool, *, optional: bool = False) -> TextRule:
    """An announcement's text (or a version of it) goes out as one message, or as a media caption
    (`media`): its limit is Telegram's for that, and the organizer's formatting is kept."""
    if media:
        return TextRule(CAPTION_MAX, True, optional, caption_too_long, text_first)
    return TextRule(TEXT_MAX, True, optional, command=text_first)


async def load_announcement(
    ctx: Context, ident: int, statuses: tuple[AnnouncementStatus, ...] = DRAFT
) -> Announcement | None:
    """The announcement named by a button or a dialog's data, if the actor may announce in its
    organization and it is in one of `statuses`."""
    announcement = await ctx.load(Action.ANNOUNCE, Announcement, ident)
    return announcement if announcement is not None and announcement.status in statuses else None


async def step_announcement(
    message: Message, ctx: Context, state: FSMContext, statuses: tuple[AnnouncementStatus, ...] = DRAFT
) -> Announcement | None:
    """For a typed step of the dialog: the announcement it changes, or None after ending the
    dialog and saying why."""
    ident = (await state.get_data()).get("announcement_id")
    announcement = await load_announcement(ctx, int(ident or 0), statuses)
    if announcement is None:
        await state.clear()
        await message.answer(gone_text())
    return announcement


class AnnouncementComposer(Composer[Announcement]):
    name = "announcement"
    action = Action.ANNOUNCE
    button_class = AnnounceAction
    codes = Codes(language="translate_to", publish="send_confirm")

    async def load(self, turn: Turn, ident: int, use: str) -> Announcement | None:
        return await load_announcement(turn.ctx, ident, STATUSES_FOR.get(use, DRAFT))

    def gone(self) -> str:
        return gone_text()

    async def show_preview(self, turn: Turn, draft: Announcement) -> None:
        await send_composer(turn.bot, turn.chat_id, turn.ctx.session, draft)

    def items(self, draft: Announcement, language: str) -> list[Item]:
        prompt = _("Send the text in {language}. Members who use {language} get this version.")
        return [
            Item("text", prompt.format(language=language_name(language)), text_rule(bool(draft.media_kind)))
        ]

    def originals(self, draft: Announcement) -> dict[str, str | None]:
        return {"text": draft.text}

    async def save_translation(
        self, turn: Turn, draft: Announcement, language: str, answers: dict[str, str | None]
    ) -> str | None:
        await set_translation(turn.ctx.session, draft, language, answers["text"] or "")
        return None

    def fields(self, draft: Announcement) -> list[Item]:
        prompt = _("Send the new text. Translations stay as they are.")
        return [Item("text", prompt, text_rule(bool(draft.media_kind)), label=_("✏️ Edit text"))]

    async def save_field(self, turn: Turn, draft: Announcement, key: str, value: str | None) -> str | None:
        await set_text(turn.ctx.session, draft, value or "")
        return None

    async def field_saved(self, turn: Turn, draft: Announcement, key: str) -> None:
        if draft.status == AnnouncementStatus.SCHEDULED:
            await turn.say(_("✅ The text of announcement #{id} is updated.").format(id=draft.id))
        else:
            await self.show_preview(turn, draft)

    async def publish(self, turn: Turn, draft: Announcement) -> Published:
        """Send now (or at each member's local time): the claim is `enqueue_announcement`'s."""
        session = turn.ctx.session
        try:
            count = await enqueue_announcement(session, draft, turn.ctx.organization, tell_sender=True)
        except AnnouncementError as error:
            await session.rollback()
            if error.reason != "empty_audience":
                return Published.TAKEN
            turn.toast(_("Nobody in this audience can receive it. Change the audience."), alert=True)
            return Published.TOLD
        status = await turn.say(
            ngettext(
                "📣 Announcement #{id} is on its way to {count} member.",
                "📣 Announcement #{id} is on its way to {count} members.",
                count,
            ).format(id=draft.id, count=count)
        )
        # The status message is this one from now on (the progress job waited for it).
        await store_status_message(session, draft.id or 0, status.message_id)
        await session.commit()
        if turn.delivery is not None:
            turn.delivery.wake()
        return Published.SENT

    async def discard(self, turn: Turn, draft: Announcement) -> None:
        await delete_draft(turn.ctx.session, draft)
        await turn.state.clear()

    async def text_was_cut(self, turn: Turn, ident: int) -> None:
        """The draft made of the first part goes; the text is asked for again."""
        draft = await load_announcement(turn.ctx, ident)
        if draft is not None:
            await delete_draft(turn.ctx.session, draft)
        await turn.state.set_state(AnnounceStates.text)
        await turn.state.update_data(announcement_id=None)


COMPOSER: Final = AnnouncementComposer(AnnounceStates.translation, AnnounceStates.edit_text)

"""The event on the composer kit: its draft is the event row (never a training session's), the
texts to translate (title, then description or Skip, for every later date of a series too), the
fields ✏️ Edit offers on the /myevents card (see `edit`), Publish (the draft, or every draft of
its series announced once, claimed by one tap) and Discard; and the composer's own buttons in the
edit step: which dates of a series, and confirming a typed start."""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from aiogram import Router
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from bot.i18n import _, language_name, ngettext
from bot.policy import Action
from bot.services import events as service
from bot.services.audience import is_wide
from bot.services.events.lifecycle import set_open_to_all
from bot.services.events.rules import EventError
from bot.services.events.series import discard_draft, publish_draft, update_series_from
from bot.services.origins import shows_origins
from handlers.composer import Codes, Composer, Item, Turn, draft_button, kit_button, preview_keyboard
from handlers.events.callbacks import EventAdmin
from handlers.events.common import DRAFT, OPEN, ComposedEvent, managed
from handlers.events.edit import (
    ask_value,
    change_new_start,
    confirm_new_start,
    fields,
    pick_scope,
    report_edit,
    save_value,
)
from handlers.events.states import EventStates
from handlers.events.texts import DESCRIPTION, TITLE, error_text
from handlers.events.views import manage_keyboard, preview_card
from storage.models import Event, EventStatus
from storage.types import utcnow

PREVIEW_BUTTONS: Final = frozenset({"translate", "tr_lang", "publish", "discard", "open_all"})  # drafts only


# Why a draft cannot be published (else `error_text`).
PUBLISH_REFUSALS: Final = {
    "past_start": __("The start time has passed. Change it with ✏️ Edit in /myevents, then publish."),
    "deadline_in_past": __(
        "The deadline for answers has passed. Discard this draft and create the event again."
    ),
}


class EventComposer(Composer[ComposedEvent]):
    name = "event"
    action = Action.MANAGE_EVENTS
    button_class = EventAdmin
    codes = Codes()

    async def load(self, turn: Turn, ident: int, use: str) -> ComposedEvent | None:
        """The preview's buttons act on a draft; edits and translations on a draft or a published
        event."""
        event = await turn.ctx.load(Action.MANAGE_EVENTS, Event, ident)
        if event is None or not managed(event, DRAFT if use in PREVIEW_BUTTONS else OPEN):
            return None
        return ComposedEvent(event, turn.ctx.zone)

    def ident(self, draft: ComposedEvent) -> int:
        return draft.event.id or 0

    def gone(self) -> str:
        return _("This event can no longer be changed.")

    async def show_preview(self, turn: Turn, draft: ComposedEvent, version: str | None = None) -> None:
        """The card as members see it (in `version`, by default the organizer's), with the preview's
        buttons while it is a draft."""
        await turn.say(*await self.preview(turn, draft, version))

    async def preview(
        self, turn: Turn, draft: ComposedEvent, version: str | None = None
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        """The preview card and its buttons: Publish, ✏️ Edit, 🌍 Open to every organization (when
        the deployment has several and the event is announced to its own), translations, Discard."""
        ctx, event = turn.ctx, draft.event
        keyboard = None
        if event.status == EventStatus.DRAFT:
            keyboard = preview_keyboard(self, self.ident(draft), edit_label=_("✏️ Edit"))
            if await shows_origins(ctx.session) and not is_wide(event.audience):
                label = (
                    _("🌍 Open to every organization: yes")
                    if event.open_to_all
                    else _("🌍 Open to every organization: no")
                )
                toggle = kit_button(
                    self, label, "open_all", self.ident(draft), "no" if event.open_to_all else "yes"
                )
                rows = keyboard.inline_keyboard
                keyboard = InlineKeyboardMarkup(inline_keyboard=[*rows[:2], [toggle], *rows[2:]])
        with I18n.get_current().use_locale(version or ctx.locale):
            card = await preview_card(
                ctx.session, event, ctx.organization, version or ctx.locale, draft.zone, version=version
            )
        return card, keyboard

    # -- translations ---------------------------------------------------------------------------

    def source_language(self, draft: ComposedEvent) -> str:
        return draft.event.language

    def translated(self, draft: ComposedEvent) -> tuple[str, ...]:
        return tuple(draft.event.translations)

    def items(self, draft: ComposedEvent, language: str) -> list[Item]:
        name = language_name(language)
        title = _("Send the title in {language} (at most {limit} characters).")
        description = _("Now the description in {language}, or press Skip to show the original one.")
        return [
            Item("title", title.format(language=name, limit=service.TITLE_MAX), TITLE),
            Item("description", description.format(language=name), replace(DESCRIPTION, optional=True)),
        ]

    def originals(self, draft: ComposedEvent) -> dict[str, str | None]:
        return {"title": draft.event.title, "description": draft.event.description or None}

    async def save_translation(
        self, turn: Turn, draft: ComposedEvent, language: str, answers: dict[str, str | None]
    ) -> str | None:
        """On the event and every later date of its series."""
        event = draft.event
        try:
            entry = {"title": service.validate_title(answers.get("title") or "")}
            if description := service.validate_description(answers.get("description")):
                entry["description"] = description
            translations = {**event.translations, language: entry}
            await update_series_from(
                turn.ctx.session, event, turn.ctx.organization, utcnow(), translations=translations
            )
        except EventError as error:
            return error_text(error)
        return None

    async def translation_saved(self, turn: Turn, draft: ComposedEvent, language: str) -> None:
        """The card in that language, as its readers will see it."""
        saved = _("✅ Translation saved: {language}. Members who use it will see:")
        await turn.say(saved.format(language=language_name(language)))
        await self.show_preview(turn, draft, version=language)

    # -- ✏️ Edit (`edit`) --------------------------------------------------------------------------

    def fields(self, draft: ComposedEvent) -> list[Item]:
        return fields(draft)

    async def pick_field(self, turn: Turn, draft: ComposedEvent, key: str) -> bool:
        return await pick_scope(turn, draft.event, key)

    async def save_field(self, turn: Turn, draft: ComposedEvent, key: str, value: str | None) -> str | None:
        return await save_value(turn, draft, key, value)

    async def field_saved(self, turn: Turn, draft: ComposedEvent, key: str) -> None:
        await report_edit(turn, draft.event)

    # -- publish and discard --------------------------------------------------------------------

    async def publish(self, turn: Turn, draft: ComposedEvent) -> bool:
        """The draft, or every draft of its series (announced once); False when another tap
        published it first."""
        event, session = draft.event, turn.ctx.session
        try:
            told = await publish_draft(session, event, turn.ctx.organization, utcnow())
        except EventError as error:
            await session.rollback()
            if error.reason == "not_editable":
                return False
            refusal = PUBLISH_REFUSALS.get(error.reason)
            turn.toast(error_text(error) if refusal is None else str(refusal), alert=True)
            return True
        await session.commit()
        if turn.message is not None:
            # The preview's buttons are done; the /myevents card gets the buttons of a published event.
            manage = turn.data.get("value") == "manage"
            await turn.message.edit_reply_markup(reply_markup=manage_keyboard(event) if manage else None)
        published = ngettext(
            "📤 Published: {count} member will be told.", "📤 Published: {count} members will be told.", told
        )
        await turn.say(
            published.format(count=told)
            + "\n"
            + _("/myevents shows the answers, the check-in code and more.")
        )
        if turn.delivery is not None:
            turn.delivery.wake()
        return True

    async def discard(self, turn: Turn, draft: ComposedEvent) -> None:
        """Drafts simply go (a series' other drafts too): members never saw them."""
        await discard_draft(turn.ctx.session, draft.event)
        await turn.state.clear()


COMPOSER: Final = EventComposer(EventStates.translation_title, EventStates.edit_value)

# The composer's own buttons in its edit step (the kit loads their event like its own buttons').
router: Final[Router] = Router(name=__name__)


@draft_button(COMPOSER, router, "open_all")
async def open_to_all_chosen(turn: Turn, draft: ComposedEvent, callback_data: EventAdmin) -> None:
    """🌍 on the preview: the draft opened to the members of every organization, or kept to its
    own; the preview shows the choice."""
    try:
        await set_open_to_all(turn.ctx.session, draft.event, callback_data.value == "yes")
    except EventError:
        turn.stale()
        return
    await turn.replace(*await COMPOSER.preview(turn, draft))


@draft_button(COMPOSER, router, "scope_one", "scope_all")
async def scope_chosen(turn: Turn, draft: ComposedEvent, callback_data: EventAdmin) -> None:
    every = callback_data.action == "scope_all"
    if not await ask_value(COMPOSER, turn, draft, callback_data.value, every):
        turn.stale()


@draft_button(COMPOSER, router, "edit_start_ok")
async def new_start_confirmed(turn: Turn, draft: ComposedEvent, callback_data: EventAdmin) -> None:
    if not await confirm_new_start(COMPOSER, turn, draft.event, callback_data.value):
        turn.stale()


@draft_button(COMPOSER, router, "edit_start_change")
async def new_start_changed(turn: Turn, draft: ComposedEvent, callback_data: EventAdmin) -> None:
    if not await change_new_start(COMPOSER, turn, draft):
        turn.stale()

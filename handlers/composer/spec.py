"""What a capability declares to use the kit: a `Composer` subclass (its draft, its translation
items, its editable fields and a few callbacks), and the `Turn` the kit hands to each callback."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _, language_name
from bot.policy import Action
from handlers.composer.echo import echo_choice
from handlers.composer.text import TextRule
from handlers.fallback import stale_button, toast

DraftT = TypeVar("DraftT")
STEP_KEY = "composer"  # FSM data of a translation or an edit in progress


@dataclass(frozen=True)
class Codes:
    """The `action` codes of the kit's buttons in the capability's callback data. A capability
    whose buttons already sit in chats under other codes names those here."""

    translate: str = "translate"  # the language list
    language: str = "tr_lang"  # a language chosen (value: its code)
    skip: str = "tr_skip"  # skip an optional item (value: the item's key)
    publish: str = "publish"
    discard: str = "discard"
    edit: str = "edit"  # the list of editable fields
    field: str = "ef"  # a field chosen (value: its key)


class Published(Enum):
    """What `Composer.publish` did with the pressed Publish (or "✅ Yes, send it")."""

    SENT = "sent"  # published: the kit closes the pressed message (`Composer.after_publish`)
    TOLD = "told"  # not published, the organizer was told why: the buttons stay for another try
    TAKEN = "taken"  # another tap published it first: "This button is no longer active."


@dataclass(frozen=True)
class Item:
    """One text asked for, one per message: in a translation an item of the original (title,
    description, a question, an option), or an editable field. `prompt` is the question shown
    (the capability's own wording); `rule` how the answer is checked (`rule.optional`: Skip)."""

    key: str
    prompt: str
    rule: TextRule
    label: str = ""  # the field's button in the ✏️ Edit list
    skip_label: str = ""  # the Skip button's text, when "Skip" is not the word (“No limit”)


@dataclass
class Turn:
    """One update as the kit's callbacks see it: the context, the dialog's state and the chat."""

    ctx: Context
    state: FSMContext
    bot: Bot
    chat_id: int
    message: Message | None = None  # the pressed button's message, or the typed one
    answer: CallbackAnswer | None = None  # None for a typed message
    delivery: DeliveryEngine | None = None
    data: dict[str, Any] = field(default_factory=dict)
    pressed: str = ""  # the pressed button's callback data ("" for a typed message)

    async def say(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        return await self.bot.send_message(self.chat_id, text, reply_markup=markup)

    def toast(self, text: str, alert: bool = False) -> None:
        if self.answer is not None:
            toast(self.answer, text, alert)

    def stale(self) -> None:
        if self.answer is not None:
            stale_button(self.answer)

    async def replace(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """The pressed button's message becomes `text` (a new message if it cannot be edited)."""
        if self.message is not None and self.message.text is not None:
            await self.message.edit_text(text, reply_markup=markup)
        else:
            await self.say(text, markup)


class Composer(Generic[DraftT]):
    """A capability's declaration. Override the methods marked "must"; the others have defaults.

    `load` returns the draft a button or typed step names (from the database through
    `ctx.load(action, Model, ident)` plus a status check, or from the FSM data), or None when it
    is gone, forged or no longer a draft: the kit then answers "This button is no longer active."
    (buttons) or `gone()` (typed steps).
    """

    name: ClassVar[str]  # a short key, unique among composers ("announcement")
    action: ClassVar[Action]  # the right every kit handler of this capability declares
    button_class: ClassVar[type[CallbackData]]  # fields: action, value (and id for stored drafts)
    codes: ClassVar[Codes] = Codes()

    def __init__(
        self, translating: State, editing: State | None = None, resting: State | None = None
    ) -> None:
        """The capability's FSM states (given here: a `State` in a class body must belong to a
        `StatesGroup`): while translation items are typed, while a field's new value is typed, and
        the state after either (None: no dialog)."""
        self.translating = translating
        self.editing = editing
        self.resting = resting

    # -- the draft (must) ---------------------------------------------------------------------

    async def load(self, turn: Turn, ident: int, use: str) -> DraftT | None:
        """`use` names what the draft is loaded for: the pressed button's action code, or a typed
        step ("translation", "edit"), so a capability can accept, say, a scheduled announcement's
        text edit but not its Discard."""
        raise NotImplementedError

    def ident(self, draft: DraftT) -> int:
        """The draft's id in callback data (0 for a draft kept in the FSM data)."""
        return int(getattr(draft, "id", 0) or 0)

    def gone(self) -> str:
        """A typed step whose draft is gone."""
        return _("This button is no longer active.")

    async def show_preview(self, turn: Turn, draft: DraftT) -> None:
        raise NotImplementedError

    # -- translations -------------------------------------------------------------------------

    def source_language(self, draft: DraftT) -> str:
        return str(getattr(draft, "language", ""))

    def translated(self, draft: DraftT) -> Collection[str]:
        return tuple(getattr(draft, "translations", {}) or ())

    def items(self, draft: DraftT, language: str) -> list[Item]:
        """The texts to translate into `language`, in order (must, to offer translations)."""
        raise NotImplementedError

    def originals(self, draft: DraftT) -> dict[str, str | None]:
        """The original text of each item, by key (what "💡 Suggest translations" sends to the
        translation server); an item left out cannot be suggested."""
        return {}

    async def suggestions_saved(self, turn: Turn, draft: DraftT) -> None:
        """After machine suggestions were saved (the kit has listed them): back to the preview."""
        await self.show_preview(turn, draft)

    def translation_answer(
        self, draft: DraftT, language: str, answers: dict[str, str | None], item: Item, text: str
    ) -> dict[str, str | None] | str:
        """What a typed item of a translation answers, once its rule took the text: the item itself
        by default. A capability may refuse it with a text (the step waits for a corrected one:
        an option repeated, say), or let one message answer the items after it too (their keys in
        order: several options typed one per line)."""
        return {item.key: text}

    async def save_translation(
        self, turn: Turn, draft: DraftT, language: str, answers: dict[str, str | None]
    ) -> str | None:
        """Keep the answers (None: a skipped optional item); an error text to show, or None."""
        raise NotImplementedError

    async def translation_saved(self, turn: Turn, draft: DraftT, language: str) -> None:
        await turn.say(_("✅ Translation saved: {language}.").format(language=language_name(language)))
        await self.show_preview(turn, draft)

    # -- ✏️ Edit (issue 16 fills the fields of each capability) ---------------------------------

    def fields(self, draft: DraftT) -> list[Item]:
        return []

    async def pick_field(self, turn: Turn, draft: DraftT, key: str) -> bool:
        """A field was chosen in the ✏️ Edit list: True to ask for its new value now. A capability
        that first asks something else (which dates of a series) returns False and calls
        `ask_field` itself once it knows."""
        return True

    async def save_field(self, turn: Turn, draft: DraftT, key: str, value: str | None) -> str | None:
        """Keep a field's new value; an error text to show, or None. An empty text: the step goes
        on and the capability has answered itself (a typed start time it asks to confirm)."""
        raise NotImplementedError

    async def field_saved(self, turn: Turn, draft: DraftT, key: str) -> None:
        await self.show_preview(turn, draft)

    # -- publish and discard ------------------------------------------------------------------

    async def publish(self, turn: Turn, draft: DraftT) -> Published:
        """Claim the draft and publish it, in one transaction: the claim is a conditional update
        (draft → published) that only one tap can win. TAKEN when another tap won (the kit answers
        "no longer active"); refusals of its own (an empty audience...) are the capability's: TOLD."""
        raise NotImplementedError

    async def after_publish(self, turn: Turn, draft: DraftT) -> None:
        """The pressed message (the preview, or "Send it now?") once the draft is SENT: its buttons
        go and the choice is written under it, so the chat says what was decided and nothing is
        left to press again. A capability may show its published card there instead."""
        await echo_choice(turn)

    async def discard(self, turn: Turn, draft: DraftT) -> None:
        raise NotImplementedError

    async def text_was_cut(self, turn: Turn, ident: int) -> None:
        """Undo what the first part of a text Telegram cut did (the organizer is told already)."""

    # -- buttons ------------------------------------------------------------------------------

    def button(self, action: str, ident: int = 0, value: str = "") -> CallbackData:
        """The capability's callback data for a kit button (`id` only if its class has one)."""
        if "id" in self.button_class.model_fields:
            return self.button_class(action=action, id=ident, value=value)  # type: ignore[call-arg]
        return self.button_class(action=action, value=value)  # type: ignore[call-arg]

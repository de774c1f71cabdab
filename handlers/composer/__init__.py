"""The composer kit: the building blocks the staff dialogs share — one validation of typed texts,
the translation flow, the audience step, the preview card's buttons (Publish, ✏️ Edit, Add a
translation, Discard), a publish that claims the draft once, and the guard against texts that a
Telegram app cut in several messages.

**Plain aiogram FSM, not aiogram-dialog.** aiogram-dialog 2.6 is on PyPI (not installed here). We
stay with plain FSM helpers, as chosen in session 1, because: its windows live in one message that
is re-rendered, while our dialogs leave a readable record in the chat (issue 16's "choices echoed"
wants more of that, not less); its callback data is its own (intent and widget ids), so the
buttons already sitting in organizers' and members' chats (`an:…`, `ea:…`, `sva:…`, `trd:…`)
would stop working; its handlers are registered by the dialog, outside our routers, so the rights
each handler declares (`flags=rights(...)`, enforced by `RightsMiddleware` and checked by
`tests/test_policy_structure.py`) would need a second mechanism; it is a new dependency with its own
intent stack in the FSM storage; and the kit below is a few hundred lines we fully control.

**The API.** A capability subclasses `Composer[Draft]` and declares:

- `name`, `action` (the right every kit handler declares), `button_class` (its own callback data
  with `action` and `value`, and `id` when the draft is stored; prefixes never change),
  `codes` (only if its buttons in chats use other action codes than the kit's defaults); its FSM
  states are given to the constructor: `translating`, `editing` and `resting` (after a step);
- `load(turn, ident, use)`: the draft, through `ctx.load(...)` plus a status check, or from the FSM
  data (None: the kit answers "This button is no longer active." or `gone()`);
- `items(draft, language)`: the texts to translate, one `Item` each (key, prompt, `TextRule`;
  `rule.optional` gives a Skip button), and `save_translation(turn, draft, language, answers)`;
- `fields(draft)` / `save_field(turn, draft, key, value)`: what ✏️ Edit offers (issue 16), and
  optionally `pick_field` (ask something before the value, e.g. which dates of a series);
- `originals(draft)`: each item's original text, by key, for "💡 Suggest translations"
  (`handlers.composer.suggest`: with `TRANSLATE_URL` set, machine drafts of every missing language
  saved through `save_translation`; `suggestions_saved` says what comes next, the preview by default);
- `show_preview(turn, draft)`, `publish(turn, draft)` (claim + publish: `Published.SENT`, `TOLD` for
  a refusal it explained, `TAKEN` if another tap claimed it), `discard(turn, draft)`, and optionally
  `after_publish` (the pressed message once SENT: by default its buttons go, `echo_choice`),
  `translation_answer`, `translation_saved`, `field_saved`, `text_was_cut`.

`composer_router(spec)` returns the router with the kit's handlers for it (language list, language,
Skip, ✏️ Edit, field, Publish, Discard, typed items and values, the cut-text guard), each with
`flags=rights(spec.action)`. Typed steps of the capability's own dialog use `read_text(message,
state, TextRule(limit))` (or `typed` / `check_text`), so "That looks empty" and the limits are the
same everywhere. A dialog question answered with a button is closed with `echo_choice(turn)`: its
buttons go and the choice is written under it ("… ✓", the pressed button's text or a summary such
as the audience's), so the chat reads as a record of what was decided. Example (a minimal stored
draft)::

    class NoticeComposer(Composer[Notice]):
        name, action, button_class = "notice", Action.ANNOUNCE, NoticeButton

        async def load(self, turn, ident, use):
            notice = await turn.ctx.load(Action.ANNOUNCE, Notice, ident)
            return notice if notice is not None and notice.status == "draft" else None

        def items(self, draft, language):
            return [Item("title", _("Send the title in {language}.").format(...), TextRule(200)),
                    Item("body", _("Now the text, or Skip."), TextRule(4096, optional=True))]

        async def save_translation(self, turn, draft, language, answers):
            await notices.set_translation(turn.ctx.session, draft, language, answers)

        async def show_preview(self, turn, draft):
            await turn.say(card(draft), preview_keyboard(self, draft.id))

    routers = [composer_router(NoticeComposer(NoticeStates.translation)), notice.router]

**Concurrency.** `publish` claims with a conditional update (draft → published) in the same
transaction as the publishing, so a second tap finds nothing to claim; once SENT, the pressed
message loses its buttons (`after_publish`), so there is nothing left to tap. The parts of a cut text are
told apart by Telegram's dates; they must be handled one after the other, which aiogram's
`Dispatcher(events_isolation=SimpleEventIsolation())` guarantees per chat (not set today).
"""

from __future__ import annotations

from handlers.composer.acting import organization_line, staff_dialog
from handlers.composer.audience import (
    audience_choice,
    audience_keyboard,
    audience_summary,
    dialog_reach,
    show_picker,
    ticks_keyboard,
    toggled,
)
from handlers.composer.dates import date_error_text
from handlers.composer.echo import echo_choice
from handlers.composer.reach import CODES as REACH_CODES
from handlers.composer.reach import offers_reach, reach_choice, reach_rows
from handlers.composer.router import button_turn, composer_router, draft_button, message_turn
from handlers.composer.spec import Codes, Composer, Item, Published, Turn
from handlers.composer.steps import (
    ask_field,
    discard_button,
    kit_button,
    preview_keyboard,
    publish_and_close,
    publish_button,
    silenced,
    translate_button,
)
from handlers.composer.text import (
    CAPTION_MAX,
    TEXT_MAX,
    TextRefused,
    TextRule,
    check_text,
    is_blank,
    read_text,
    remember_part,
    typed,
)

__all__ = [
    "CAPTION_MAX",
    "REACH_CODES",
    "TEXT_MAX",
    "Codes",
    "Composer",
    "Item",
    "Published",
    "TextRefused",
    "TextRule",
    "Turn",
    "ask_field",
    "audience_choice",
    "audience_keyboard",
    "audience_summary",
    "button_turn",
    "check_text",
    "composer_router",
    "date_error_text",
    "dialog_reach",
    "discard_button",
    "draft_button",
    "echo_choice",
    "is_blank",
    "kit_button",
    "message_turn",
    "offers_reach",
    "organization_line",
    "preview_keyboard",
    "publish_and_close",
    "publish_button",
    "reach_choice",
    "reach_rows",
    "read_text",
    "remember_part",
    "show_picker",
    "silenced",
    "staff_dialog",
    "ticks_keyboard",
    "toggled",
    "translate_button",
    "typed",
]

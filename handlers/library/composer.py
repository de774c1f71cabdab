"""/newresource on the composer kit: the draft is a `Resource` row (status draft) of the
organization the staff member acts for, loaded for every button and typed step through `ctx.load`
(so a forged id of another organization's draft finds nothing); title and summary to translate;
✏️ Edit of every text (the category and languages with buttons); Publish claims the draft once;
Discard deletes it. ✏️ Edit and translations also take a published resource (its staff card's
buttons, `handlers.library.edit`): its changes are audited, and the card comes back after each."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, language_name
from bot.policy import Action
from bot.services import library
from bot.services.library.rules import URL_MAX, checked_category, checked_text, checked_url, parse_tags
from bot.views.library import CATEGORY_LABELS, card_messages, refusal
from handlers.composer import Composer, Item, TextRule, Turn, echo_choice, preview_keyboard
from handlers.library.callbacks import ResourceDraft
from handlers.library.card import send_card
from handlers.library.links import share_link
from handlers.library.states import NewResource
from storage.models import Resource, ResourceKind, ResourceScope, ResourceStatus

# The texts ✏️ Edit offers: key → (limit, one line, optional).
TEXTS: Final = {
    "title": (library.TITLE_MAX, True, False),
    "summary": (library.SUMMARY_MAX, False, False),
    "body": (library.BODY_MAX, False, True),
    "url": (URL_MAX, True, True),
    "tags": (300, True, True),
    "problem": (library.STORY_MAX, False, False),
    "what_we_did": (library.STORY_MAX, False, False),
    "result": (library.STORY_MAX, False, False),
    "contact": (library.CONTACT_MAX, True, True),
}
PICKED: Final = ("category", "languages")  # chosen with buttons, not typed
STORY: Final = ("problem", "what_we_did", "result", "contact")
# What ✏️ Edit, translations and the staff card's buttons may do to a published resource too.
AFTER_PUBLISHING: Final = frozenset(
    {"edit", "ef", "translate", "tr_lang", "suggest", "sg_ok", "translation"}
    | {"ecat", "elang", "elangs", "withdraw", "wdyes"}  # handlers.library.edit
)


def field_label(key: str) -> str:
    labels = {
        "title": _("✏️ Title"),
        "summary": _("✏️ Summary"),
        "body": _("✏️ Text"),
        "url": _("✏️ Link"),
        "tags": _("✏️ Tags"),
        "problem": _("✏️ The problem"),
        "what_we_did": _("✏️ What we did"),
        "result": _("✏️ The result"),
        "contact": _("✏️ Contact"),
        "category": _("✏️ Category"),
        "languages": _("✏️ Languages"),
    }
    return labels[key]


def field_prompt(key: str) -> str:
    limit = TEXTS[key][0]
    prompts = {
        "title": _("Send the title (at most {limit} characters)."),
        "summary": _("Now a short summary: what is it, and who is it for? (at most {limit} characters)"),
        "body": _("Send the text (at most {limit} characters)."),
        "url": _("Send the link (https://…)."),
        "tags": _("Type a few tags separated by commas, e.g. visas, students."),
        "problem": _("💡 What was the problem? (at most {limit} characters)"),
        "what_we_did": _("What did your organization do? (at most {limit} characters)"),
        "result": _("What was the result? (at most {limit} characters)"),
        "contact": _("Who can others contact to learn more? A name, an e-mail or a @username."),
    }
    return prompts[key].format(limit=limit)


def category_keyboard(ident: int, action: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for key, label in CATEGORY_LABELS.items():
        builder.button(text=str(label), callback_data=ResourceDraft(action=action, id=ident, value=key))
    builder.adjust(2)
    return builder.as_markup()


def languages_keyboard(draft: Resource, tick: str, done: str) -> InlineKeyboardMarkup:
    """The shipped languages, ✅ on those chosen, and Done."""
    ident = draft.id or 0
    builder = InlineKeyboardBuilder()
    for code in SHIPPED_LANGUAGES:
        mark = "✅" if code in draft.languages else "▫️"
        builder.button(
            text=f"{mark} {language_name(code)}",
            callback_data=ResourceDraft(action=tick, id=ident, value=code),
        )
    builder.button(text=_("Done"), callback_data=ResourceDraft(action=done, id=ident))
    builder.adjust(*[2] * (len(SHIPPED_LANGUAGES) // 2), 1)
    return builder.as_markup()


async def chosen_category(turn: Turn, value: str) -> str | None:
    """A category button's value once checked, its question closed with the choice; None (the
    button answered as stale) for a forged one."""
    try:
        category = checked_category(value)
    except library.LibraryError:
        turn.stale()
        return None
    await echo_choice(turn)
    return category


def picker(key: str, draft: Resource) -> tuple[str, InlineKeyboardMarkup]:
    """✏️ Category or ✏️ Languages: the question and its buttons (`handlers.library.edit`)."""
    if key == "category":
        return _("Which category is it?"), category_keyboard(draft.id or 0, "ecat")
    prompt = _("In which languages is it available? Tap to choose, then press Done.")
    return prompt, languages_keyboard(draft, "elang", "elangs")


async def show_staff_card(turn: Turn, resource: Resource) -> None:
    """A published resource's card with the staff's buttons, as it now reads (after an edit)."""
    if turn.ctx.member is not None:
        await send_card(
            turn.bot,
            turn.chat_id,
            turn.ctx.session,
            resource,
            turn.ctx.member,
            turn.ctx.locale,
            staff=True,
            viewed=False,
        )


def checked_value(key: str, value: str) -> object:
    """A field's typed value as stored; `LibraryError` says why not."""
    limit, one_line, _optional = TEXTS[key]
    if key == "url":
        return checked_url(value)
    if key == "tags":
        return parse_tags(value)
    return checked_text(value, limit, multiline=not one_line)


async def load_draft(turn: Turn, ident: int) -> Resource | None:
    resource = await turn.ctx.load(Action.MANAGE_RESOURCES, Resource, ident)
    return resource if resource is not None and resource.status == ResourceStatus.DRAFT else None


async def load_editable(turn: Turn, ident: int) -> Resource | None:
    """A draft or a published resource of an organization the actor is staff of."""
    resource = await turn.ctx.load(Action.MANAGE_RESOURCES, Resource, ident)
    editable = (ResourceStatus.DRAFT, ResourceStatus.PUBLISHED)
    return resource if resource is not None and resource.status in editable else None


def actor_id(turn: Turn) -> int | None:
    return turn.ctx.actor.telegram_id if turn.ctx.actor else None


async def show_preview(turn: Turn, draft: Resource, spec: ResourceComposer) -> None:
    await turn.state.set_state(NewResource.preview)
    if draft.file_id and draft.file_kind == "photo":
        await turn.bot.send_photo(turn.chat_id, draft.file_id)
    elif draft.file_id:
        await turn.bot.send_document(turn.chat_id, draft.file_id)
    head = _("👁 <b>Preview</b>: this is what members will see.") + "\n\n"
    tail = ""
    if draft.translations:
        tail = "\n" + _("Translations: {languages}").format(
            languages=escape(", ".join(sorted(draft.translations)))
        )
    *parts, last = card_messages(draft, draft.language, turn.ctx.organization.name, None, tail, head)
    for text in parts:
        await turn.say(text)
    markup: InlineKeyboardMarkup = preview_keyboard(spec, draft.id or 0, edit_label=_("✏️ Edit"))
    await turn.say(last, markup)


class ResourceComposer(Composer[Resource]):
    name = "resource"
    action = Action.MANAGE_RESOURCES
    button_class = ResourceDraft

    async def load(self, turn: Turn, ident: int, use: str) -> Resource | None:
        """Publish, Discard and the dialog's own steps act on a draft; ✏️ Edit, translations and
        the edit buttons (`AFTER_PUBLISHING`) on a published resource too."""
        if use in AFTER_PUBLISHING:
            return await load_editable(turn, ident)
        return await load_draft(turn, ident)

    def gone(self) -> str:
        return _("This draft is no longer there. Send /newresource to start again.")

    async def show_preview(self, turn: Turn, draft: Resource) -> None:
        """The preview of a draft; a published resource's staff card (after an edit)."""
        if draft.status == ResourceStatus.PUBLISHED:
            await turn.state.clear()
            await show_staff_card(turn, draft)
            return
        await show_preview(turn, draft, self)

    def items(self, draft: Resource, language: str) -> list[Item]:
        return [
            Item("title", _("Send the title in this language."), TextRule(library.TITLE_MAX)),
            Item(
                "summary",
                _("Now the summary in this language, or Skip."),
                TextRule(library.SUMMARY_MAX, optional=True),
            ),
        ]

    def originals(self, draft: Resource) -> dict[str, str | None]:
        return {"title": draft.title, "summary": draft.summary}

    async def save_translation(
        self, turn: Turn, draft: Resource, language: str, answers: dict[str, str | None]
    ) -> str | None:
        await library.set_translation(turn.ctx.session, draft, language, answers, actor_id(turn))
        return None

    def fields(self, draft: Resource) -> list[Item]:
        keys = ["title", "summary", "body", "url", "tags"]
        if draft.kind == ResourceKind.BEST_PRACTICE:
            keys += list(STORY)
        texts = [
            Item(
                key,
                field_prompt(key),
                TextRule(TEXTS[key][0], optional=TEXTS[key][2]),
                label=field_label(key),
            )
            for key in keys
        ]
        # Chosen with buttons (`pick_field`), never typed: their rule is not used.
        chosen = [Item(key, "", TextRule(1), label=field_label(key)) for key in PICKED]
        return texts + chosen

    async def pick_field(self, turn: Turn, draft: Resource, key: str) -> bool:
        """The category and the languages are chosen with buttons (`handlers.library.edit`)."""
        if key not in PICKED:
            return True
        await turn.say(*picker(key, draft))
        return False

    async def save_field(self, turn: Turn, draft: Resource, key: str, value: str | None) -> str | None:
        if value is None:
            await library.edit(
                turn.ctx.session, draft, actor_id(turn), **{key: [] if key == "tags" else None}
            )
            return None
        try:
            stored = checked_value(key, value)
        except library.LibraryError as error:
            return refusal(error)
        await library.edit(turn.ctx.session, draft, actor_id(turn), **{key: stored})
        return None

    async def publish(self, turn: Turn, draft: Resource) -> bool:
        ctx = turn.ctx
        if draft.scope == ResourceScope.CONFEDERATION and not (ctx.actor and ctx.actor.is_super_admin):
            await library.change(ctx.session, draft, scope=ResourceScope.ORGANIZATION)
        if not await library.publish(ctx.session, draft):
            return False
        await turn.state.clear()
        if turn.message is not None:
            await turn.message.edit_reply_markup(reply_markup=None)
        link = await share_link(turn.bot, draft.id or 0)
        await turn.say(
            _(
                "✅ Published: <b>{title}</b>. Members find it with /resources, or through this link:\n{link}"
            ).format(title=escape(draft.title), link=escape(link))
        )
        return True

    async def discard(self, turn: Turn, draft: Resource) -> None:
        await library.discard(turn.ctx.session, draft)
        await turn.state.clear()


COMPOSER: Final = ResourceComposer(NewResource.translation, NewResource.edit, NewResource.preview)

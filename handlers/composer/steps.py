"""The kit's steps, free of routing: the language list, translation items one per message, the
✏️ Edit field list and a field's new value, and the preview's buttons. `handlers.composer.router`
wires them to a capability's buttons and states; a capability may also call them directly (the
announcements' "✏️ Edit text" of /announcements is `ask_field(..., "text")`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.i18n import _, language_name, languages_first
from handlers.composer import suggest
from handlers.composer.spec import STEP_KEY, Composer, Item, Published, Turn
from handlers.composer.text import read_text
from storage.models import Organization, OrgStatus

# A kit step behind a button: (spec, turn, draft, the button's value) -> False for a refused value.
DraftStep = Callable[[Composer[Any], Turn, Any, str], Awaitable[bool]]

# -- the preview card's buttons ----------------------------------------------------------------


def kit_button(
    spec: Composer[Any], text: str, action: str, ident: int, value: str = ""
) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=spec.button(action, ident, value).pack())


def translate_button(spec: Composer[Any], ident: int) -> InlineKeyboardButton:
    return kit_button(spec, _("🌐 Add a translation"), spec.codes.translate, ident)


def discard_button(spec: Composer[Any], ident: int) -> InlineKeyboardButton:
    return kit_button(spec, _("🗑 Discard"), spec.codes.discard, ident)


def publish_button(spec: Composer[Any], ident: int) -> InlineKeyboardButton:
    return kit_button(spec, _("📤 Publish"), spec.codes.publish, ident)


def preview_keyboard(
    spec: Composer[Any], ident: int, *, translate: bool = True, edit_label: str | None = None
) -> InlineKeyboardMarkup:
    """Publish / (✏️ Edit) / Add a translation / Discard: the usual preview card's buttons."""
    rows = [[publish_button(spec, ident)]]
    if edit_label:
        rows.append([kit_button(spec, edit_label, spec.codes.edit, ident)])
    rows.append([translate_button(spec, ident)] if translate else [])
    rows[-1].append(discard_button(spec, ident))
    return InlineKeyboardMarkup(inline_keyboard=rows)


# -- the step in progress (FSM data) -------------------------------------------------------------


def current_step(spec: Composer[Any], data: dict[str, Any], kind: str) -> dict[str, Any] | None:
    step = data.get(STEP_KEY)
    if isinstance(step, dict) and step.get("name") == spec.name and step.get("kind") == kind:
        return dict(step)
    return None


async def end_step(spec: Composer[Any], turn: Turn) -> None:
    await turn.state.set_state(spec.resting)
    await turn.state.update_data({STEP_KEY: None})


async def _ask(spec: Composer[Any], turn: Turn, draft: Any, item: Item) -> None:
    markup = None
    if item.rule.optional:
        builder = InlineKeyboardBuilder()
        builder.button(
            text=item.skip_label or _("Skip"),
            callback_data=spec.button(spec.codes.skip, spec.ident(draft), item.key),
        )
        markup = builder.as_markup()
    await turn.say(item.prompt, markup)


# -- translations ----------------------------------------------------------------------------------


async def offer_languages(spec: Composer[Any], turn: Turn, draft: Any, value: str = "") -> bool:
    """The shipped languages but the original's, the organization's own first, ✅ on those already
    translated (💡 on machine suggestions), and 💡 Suggest translations when a server is set."""
    done, source, ident = set(spec.translated(draft)), spec.source_language(draft), spec.ident(draft)
    suggested = set(await suggest.suggested(spec, turn, draft))
    builder = InlineKeyboardBuilder()
    for code in languages_first(turn.ctx.organization.default_language):
        if code != source:
            mark = "💡 " if code in suggested else "✅ " if code in done else ""
            builder.button(
                text=mark + language_name(code), callback_data=spec.button(spec.codes.language, ident, code)
            )
    builder.adjust(2)
    if suggest.offers_suggestions(spec, turn, draft):
        builder.row(suggest.suggest_button(spec, ident))
    await turn.say(_("Which language is the translation in?"), builder.as_markup())
    return True


async def start_translation(spec: Composer[Any], turn: Turn, draft: Any, language: str) -> bool:
    """False for a language that is not offered (a forged button)."""
    if language not in SHIPPED_LANGUAGES or language == spec.source_language(draft):
        return False
    step = {"name": spec.name, "kind": "translation", "id": spec.ident(draft), "language": language}
    await turn.state.set_state(spec.translating)
    await turn.state.update_data({STEP_KEY: {**step, "answers": {}}})
    await _ask(spec, turn, draft, spec.items(draft, language)[0])
    return True


async def _translation_answer(
    spec: Composer[Any], turn: Turn, step: dict[str, Any], draft: Any, added: dict[str, str | None]
) -> None:
    answers = {**step.get("answers", {}), **added}
    items = spec.items(draft, step["language"])
    if len(answers) < len(items):
        await turn.state.update_data({STEP_KEY: {**step, "answers": answers}})
        await _ask(spec, turn, draft, items[len(answers)])
        return
    await end_step(spec, turn)
    error = await spec.save_translation(turn, draft, step["language"], answers)
    if error is not None:
        await turn.say(error)
        return
    await suggest.translation_typed(spec, turn, draft, step["language"])
    await spec.translation_saved(turn, draft, step["language"])


async def _step_draft(spec: Composer[Any], turn: Turn, kind: str) -> tuple[dict[str, Any], Any] | None:
    """The step in progress and its draft, or None (after ending the step and saying why)."""
    step = current_step(spec, await turn.state.get_data(), kind)
    draft = await spec.load(turn, int(step.get("id") or 0), kind) if step is not None else None
    if step is None or draft is None:
        await end_step(spec, turn)
        await turn.say(spec.gone())
        return None
    return step, draft


def _pending_item(spec: Composer[Any], step: dict[str, Any], draft: Any) -> Item | None:
    if step["kind"] == "edit":
        return next((item for item in spec.fields(draft) if item.key == step.get("field")), None)
    items = spec.items(draft, step["language"])
    index = len(step.get("answers") or {})
    return items[index] if index < len(items) else None


async def typed_answer(spec: Composer[Any], turn: Turn, message: Message, kind: str) -> None:
    """A typed translation item or field value: checked by the item's rule, then kept."""
    found = await _step_draft(spec, turn, kind)
    if found is None:
        return
    step, draft = found
    item = _pending_item(spec, step, draft)
    if item is None:
        await end_step(spec, turn)
        await turn.say(spec.gone())
        return
    text = await read_text(message, turn.state, item.rule)
    if text is None:
        return
    if kind == "edit":
        await _field_answer(spec, turn, draft, item, text)
        return
    answers = dict(step.get("answers") or {})
    added = spec.translation_answer(draft, step["language"], answers, item, text)
    if isinstance(added, str):
        await turn.say(added)  # the step goes on: a corrected text is welcome
        return
    await _translation_answer(spec, turn, step, draft, added)


async def skipped(spec: Composer[Any], turn: Turn, key: str) -> bool:
    """Skip: valid only for the optional item being asked (False: a stale or forged button)."""
    data = await turn.state.get_data()
    for kind in ("translation", "edit"):
        step = current_step(spec, data, kind)
        if step is None:
            continue
        draft = await spec.load(turn, int(step.get("id") or 0), kind)
        item = _pending_item(spec, step, draft) if draft is not None else None
        if item is None or item.key != key or not item.rule.optional:
            return False
        if turn.message is not None and turn.message.reply_markup is not None:
            await turn.message.edit_reply_markup(reply_markup=None)
        if kind == "edit":
            await _field_answer(spec, turn, draft, item, None)
        else:
            await _translation_answer(spec, turn, step, draft, {item.key: None})
        return True
    return False


# -- ✏️ Edit -----------------------------------------------------------------------------------------


async def offer_fields(spec: Composer[Any], turn: Turn, draft: Any, value: str = "") -> bool:
    fields = spec.fields(draft)
    if not fields:
        return False
    builder = InlineKeyboardBuilder()
    for item in fields:
        builder.button(
            text=item.label, callback_data=spec.button(spec.codes.field, spec.ident(draft), item.key)
        )
    builder.adjust(2)
    await turn.say(_("What do you want to change?"), builder.as_markup())
    return True


async def choose_field(spec: Composer[Any], turn: Turn, draft: Any, key: str) -> bool:
    """A field of the ✏️ Edit list: its new value is asked for, unless the capability asks
    something first (`Composer.pick_field`). False for a field the draft does not have."""
    if not any(item.key == key for item in spec.fields(draft)):
        return False
    return await ask_field(spec, turn, draft, key) if await spec.pick_field(turn, draft, key) else True


async def ask_field(spec: Composer[Any], turn: Turn, draft: Any, key: str) -> bool:
    """Ask for a field's new value (False for a field the draft does not have)."""
    item = next((item for item in spec.fields(draft) if item.key == key), None)
    if item is None or spec.editing is None:
        return False
    await turn.state.set_state(spec.editing)
    await turn.state.update_data(
        {STEP_KEY: {"name": spec.name, "kind": "edit", "id": spec.ident(draft), "field": key}}
    )
    await _ask(spec, turn, draft, item)
    return True


async def _field_answer(spec: Composer[Any], turn: Turn, draft: Any, item: Item, value: str | None) -> None:
    error = await spec.save_field(turn, draft, item.key, value)
    if error is not None:
        if error:
            await turn.say(error)  # the step goes on: a corrected value is welcome
        return
    await end_step(spec, turn)
    await spec.field_saved(turn, draft, item.key)


# -- publish and discard ---------------------------------------------------------------------------


def silenced_text(organization: Organization) -> str:
    """Why nothing can be published for a suspended or archived organization."""
    if organization.status == OrgStatus.ARCHIVED:
        return _("🗄 {organization} is archived: nothing can be sent or published on its behalf.").format(
            organization=escape(organization.name)
        )
    return _(
        "⏸ {organization} is suspended by the confederation: nothing can be sent or published on "
        "its behalf until it is restored. Its members and their data are kept."
    ).format(organization=escape(organization.name))


async def silenced(turn: Turn) -> bool:
    """True, after telling the organizer why, when the organization may not speak (suspended or
    archived): the draft's own, as loading a stored draft made it the update's organization."""
    if turn.ctx.organization.status == OrgStatus.ACTIVE:
        return False
    await turn.say(silenced_text(turn.ctx.organization))
    return True


async def publish_and_close(spec: Composer[Any], turn: Turn, draft: Any, value: str = "") -> bool:
    """Publish (or "✅ Yes, send it"): the capability publishes, then the pressed message is closed
    (`after_publish`: its buttons go). False when another tap claimed the draft first (answered
    "no longer active"). Nothing is published for a suspended or archived organization
    (`silenced`)."""
    if await silenced(turn):
        return True
    outcome = await spec.publish(turn, draft)
    if outcome is Published.SENT:
        await spec.after_publish(turn, draft)
    return outcome is not Published.TAKEN


async def discard(spec: Composer[Any], turn: Turn, draft: Any, value: str = "") -> bool:
    await spec.discard(turn, draft)
    await turn.state.update_data({STEP_KEY: None})
    await turn.replace(_("🗑 The draft was discarded."))
    return True

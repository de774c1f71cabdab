"""/newresource: the staff's dialog, one question per message — kind (buttons), title, summary,
category (buttons), for a best practice the problem, what was done, the result and a contact,
then the content (links, a document or photo, a text: as many as wanted, then ➡️ Next), the
languages it is available in (ticks), tags, and for the confederation's staff who it is for. The
draft is a row from the title on; the preview, translations, ✏️ Edit, Publish and Discard are the
composer kit's (`handlers.library.composer`). A refused answer keeps the step."""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.context import Context
from bot.i18n import _, language_names
from bot.policy import Action, rights
from bot.services import library
from bot.services.library.rules import checked_url, looks_like_link
from bot.views.library import refusal
from handlers.composer import TextRule, Turn, button_turn, draft_button, echo_choice, message_turn, read_text
from handlers.library.callbacks import ResourceDraft
from handlers.library.composer import (
    COMPOSER,
    TEXTS,
    category_keyboard,
    checked_value,
    chosen_category,
    field_prompt,
    languages_keyboard,
    load_draft,
)
from handlers.library.media import file_of
from handlers.library.states import NewResource as S
from storage.models import Resource, ResourceKind, ResourceScope

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.MANAGE_RESOURCES)
TYPED: Final = {S.title, S.summary, S.problem, S.what_we_did, S.result, S.contact, S.tags}
FIELD_OF: Final = {S.title: "title", S.summary: "summary", S.problem: "problem", S.what_we_did: "what_we_did"}
FIELD_OF |= {S.result: "result", S.contact: "contact", S.tags: "tags"}


def _button(action: str, ident: int, value: str = "") -> ResourceDraft:
    return ResourceDraft(action=action, id=ident, value=value)


@router.message(Command("newresource"), flags=FLAGS)
async def new_resource(message: Message, state: FSMContext) -> None:
    await state.set_state(S.kind)
    await state.update_data(resource_id=None, resource_kind=None)
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📄 A resource: a guide, a template, a link"), callback_data=_button("kind", 0, "resource")
    )
    builder.button(
        text=_("💡 A best practice: what worked for us"), callback_data=_button("kind", 0, "best_practice")
    )
    builder.adjust(1)
    await message.answer(
        _("📚 <b>New resource</b>\n\nWhat do you want to share? Send /cancel to stop."),
        reply_markup=builder.as_markup(),
    )


@router.callback_query(ResourceDraft.filter(F.action == "kind"), S.kind, flags=FLAGS)
async def kind_chosen(
    query: CallbackQuery, ctx: Context, state: FSMContext, callback_data: ResourceDraft, **data: Any
) -> None:
    """Resource or best practice: the title comes next (the draft is made with it)."""
    turn = button_turn(query, ctx, state, data["bot"], data["callback_answer"])
    if callback_data.value not in set(ResourceKind):
        turn.stale()
        return
    await echo_choice(turn)
    await state.update_data(resource_kind=callback_data.value)
    await ask(turn, S.title, None)


def _next(step: State, draft: Resource, super_admin: bool) -> State:
    best = draft.kind == ResourceKind.BEST_PRACTICE
    order = [
        S.title,
        S.summary,
        S.category,
        *([S.problem, S.what_we_did, S.result, S.contact] if best else []),
    ]
    order += [S.content, S.languages, S.tags, *([S.scope] if super_admin else []), S.preview]
    return order[order.index(step) + 1]


def _languages(draft: Resource) -> InlineKeyboardMarkup:
    return languages_keyboard(draft, "lang", "langs")


async def ask(turn: Turn, step: State, draft: Resource | None) -> None:
    """Ask the step's question (with its buttons) and wait there."""
    await turn.state.set_state(step)
    ident = draft.id or 0 if draft is not None else 0
    builder = InlineKeyboardBuilder()
    if step in FIELD_OF:
        text = field_prompt(FIELD_OF[step])
        if step in (S.contact, S.tags):
            builder.button(text=_("Skip"), callback_data=_button("skip", ident, FIELD_OF[step]))
    elif step == S.category:
        await turn.say(_("Which category is it?"), category_keyboard(ident, "cat"))
        return
    elif step == S.content:
        text = _(
            "Now the resource itself: send a link (https://…), a document or a photo, or type a text "
            "(at most {limit} characters). You can send several; press ➡️ Next when done."
        ).format(limit=library.BODY_MAX)
        builder.button(text=_("➡️ Next"), callback_data=_button("next", ident))
    elif step == S.languages:
        await turn.say(
            _("In which languages is it available? Tap to choose, then press Done."), _languages(draft)
        )  # type: ignore[arg-type]
        return
    elif step == S.scope:
        text = _("Who is it for?")
        builder.button(
            text=_("👥 Members of {name}").format(name=turn.ctx.organization.name),
            callback_data=_button("scope", ident, "org"),
        )
        builder.button(
            text=_("🌍 The whole confederation"), callback_data=_button("scope", ident, "confederation")
        )
        builder.adjust(1)
    else:
        assert draft is not None
        await COMPOSER.show_preview(turn, draft)
        return
    await turn.say(text, builder.as_markup() if builder.buttons else None)


def _super(turn: Turn) -> bool:
    return bool(turn.ctx.actor and turn.ctx.actor.is_super_admin)


async def _forward(turn: Turn, step: State, draft: Resource) -> None:
    await ask(turn, _next(step, draft, _super(turn)), draft)


async def _dialog_draft(turn: Turn) -> Resource | None:
    """The draft of the dialog in progress, or None after ending it and saying why."""
    ident = int((await turn.state.get_data()).get("resource_id") or 0)
    draft = await load_draft(turn, ident)
    if draft is None:
        await turn.state.clear()
        await turn.say(COMPOSER.gone())
    return draft


@router.message(StateFilter(*TYPED), F.text, flags=FLAGS)
async def text_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    turn, current = message_turn(message, ctx, state, bot), await state.get_state()
    step = next(step for step in TYPED if step.state == current)
    key = FIELD_OF[step]
    text = await read_text(message, state, TextRule(TEXTS[key][0]))
    if text is None:
        return
    try:
        value = checked_value(key, text)
    except library.LibraryError as error:
        await message.answer(refusal(error))
        return
    if step == S.title:
        data = await state.get_data()
        draft = await load_draft(turn, int(data.get("resource_id") or 0))
        if draft is None:
            kind = ResourceKind(data.get("resource_kind") or ResourceKind.RESOURCE)
            member_id = ctx.member.id if ctx.member else None
            draft = await library.create_draft(
                ctx.session, ctx.organization_id, kind, str(value), ctx.locale, member_id
            )
            await state.update_data(resource_id=draft.id)
    else:
        draft = await _dialog_draft(turn)
        if draft is None:
            return
    await library.change(ctx.session, draft, **{key: value})
    await _forward(turn, step, draft)


@draft_button(COMPOSER, router, "skip")
async def skipped(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    step = {"contact": S.contact, "tags": S.tags}.get(data.value)
    if step is None or await turn.state.get_state() != step.state:
        turn.stale()
        return
    await echo_choice(turn)
    await _forward(turn, step, draft)


@draft_button(COMPOSER, router, "cat")
async def category_chosen(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    if await turn.state.get_state() != S.category.state:
        turn.stale()
        return
    category = await chosen_category(turn, data.value)
    if category is None:
        return
    await library.change(turn.ctx.session, draft, category=category)
    await _forward(turn, S.category, draft)


@router.message(S.content, F.text, flags=FLAGS)
async def content_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    turn = message_turn(message, ctx, state, bot)
    text = await read_text(message, state, TextRule(library.BODY_MAX))
    if text is None:
        return
    draft = await _dialog_draft(turn)
    if draft is None:
        return
    try:
        if looks_like_link(text):
            await library.change(ctx.session, draft, url=checked_url(text))
        else:
            await library.change(ctx.session, draft, body=checked_value("body", text))
    except library.LibraryError as error:
        await message.answer(refusal(error))
        return
    await _content_saved(turn, draft)


@router.message(S.content, flags=FLAGS)
async def content_sent(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    """A document or a photo (its Telegram file id is sent again to members); anything else is
    refused with what is taken."""
    turn = message_turn(message, ctx, state, bot)
    try:
        kind, file_id = file_of(message)
    except library.LibraryError as error:
        await message.answer(refusal(error))
        return
    draft = await _dialog_draft(turn)
    if draft is not None:
        await library.change(ctx.session, draft, file_id=file_id, file_kind=kind)
        await _content_saved(turn, draft)


async def _content_saved(turn: Turn, draft: Resource) -> None:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("➡️ Next"), callback_data=_button("next", draft.id or 0))
    await turn.say(_("✅ Saved. Send more (a link, a file or a text), or press ➡️ Next."), builder.as_markup())


@draft_button(COMPOSER, router, "next")
async def content_done(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    if await turn.state.get_state() != S.content.state:
        turn.stale()
        return
    if draft.kind == ResourceKind.RESOURCE and not (draft.url or draft.file_id or draft.body):
        turn.toast(_("Send a link, a file or a text first."), alert=True)
        return
    await echo_choice(turn)
    await _forward(turn, S.content, draft)


@draft_button(COMPOSER, router, "lang")
async def language_ticked(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    if await turn.state.get_state() != S.languages.state or data.value not in SHIPPED_LANGUAGES:
        turn.stale()
        return
    chosen = set(draft.languages) ^ {data.value}
    await library.change(
        turn.ctx.session, draft, languages=[code for code in SHIPPED_LANGUAGES if code in chosen]
    )
    if turn.message is not None:
        await turn.message.edit_reply_markup(reply_markup=_languages(draft))


@draft_button(COMPOSER, router, "langs")
async def languages_done(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    if await turn.state.get_state() != S.languages.state:
        turn.stale()
        return
    if not draft.languages:
        turn.toast(_("Choose at least one language."), alert=True)
        return
    await echo_choice(turn, escape(language_names(draft.languages)))
    await _forward(turn, S.languages, draft)


@draft_button(COMPOSER, router, "scope")
async def scope_chosen(turn: Turn, draft: Resource, data: ResourceDraft) -> None:
    scopes = {"org": ResourceScope.ORGANIZATION, "confederation": ResourceScope.CONFEDERATION}
    if await turn.state.get_state() != S.scope.state or data.value not in scopes or not _super(turn):
        turn.stale()
        return
    await echo_choice(turn)
    await library.change(turn.ctx.session, draft, scope=scopes[data.value])
    await _forward(turn, S.scope, draft)


@router.message(StateFilter(S.kind, S.category, S.languages, S.scope, S.preview), flags=FLAGS)
async def buttons_awaited(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or send /cancel to stop."))


@router.message(StateFilter(*TYPED), flags=FLAGS)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )

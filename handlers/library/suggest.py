"""Suggestions: a member sends a link or a file, a title and a note (/suggest, or 💡 on
/resources) to one of their organizations; its staff get it through the outbox, each in their
language, with ✅ Approve (then a category: published) or ✖ Reject (then a reason). Only that
organization's staff may decide (`Loads` checks the right against the suggestion's own
organization: a forged button changes nothing), once; the member is told either way."""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.policy import Action, Loads, rights
from bot.services import library
from bot.services.library.rules import checked_category, checked_text, checked_url, looks_like_link
from bot.services.organizations import get_organization
from bot.views.library import CATEGORY_LABELS, refusal
from handlers.composer.text import answered_a_command
from handlers.filters import IsRegistered
from handlers.library.callbacks import Decision, Library
from handlers.library.media import file_of
from handlers.library.states import Reject, Suggest
from storage.models import Organization, Resource, ResourceStatus
from storage.types import utcnow

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
PUBLIC: Final = rights(Action.PUBLIC)
KEY: Final = "suggestion"  # FSM data: {"org": id, "url" | "file_id" + "file_kind", "title"}


def _pending(resource: Resource, data: Any) -> bool:
    return resource.status == ResourceStatus.SUGGESTED


SUGGESTION: Final = Loads(Resource, "resource", accepts=_pending)
STAFF: Final = rights(Action.MANAGE_RESOURCES, loads=SUGGESTION)


async def _start(bot: Bot, chat_id: int, ctx: Context, state: FSMContext) -> None:
    organizations = await library.member_organizations(ctx.session, ctx.member.id if ctx.member else None)
    if len(organizations) > 1:
        builder = InlineKeyboardBuilder()
        for organization_id in organizations:
            organization = await get_organization(ctx.session, organization_id)
            if organization is not None:
                builder.button(
                    text=organization.name, callback_data=Library(action="sorg", id=organization_id)
                )
        builder.adjust(1)
        await bot.send_message(
            chat_id, _("Which organization do you suggest it to?"), reply_markup=builder.as_markup()
        )
        return
    await _ask_content(bot, chat_id, state, organizations[0] if organizations else ctx.organization_id)


async def _ask_content(bot: Bot, chat_id: int, state: FSMContext, organization_id: int) -> None:
    await state.set_state(Suggest.content)
    await state.update_data({KEY: {"org": organization_id}})
    await bot.send_message(
        chat_id,
        _(
            "💡 <b>Suggest a resource</b>\n\nSend the link (https://…) or the file (a document or a photo) "
            "you want to share. Send /cancel to stop."
        ),
    )


@router.message(Command("suggest"), IsRegistered(), flags=PUBLIC)
async def suggest_command(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await _start(bot, message.chat.id, ctx, state)


@router.callback_query(Library.filter(F.action == "suggest"), IsRegistered(), flags=PUBLIC)
async def suggest_button(query: CallbackQuery, ctx: Context, state: FSMContext, bot: Bot) -> None:
    await _start(bot, query.from_user.id, ctx, state)


@router.callback_query(Library.filter(F.action == "sorg"), IsRegistered(), flags=PUBLIC)
async def organization_chosen(
    query: CallbackQuery,
    callback_data: Library,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.id not in await library.member_organizations(
        ctx.session, ctx.member.id if ctx.member else None
    ):
        callback_answer.text = _("This button is no longer active.")
        return
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await _ask_content(bot, query.from_user.id, state, callback_data.id)


async def _data(state: FSMContext) -> dict[str, Any]:
    data = (await state.get_data()).get(KEY)
    return dict(data) if isinstance(data, dict) else {}


@router.message(Suggest.content, IsRegistered(), flags=PUBLIC)
async def content_sent(message: Message, state: FSMContext) -> None:
    try:
        if message.text is not None:
            if await answered_a_command(message):
                return
            if not looks_like_link(message.text):
                await message.answer(_("Please send a link (https://…) or a file (a document or a photo)."))
                return
            content = {"url": checked_url(message.text)}
        else:
            kind, file_id = file_of(message)
            content = {"file_id": file_id, "file_kind": kind}
    except library.LibraryError as error:
        await message.answer(refusal(error))
        return
    await state.update_data({KEY: {**await _data(state), **content}})
    await state.set_state(Suggest.title)
    await message.answer(
        _("Thank you! Now a short title for it (at most {limit} characters).").format(limit=library.TITLE_MAX)
    )


@router.message(Suggest.title, F.text, IsRegistered(), flags=PUBLIC)
async def title_typed(message: Message, state: FSMContext) -> None:
    try:
        title = checked_text(message.text, library.TITLE_MAX, multiline=False)
    except library.LibraryError as error:
        await message.answer(refusal(error))
        return
    await state.update_data({KEY: {**await _data(state), "title": title}})
    await state.set_state(Suggest.note)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=Library(action="skip"))
    await message.answer(
        _("Add a note for the team: what is it, why is it useful? (at most {limit} characters)").format(
            limit=library.NOTE_MAX
        ),
        reply_markup=builder.as_markup(),
    )


async def _send(
    chat_id: int,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    settings: Settings,
    delivery: DeliveryEngine,
    note: str | None,
) -> None:
    data = await _data(state)
    organization = await get_organization(ctx.session, int(data.get("org") or 0))
    if organization is None or ctx.member is None or not data.get("title"):
        await state.set_state(None)
        await bot.send_message(chat_id, _("This button is no longer active."))
        return
    content = {key: str(data[key]) for key in ("url", "file_id", "file_kind") if data.get(key)}
    await library.suggest(
        ctx.session,
        organization,
        ctx.member.id or 0,
        ctx.locale,
        content,
        str(data["title"]),
        note,
        settings.admin_ids,
        utcnow(),
    )
    await state.set_state(None)
    await state.update_data({KEY: None})
    await ctx.session.commit()
    delivery.wake()
    await bot.send_message(
        chat_id,
        _("✅ Thank you! Your suggestion was sent to the team of {organization}. You will hear back.").format(
            organization=escape(organization.name)
        ),
    )


@router.message(Suggest.note, F.text, IsRegistered(), flags=PUBLIC)
async def note_typed(
    message: Message, ctx: Context, state: FSMContext, bot: Bot, settings: Settings, delivery: DeliveryEngine
) -> None:
    try:
        note = checked_text(message.text, library.NOTE_MAX)
    except library.LibraryError as error:
        await message.answer(refusal(error))
        return
    await _send(message.chat.id, ctx, state, bot, settings, delivery, note)


@router.callback_query(Library.filter(F.action == "skip"), Suggest.note, IsRegistered(), flags=PUBLIC)
async def note_skipped(
    query: CallbackQuery,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    settings: Settings,
    delivery: DeliveryEngine,
) -> None:
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await _send(query.from_user.id, ctx, state, bot, settings, delivery, None)


@router.message(Suggest.title, IsRegistered(), flags=PUBLIC)
@router.message(Suggest.note, IsRegistered(), flags=PUBLIC)
async def not_text(message: Message) -> None:
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


# -- the staff's decision ----------------------------------------------------------------------


@router.callback_query(Decision.filter(F.action == "approve"), flags=STAFF)
async def approve(query: CallbackQuery, resource: Resource, bot: Bot) -> None:
    builder = InlineKeyboardBuilder()
    for key, label in CATEGORY_LABELS.items():
        builder.button(text=str(label), callback_data=Decision(action="cat", id=resource.id or 0, value=key))
    builder.adjust(2)
    await bot.send_message(
        query.from_user.id,
        _("Which category does “{title}” go into? It is published as soon as you choose.").format(
            title=escape(resource.title)
        ),
        reply_markup=builder.as_markup(),
    )


async def _organization(ctx: Context, resource: Resource) -> Organization:
    return await get_organization(ctx.session, resource.organization_id) or ctx.organization


@router.callback_query(Decision.filter(F.action == "cat"), flags=STAFF)
async def approved(
    query: CallbackQuery,
    callback_data: Decision,
    resource: Resource,
    ctx: Context,
    delivery: DeliveryEngine,
    callback_answer: CallbackAnswer,
) -> None:
    try:
        category = checked_category(callback_data.value)
    except library.LibraryError:
        callback_answer.text = _("This button is no longer active.")
        return
    await library.change(ctx.session, resource, category=category)
    decided_by = ctx.member.id if ctx.member else None
    if not await library.decide(
        ctx.session, resource, True, decided_by, await _organization(ctx, resource), utcnow()
    ):
        callback_answer.text = _("Someone else already decided on this suggestion.")
        return
    if isinstance(query.message, Message):
        await query.message.edit_text(
            _("✅ Approved and published: <b>{title}</b>. The member is told.").format(
                title=escape(resource.title)
            )
        )
    await ctx.session.commit()
    delivery.wake()


@router.callback_query(Decision.filter(F.action == "reject"), flags=STAFF)
async def reject(query: CallbackQuery, resource: Resource, state: FSMContext, bot: Bot) -> None:
    await state.set_state(Reject.reason)
    await state.update_data(reject_id=resource.id)
    await bot.send_message(
        query.from_user.id,
        _("Why is “{title}” not added? Send the reason in one message: the member will read it.").format(
            title=escape(resource.title)
        ),
    )


@router.message(Reject.reason, F.text, flags=rights(Action.MANAGE_RESOURCES))
async def reason_typed(message: Message, ctx: Context, state: FSMContext, delivery: DeliveryEngine) -> None:
    resource = await ctx.load(
        Action.MANAGE_RESOURCES, Resource, int((await state.get_data()).get("reject_id") or 0)
    )
    if resource is None or resource.status != ResourceStatus.SUGGESTED:
        await state.set_state(None)
        await message.answer(_("Someone else already decided on this suggestion."))
        return
    try:
        reason = checked_text(message.text, library.NOTE_MAX)
    except library.LibraryError as error:
        await message.answer(refusal(error))
        return
    decided_by = ctx.member.id if ctx.member else None
    organization = await _organization(ctx, resource)
    await state.set_state(None)
    if not await library.decide(ctx.session, resource, False, decided_by, organization, utcnow(), reason):
        await message.answer(_("Someone else already decided on this suggestion."))
        return
    await ctx.session.commit()
    delivery.wake()
    await message.answer(_("✖ Rejected. The member is told, with your reason."))

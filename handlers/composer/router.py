"""`composer_router(spec)`: the kit's handlers for one capability, each declaring the capability's
right, routed by the capability's own callback data class and states (one handler per action)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.context import Context
from bot.delivery import DeliveryEngine
from bot.i18n import _
from bot.policy import rights
from handlers.composer import steps
from handlers.composer.spec import Composer, Turn
from handlers.composer.text import continuation, cut_record, cut_text


class CutContinuation(Filter):
    """A text that continues a long one of this composer, which a Telegram app cut."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, message: Message, state: FSMContext) -> bool:
        record = cut_record(await state.get_data(), message)
        return record is not None and record.get("name") == self.name


def button_turn(
    query: CallbackQuery,
    ctx: Context,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
    delivery: DeliveryEngine | None = None,
) -> Turn:
    message = query.message if isinstance(query.message, Message) else None
    return Turn(ctx, state, bot, query.from_user.id, message, callback_answer, delivery)


def message_turn(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> Turn:
    return Turn(ctx, state, bot, message.chat.id, message)


def ident_of(callback_data: CallbackData) -> int:
    return int(getattr(callback_data, "id", 0) or 0)


def composer_router(spec: Composer[Any]) -> Router:
    """The kit's buttons (language list, language, Skip, ✏️ Edit, field, Publish, Discard), its
    typed steps (translation items, a field's value) and the cut-text guard, for `spec`."""
    router = Router(name=f"composer.{spec.name}")
    router.message.filter(F.chat.type == "private")
    flags, codes, buttons = rights(spec.action), spec.codes, spec.button_class

    async def loaded(turn: Turn, callback_data: CallbackData, use: str) -> Any:
        draft = await spec.load(turn, ident_of(callback_data), use)
        if draft is None:
            turn.stale()
        return draft

    @router.message(CutContinuation(spec.name), flags=flags)
    async def text_was_cut(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
        record = await continuation(state, message)
        if record is None or record.get("told"):
            return
        await message.answer(cut_text(int(record.get("limit") or 0)))
        await spec.text_was_cut(message_turn(message, ctx, state, bot), int(record.get("id") or 0))

    @router.callback_query(buttons.filter(F.action == codes.translate), flags=flags)
    async def translate(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer)
        if (draft := await loaded(turn, callback_data, "translate")) is not None:
            await steps.offer_languages(spec, turn, draft)

    @router.callback_query(buttons.filter(F.action == codes.language), flags=flags)
    async def translate_to(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer)
        draft = await loaded(turn, callback_data, "language")
        language = str(getattr(callback_data, "value", ""))
        if draft is not None and not await steps.start_translation(spec, turn, draft, language):
            turn.stale()

    @router.callback_query(buttons.filter(F.action == codes.skip), flags=flags)
    async def skip_item(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer)
        if not await steps.skipped(spec, turn, str(getattr(callback_data, "value", ""))):
            turn.stale()

    @router.callback_query(buttons.filter(F.action == codes.edit), flags=flags)
    async def edit(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer)
        draft = await loaded(turn, callback_data, "edit")
        if draft is not None and not await steps.offer_fields(spec, turn, draft):
            turn.stale()

    @router.callback_query(buttons.filter(F.action == codes.field), flags=flags)
    async def edit_field(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer)
        draft = await loaded(turn, callback_data, "field")
        key = str(getattr(callback_data, "value", ""))
        if draft is not None and not await steps.ask_field(spec, turn, draft, key):
            turn.stale()

    @router.callback_query(buttons.filter(F.action == codes.publish), flags=flags)
    async def publish(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
        delivery: DeliveryEngine,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer, delivery)
        draft = await loaded(turn, callback_data, "publish")
        if draft is not None and not await spec.publish(turn, draft):
            turn.stale()  # another tap claimed it first

    @router.callback_query(buttons.filter(F.action == codes.discard), flags=flags)
    async def discard(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer)
        if (draft := await loaded(turn, callback_data, "discard")) is not None:
            await steps.discard(spec, turn, draft)

    @router.message(spec.translating, F.text, flags=flags)
    async def translation_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
        await steps.typed_answer(spec, message_turn(message, ctx, state, bot), message, "translation")

    states = [spec.translating]
    if spec.editing is not None:
        states.append(spec.editing)

        @router.message(spec.editing, F.text, flags=flags)
        async def field_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
            await steps.typed_answer(spec, message_turn(message, ctx, state, bot), message, "edit")

    @router.message(StateFilter(*states), flags=flags)
    async def not_text(message: Message) -> None:
        await message.answer(
            _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
        )

    return router

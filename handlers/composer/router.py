"""`composer_router(spec)`: the kit's handlers for one capability, each declaring the capability's
right, routed by the capability's own callback data class and states (one handler per action);
and `draft_button`, which the capability's own buttons use the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

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
from handlers.composer import steps, suggest
from handlers.composer.spec import Composer, Turn
from handlers.composer.text import continuation, cut_record, cut_text

DraftButton = Callable[[Turn, Any, Any], Awaitable[None]]
HandlerT = TypeVar("HandlerT", bound=DraftButton)


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
    return Turn(
        ctx, state, bot, query.from_user.id, message, callback_answer, delivery, pressed=query.data or ""
    )


def message_turn(
    message: Message, ctx: Context, state: FSMContext, bot: Bot, delivery: DeliveryEngine | None = None
) -> Turn:
    return Turn(ctx, state, bot, message.chat.id, message, delivery=delivery)


def ident_of(callback_data: CallbackData) -> int:
    return int(getattr(callback_data, "id", 0) or 0)


def draft_button(spec: Composer[Any], router: Router, *codes: str) -> Callable[[HandlerT], HandlerT]:
    """Register `handler(turn, draft, callback_data)` for the buttons of `spec` with these action
    codes: the right is declared, the draft is loaded through `spec.load(turn, id, code)` (None:
    "This button is no longer active."), the rest is the handler's."""

    def register(handler: HandlerT) -> HandlerT:
        async def on_button(
            query: CallbackQuery,
            callback_data: CallbackData,
            ctx: Context,
            state: FSMContext,
            bot: Bot,
            callback_answer: CallbackAnswer,
            delivery: DeliveryEngine,
        ) -> None:
            turn = button_turn(query, ctx, state, bot, callback_answer, delivery)
            use = str(getattr(callback_data, "action", ""))
            draft = await spec.load(turn, ident_of(callback_data), use)
            if draft is None:
                turn.stale()
                return
            await handler(turn, draft, callback_data)

        on_button.__name__, on_button.__qualname__ = handler.__name__, handler.__qualname__
        on_button.__module__ = handler.__module__
        action = spec.button_class.filter(F.action.in_(set(codes)))
        router.callback_query(action, flags=rights(spec.action))(on_button)
        return handler

    return register


def _kit_button(spec: Composer[Any], step: steps.DraftStep) -> DraftButton:
    """A kit button: its step with the button's value (also in `turn.data["value"]`, e.g. for
    `publish_and_close`); a refused value is a stale button."""

    async def on_kit_button(turn: Turn, draft: Any, callback_data: Any) -> None:
        turn.data["value"] = str(getattr(callback_data, "value", ""))
        if not await step(spec, turn, draft, turn.data["value"]):
            turn.stale()

    on_kit_button.__name__ = on_kit_button.__qualname__ = step.__name__
    return on_kit_button


def composer_router(spec: Composer[Any]) -> Router:
    """The kit's buttons (language list, language, Skip, ✏️ Edit, field, Publish, Discard), its
    typed steps (translation items, a field's value) and the cut-text guard, for `spec`."""
    router = Router(name=f"composer.{spec.name}")
    router.message.filter(F.chat.type == "private")
    flags, codes = rights(spec.action), spec.codes

    def value(callback_data: Any) -> str:
        return str(getattr(callback_data, "value", ""))

    @router.message(CutContinuation(spec.name), flags=flags)
    async def text_was_cut(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
        record = await continuation(state, message)
        if record is None or record.get("told"):
            return
        # Undone first: the notice commits the unit of work before it is sent (commit before send).
        await spec.text_was_cut(message_turn(message, ctx, state, bot), int(record.get("id") or 0))
        await message.answer(cut_text(int(record.get("limit") or 0)))

    kit_buttons: dict[str, steps.DraftStep] = {
        codes.translate: steps.offer_languages,
        codes.language: steps.start_translation,
        codes.edit: steps.offer_fields,
        codes.field: steps.choose_field,
        codes.publish: steps.publish_and_close,
        codes.discard: steps.discard,
        suggest.SUGGEST: suggest.suggest,
        suggest.CHECKED: suggest.checked,
    }
    for code, step in kit_buttons.items():
        draft_button(spec, router, code)(_kit_button(spec, step))

    @router.callback_query(spec.button_class.filter(F.action == codes.skip), flags=flags)
    async def skip_item(
        query: CallbackQuery,
        callback_data: CallbackData,
        ctx: Context,
        state: FSMContext,
        bot: Bot,
        callback_answer: CallbackAnswer,
    ) -> None:
        turn = button_turn(query, ctx, state, bot, callback_answer)
        if not await steps.skipped(spec, turn, value(callback_data)):
            turn.stale()

    @router.message(spec.translating, F.text, flags=flags)
    async def translation_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
        await steps.typed_answer(spec, message_turn(message, ctx, state, bot), message, "translation")

    states = [spec.translating]
    if spec.editing is not None:
        states.append(spec.editing)

        @router.message(spec.editing, F.text, flags=flags)
        async def field_typed(
            message: Message, ctx: Context, state: FSMContext, bot: Bot, delivery: DeliveryEngine
        ) -> None:
            """A field's new value (a change members are told about wakes the delivery)."""
            await steps.typed_answer(spec, message_turn(message, ctx, state, bot, delivery), message, "edit")

    @router.message(StateFilter(*states), flags=flags)
    async def not_text(message: Message) -> None:
        await message.answer(
            _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
        )

    return router

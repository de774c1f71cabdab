"""/resources and /saved: the categories with their counts (only what the member may see: their
organizations' published resources and the confederation's), a category's pages, words typed to
search (any language and script), and the member's saved resources. Pages list resources the
member can read in their language first; a number opens the card (`card`)."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.context import Context
from bot.i18n import _
from bot.policy import Action, rights
from bot.services import library
from bot.views.library import CATEGORY_LABELS, category_label, list_line, results_header
from handlers.fallback import stale_button
from handlers.filters import IsRegistered
from handlers.library.callbacks import Library
from handlers.library.states import Browse

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private", IsRegistered())
router.callback_query.filter(IsRegistered())
PUBLIC: Final = rights(Action.PUBLIC)
QUERY_KEY: Final = "library_query"
QUERY_MAX: Final = 200


async def organizations(ctx: Context) -> list[int]:
    return await library.member_organizations(ctx.session, ctx.member.id if ctx.member else None)


async def categories_view(ctx: Context) -> tuple[str, InlineKeyboardMarkup]:
    counts = await library.category_counts(ctx.session, await organizations(ctx))
    builder = InlineKeyboardBuilder()
    for key, label in CATEGORY_LABELS.items():
        if counts.get(key):
            builder.button(text=f"{label} ({counts[key]})", callback_data=Library(action="cat", value=key))
    builder.adjust(1)
    builder.row(
        InlineKeyboardButton(text=_("⭐ Saved"), callback_data=Library(action="saved").pack()),
        InlineKeyboardButton(text=_("💡 Suggest a resource"), callback_data=Library(action="suggest").pack()),
    )
    text = _("📚 <b>Resource library</b>") + "\n\n"
    if counts:
        text += _("Choose a category, or type a few words to search, in any language.")
    else:
        text += _("There is nothing in the library yet. You can suggest a resource.")
    return text, builder.as_markup()


@router.message(Command("resources"), flags=PUBLIC)
async def show_library(message: Message, ctx: Context, state: FSMContext) -> None:
    await state.set_state(Browse.search)
    text, markup = await categories_view(ctx)
    await message.answer(text, reply_markup=markup)


@router.callback_query(Library.filter(F.action == "cats"), flags=PUBLIC)
async def back_to_categories(query: CallbackQuery, ctx: Context, state: FSMContext) -> None:
    await state.set_state(Browse.search)
    text, markup = await categories_view(ctx)
    if isinstance(query.message, Message):
        await query.message.edit_text(text, reply_markup=markup)


def page_view(
    title: str, found: library.Page, language: str, button: Library, back: bool = True
) -> tuple[str, InlineKeyboardMarkup]:
    """A page: its title, how many, one line per resource; number buttons open the cards."""
    lines = [title, results_header(found.total, found.offset, len(found.items)), ""]
    numbers: list[InlineKeyboardButton] = []
    for number, resource in enumerate(found.items, start=found.offset + 1):
        lines.append(list_line(number, resource, language))
        numbers.append(
            InlineKeyboardButton(
                text=str(number), callback_data=Library(action="open", id=resource.id or 0).pack()
            )
        )
    # Rows built directly: InlineKeyboardBuilder deep-copies its whole markup on every button added.
    rows = [numbers[start : start + 4] for start in range(0, len(numbers), 4)]
    navigation = []
    if found.offset > 0:
        previous = button.model_copy(update={"page": max(0, found.offset - library.PAGE_SIZE)})
        navigation.append(InlineKeyboardButton(text="◀️", callback_data=previous.pack()))
    if found.has_next:
        following = button.model_copy(update={"page": found.offset + library.PAGE_SIZE})
        navigation.append(InlineKeyboardButton(text="▶️", callback_data=following.pack()))
    if navigation:
        rows.append(navigation)
    if back:
        rows.append(
            [InlineKeyboardButton(text=_("⬅️ Categories"), callback_data=Library(action="cats").pack())]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def _show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    if isinstance(query.message, Message) and query.message.text is not None:
        await query.message.edit_text(text, reply_markup=markup)
    elif query.message is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)  # type: ignore[union-attr]


@router.callback_query(Library.filter(F.action == "cat"), flags=PUBLIC)
async def category_page(
    query: CallbackQuery, callback_data: Library, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    if callback_data.value not in CATEGORY_LABELS:
        stale_button(callback_answer)
        return
    found = await library.page(
        ctx.session,
        await organizations(ctx),
        ctx.locale,
        category=callback_data.value,
        offset=callback_data.page,
    )
    await _show(
        query, *page_view(f"<b>{category_label(callback_data.value)}</b>", found, ctx.locale, callback_data)
    )


async def search_view(ctx: Context, words: str, offset: int) -> tuple[str, InlineKeyboardMarkup]:
    found = await library.page(ctx.session, await organizations(ctx), ctx.locale, query=words, offset=offset)
    title = _("🔎 <b>{query}</b>").format(query=escape(words))
    text, markup = page_view(title, found, ctx.locale, Library(action="sp", page=offset))
    if found.total == 0:
        text += _("Try other words, or choose a category.")
    return text, markup


@router.message(Browse.search, F.text, ~F.text.startswith("/"), flags=PUBLIC)
async def search_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    words = (message.text or "").strip()[:QUERY_MAX]
    await state.update_data({QUERY_KEY: words})
    text, markup = await search_view(ctx, words, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(Library.filter(F.action == "sp"), flags=PUBLIC)
async def search_page(
    query: CallbackQuery,
    callback_data: Library,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    words = (await state.get_data()).get(QUERY_KEY)
    if not isinstance(words, str) or not words:
        stale_button(callback_answer)
        return
    await _show(query, *await search_view(ctx, words, callback_data.page))


async def saved_view(ctx: Context, offset: int) -> tuple[str, InlineKeyboardMarkup]:
    member_id = ctx.member.id if ctx.member else None
    found = await library.page(
        ctx.session, await organizations(ctx), ctx.locale, saved_by=member_id or -1, offset=offset
    )
    text, markup = page_view(
        _("⭐ <b>Your saved resources</b>"), found, ctx.locale, Library(action="saved", page=offset)
    )
    if found.total == 0:
        text += _("Nothing saved yet: open a resource in /resources and press ⭐ Save.")
    return text, markup


@router.message(Command("saved"), flags=PUBLIC)
async def show_saved(message: Message, ctx: Context) -> None:
    text, markup = await saved_view(ctx, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(Library.filter(F.action == "saved"), flags=PUBLIC)
async def saved_page(query: CallbackQuery, callback_data: Library, ctx: Context) -> None:
    await _show(query, *await saved_view(ctx, callback_data.page))

"""Who receives an announcement: interests and languages ticked on the kit's picker, countries of
residence or origin typed in any language, a city, or everyone; "reaches N members" as it changes."""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.context import Context
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.announcements import count_audience, set_audience
from bot.services.geo import country_codes, country_name, find_countries
from bot.services.members import CITY_MAX, INTERESTS
from bot.services.text import clean_line
from handlers.announcements.callbacks import AnnounceAction
from handlers.announcements.composer import gone_text, load_announcement
from handlers.announcements.states import AnnounceStates
from handlers.announcements.views import audience_keyboard, send_composer
from handlers.composer import TextRule, read_text, toggled
from handlers.fallback import stale_button, toast
from handlers.ui import locale_now
from storage.models import Announcement

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.ANNOUNCE)
TICKS: Final = {"aud_interest": ("interests", INTERESTS), "aud_language": ("languages", SHIPPED_LANGUAGES)}


@router.callback_query(AnnounceAction.filter(F.action == "audience"), flags=FLAGS)
async def audience(
    query: CallbackQuery,
    callback_data: AnnounceAction,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    announcement = await load_announcement(ctx, callback_data.id)
    if announcement is None:
        stale_button(callback_answer)
        return
    await bot.send_message(
        query.from_user.id, _("Who should receive it?"), reply_markup=audience_keyboard(announcement)
    )


@router.callback_query(
    AnnounceAction.filter(F.action.in_({"aud_interest", "aud_language", "aud_clear"})), flags=FLAGS
)
async def audience_ticked(
    query: CallbackQuery, callback_data: AnnounceAction, ctx: Context, callback_answer: CallbackAnswer
) -> None:
    """An interest or a language ticked or unticked, or Everyone (no filter at all)."""
    announcement = await load_announcement(ctx, callback_data.id)
    if announcement is None:
        stale_button(callback_answer)
        return
    chosen: dict[str, Any] = {}
    if callback_data.action in TICKS:
        field, allowed = TICKS[callback_data.action]
        chosen = dict(announcement.audience)
        if callback_data.value in allowed:
            chosen = toggled(chosen, field, callback_data.value)
    await set_audience(ctx.session, announcement, chosen)
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=audience_keyboard(announcement))
    count = await count_audience(ctx.session, announcement)
    toast(
        callback_answer,
        ngettext("Reaches {count} member", "Reaches {count} members", count).format(count=count),
    )


@router.callback_query(
    AnnounceAction.filter(F.action.in_({"aud_residence", "aud_origin", "aud_city"})), flags=FLAGS
)
async def audience_to_type(
    query: CallbackQuery,
    callback_data: AnnounceAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """A country of residence or origin, or a city: typed next."""
    announcement = await load_announcement(ctx, callback_data.id)
    if announcement is None:
        stale_button(callback_answer)
        return
    city = callback_data.action == "aud_city"
    await state.set_state(AnnounceStates.city if city else AnnounceStates.country)
    await state.update_data(announcement_id=announcement.id, field=callback_data.action)
    prompt = (
        _("Which city? Members who live there receive it.")
        if city
        else _("Type a country (in any language). Send it again to remove it.")
    )
    await bot.send_message(query.from_user.id, prompt)


@router.callback_query(AnnounceAction.filter(F.action == "aud_country"), flags=FLAGS)
async def country_chosen(
    query: CallbackQuery,
    callback_data: AnnounceAction,
    ctx: Context,
    state: FSMContext,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    announcement = await load_announcement(ctx, callback_data.id)
    if announcement is None or callback_data.value not in country_codes():
        stale_button(callback_answer)
        return
    origin = (await state.get_data()).get("field") == "aud_origin"
    field = "origin_countries" if origin else "residence_countries"
    await set_audience(ctx.session, announcement, toggled(announcement.audience, field, callback_data.value))
    await state.set_state(None)
    await send_composer(bot, query.from_user.id, ctx.session, announcement)


@router.callback_query(AnnounceAction.filter(F.action == "aud_done"), flags=FLAGS)
async def audience_done(
    query: CallbackQuery,
    callback_data: AnnounceAction,
    ctx: Context,
    callback_answer: CallbackAnswer,
    bot: Bot,
) -> None:
    """Done (or ← Back from a confirmation): the composer card again."""
    announcement = await load_announcement(ctx, callback_data.id)
    if announcement is None:
        stale_button(callback_answer)
        return
    await send_composer(bot, query.from_user.id, ctx.session, announcement)


async def step_announcement(message: Message, ctx: Context, state: FSMContext) -> Announcement | None:
    """For a typed step: the draft it edits, or None after ending the dialog with why not."""
    ident = (await state.get_data()).get("announcement_id")
    announcement = await load_announcement(ctx, int(ident or 0))
    if announcement is None:
        await state.clear()
        await message.answer(gone_text())
    return announcement


@router.message(AnnounceStates.country, F.text, flags=FLAGS)
async def country_typed(message: Message, ctx: Context, state: FSMContext) -> None:
    announcement = await step_announcement(message, ctx, state)
    if announcement is None:
        return
    matches = find_countries(message.text or "")
    if not matches:
        await message.answer(
            _(
                "I couldn't find a country called “{text}”. Please check the spelling, or try its name in "
                "English."
            ).format(text=escape((message.text or "")[:80]))
        )
        return
    builder = InlineKeyboardBuilder()
    for code in matches:
        builder.button(
            text=country_name(code, locale_now()),
            callback_data=AnnounceAction(action="aud_country", id=announcement.id or 0, value=code),
        )
    builder.adjust(1)
    await message.answer(_("Which one do you mean?"), reply_markup=builder.as_markup())


@router.message(AnnounceStates.city, F.text, flags=FLAGS)
async def city_typed(message: Message, ctx: Context, state: FSMContext, bot: Bot) -> None:
    announcement = await step_announcement(message, ctx, state)
    if announcement is None:
        return
    city = await read_text(message, state, TextRule(CITY_MAX))
    if city is None:
        return
    # As typed in the profile (invisible characters dropped, spaces collapsed): the filter compares them.
    await set_audience(
        ctx.session, announcement, {**announcement.audience, "city": clean_line(city, CITY_MAX)}
    )
    await state.set_state(None)
    await send_composer(bot, message.chat.id, ctx.session, announcement)

"""The answers to the profile steps: typed name, country and city; buttons for the country,
time zone, interests and muted topics; Skip. Each saves at once and moves to the next step."""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.geo import country_codes, country_name, find_countries, is_valid_zone, zone_label
from bot.services.members import CITY_MAX, INTERESTS, NAME_MAX, update_profile
from bot.services.text import TextRejected, clean_line
from handlers.fallback import stale_button
from handlers.filters import IsRegistered
from handlers.members.callbacks import CountryChoice, InterestToggle, MuteToggle, StepAction, ZoneChoice
from handlers.members.profile import ORDER, advance, ask, suggested_name, zone_keyboard
from handlers.members.states import ProfileStates
from handlers.members.views import interests_keyboard, muted_keyboard
from handlers.ui import INTEREST_LABELS, locale_now
from storage.models import Member

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private", IsRegistered())
router.callback_query.filter(IsRegistered())


# -- answers -----------------------------------------------------------------------------------


# A typed line per step: the field it fills, its limit, and how it is echoed.
LINES: Final = {
    ProfileStates.name.state: ("display_name", NAME_MAX, __("Nice to meet you, {name}!")),
    ProfileStates.city.state: ("residence_city", CITY_MAX, __("City: {city}")),
}


@router.message(StateFilter(ProfileStates.name, ProfileStates.city), F.text, flags=rights(Action.PUBLIC))
async def line_typed(
    message: Message, member: Member, state: FSMContext, session: AsyncSession, bot: Bot
) -> None:
    """The name or the city, typed."""
    current = await state.get_state() or ""
    field, limit, echo = LINES[current]
    value = await _clean(message, limit)
    if value is None:
        return
    await update_profile(session, member, **{field: value})
    await message.answer(str(echo).format(name=escape(value), city=escape(value)))
    if current == ProfileStates.city.state:
        await _after_city(bot, message.chat.id, member, state, session)
    else:
        await advance(bot, message.chat.id, member, state, session)


@router.callback_query(
    ProfileStates.name, StepAction.filter(F.action == "keep_name"), flags=rights(Action.PUBLIC)
)
async def name_kept(
    query: CallbackQuery,
    member: Member,
    state: FSMContext,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    name = suggested_name(member, await state.get_data())
    if name is None:
        stale_button(callback_answer)
        return
    await update_profile(session, member, display_name=name)
    await _close_question(query, _("Name: {name}").format(name=escape(name)))
    await advance(query.bot, query.from_user.id, member, state, session)  # type: ignore[arg-type]


@router.message(
    StateFilter(ProfileStates.origin, ProfileStates.residence), F.text, flags=rights(Action.PUBLIC)
)
async def country_typed(
    message: Message, member: Member, state: FSMContext, session: AsyncSession, bot: Bot
) -> None:
    query = await _clean(message, 80)
    if query is None:
        return
    matches = find_countries(query)
    if not matches:
        await message.answer(
            _(
                "I couldn't find a country called “{text}”. Please check the spelling, or try its name in "
                "English."
            ).format(text=escape(query))
        )
        return
    if len(matches) == 1:
        await _save_country(message.chat.id, matches[0], member, state, session, bot)
        return
    builder = InlineKeyboardBuilder()
    for code in matches:
        builder.button(text=country_name(code, locale_now()), callback_data=CountryChoice(code=code))
    builder.adjust(1)
    await message.answer(_("Which one do you mean?"), reply_markup=builder.as_markup())


@router.callback_query(
    StateFilter(ProfileStates.origin, ProfileStates.residence),
    CountryChoice.filter(),
    flags=rights(Action.PUBLIC),
)
async def country_chosen(
    query: CallbackQuery,
    callback_data: CountryChoice,
    member: Member,
    state: FSMContext,
    session: AsyncSession,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    code = callback_data.code.upper()
    if code not in country_codes():
        stale_button(callback_answer)
        return
    await _close_question(query, country_name(code, locale_now()))
    await _save_country(query.from_user.id, code, member, state, session, bot)


async def _save_country(
    chat_id: int, code: str, member: Member, state: FSMContext, session: AsyncSession, bot: Bot
) -> None:
    current = await state.get_state()
    name = escape(country_name(code, locale_now()))
    if current == ProfileStates.origin.state:
        await update_profile(session, member, origin_country=code)
        await bot.send_message(chat_id, _("Country of origin: {country}").format(country=name))
    else:
        changed = member.residence_country != code
        fields: dict[str, object] = {"residence_country": code}
        if changed:
            fields["residence_city"] = None
        await update_profile(session, member, **fields)
        await bot.send_message(chat_id, _("You live in: {country}").format(country=name))
        data = await state.get_data()
        if data.get("mode") == "edit":
            # A new country usually means a new city and zone: ask them next.
            await state.update_data(mode="edit_residence")
            await ask(bot, chat_id, member, state, ProfileStates.city)
            return
    await advance(bot, chat_id, member, state, session)


async def _after_city(
    bot: Bot, chat_id: int, member: Member, state: FSMContext, session: AsyncSession
) -> None:
    data = await state.get_data()
    if data.get("mode") == "edit_residence":
        await state.update_data(mode="edit")
        await ask(bot, chat_id, member, state, ProfileStates.timezone)
        return
    await advance(bot, chat_id, member, state, session)


@router.callback_query(ProfileStates.timezone, ZoneChoice.filter(), flags=rights(Action.PUBLIC))
async def zone_chosen(
    query: CallbackQuery,
    callback_data: ZoneChoice,
    member: Member,
    state: FSMContext,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    if not is_valid_zone(callback_data.zone):
        stale_button(callback_answer)
        return
    await update_profile(session, member, timezone=callback_data.zone)
    await _close_question(
        query, _("Time zone: {zone}").format(zone=escape(zone_label(callback_data.zone, locale_now())))
    )
    await advance(query.bot, query.from_user.id, member, state, session)  # type: ignore[arg-type]


@router.callback_query(
    ProfileStates.timezone, StepAction.filter(F.action == "more_zones"), flags=rights(Action.PUBLIC)
)
async def more_zones(query: CallbackQuery, member: Member) -> None:
    """ "Other…": the same question, now with every zone of the country."""
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=zone_keyboard(member))


@router.callback_query(
    ProfileStates.interests, InterestToggle.filter(F.key != "done"), flags=rights(Action.PUBLIC)
)
async def interest_toggled(
    query: CallbackQuery,
    callback_data: InterestToggle,
    member: Member,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.key not in INTERESTS:
        stale_button(callback_answer)
        return
    chosen = [key for key in member.interests if key != callback_data.key]
    if callback_data.key not in member.interests:
        chosen.append(callback_data.key)
    await update_profile(session, member, interests=[key for key in INTERESTS if key in chosen])
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=interests_keyboard(list(member.interests)))


@router.callback_query(
    ProfileStates.interests, InterestToggle.filter(F.key == "done"), flags=rights(Action.PUBLIC)
)
async def interests_done(
    query: CallbackQuery, member: Member, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    chosen = ", ".join(str(INTEREST_LABELS[key]) for key in member.interests) or _("none")
    await _close_question(query, _("Interests: {interests}").format(interests=escape(chosen)))
    await advance(query.bot, query.from_user.id, member, state, session, settings.admin_ids)  # type: ignore[arg-type]


@router.callback_query(ProfileStates.muted, MuteToggle.filter(F.key != "done"), flags=rights(Action.PUBLIC))
async def mute_toggled(
    query: CallbackQuery,
    callback_data: MuteToggle,
    member: Member,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.key not in INTERESTS:
        stale_button(callback_answer)
        return
    muted = set(member.muted) ^ {callback_data.key}
    await update_profile(session, member, muted=[key for key in INTERESTS if key in muted])
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=muted_keyboard(list(member.muted)))


@router.callback_query(ProfileStates.muted, MuteToggle.filter(F.key == "done"), flags=rights(Action.PUBLIC))
async def mute_done(query: CallbackQuery, member: Member, state: FSMContext, session: AsyncSession) -> None:
    chosen = ", ".join(str(INTEREST_LABELS[key]) for key in member.muted) or _("none")
    await _close_question(query, _("Muted topics: {topics}").format(topics=escape(chosen)))
    await advance(query.bot, query.from_user.id, member, state, session)  # type: ignore[arg-type]


@router.callback_query(
    StateFilter(*ORDER), StepAction.filter(F.action == "skip"), flags=rights(Action.PUBLIC)
)
async def step_skipped(
    query: CallbackQuery, member: Member, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    await _close_question(query, _("Skipped."))
    if await state.get_state() == ProfileStates.city.state:
        await _after_city(query.bot, query.from_user.id, member, state, session)  # type: ignore[arg-type]
        return
    await advance(query.bot, query.from_user.id, member, state, session, settings.admin_ids)  # type: ignore[arg-type]


@router.message(StateFilter(*ORDER, ProfileStates.muted), flags=rights(Action.PUBLIC))
async def not_text(message: Message) -> None:
    """A sticker, photo or voice note where a typed answer is expected."""
    await message.answer(
        _("Please answer with a text message, or use the buttons above. Send /cancel to stop.")
    )


# -- helpers -----------------------------------------------------------------------------------


async def _clean(message: Message, limit: int) -> str | None:
    """The typed text cleaned, or None after telling the member what is wrong with it."""
    text = message.text or ""
    if text.startswith("/"):
        await message.answer(_("Please answer the question first, or send /cancel to stop."))
        return None
    try:
        return clean_line(text, limit)
    except TextRejected as error:
        if error.reason == "too_long":
            await message.answer(
                ngettext(
                    "That is too long: please keep it to {limit} character.",
                    "That is too long: please keep it to {limit} characters.",
                    error.limit,
                ).format(limit=error.limit)
            )
        else:
            await message.answer(_("That looks empty. Please type your answer."))
        return None


async def _close_question(query: CallbackQuery, outcome: str) -> None:
    """Show what was chosen in place of the question's buttons, so old buttons can't be pressed."""
    if isinstance(query.message, Message):
        await query.message.edit_text(f"{query.message.html_text}\n\n<b>{outcome}</b>")

"""The member's profile: the onboarding wizard after consent, and `/profile` to edit any field.

Each step is skippable where sensible; finite choices are buttons; countries are typed in any
language and confirmed with buttons. The step and what was typed are kept in the FSM storage (in the
database), so a restart in the middle loses nothing.
"""

from __future__ import annotations

from html import escape
from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.deep_links import parse_deep_link
from bot.services.geo import (
    country_codes,
    country_name,
    country_zones,
    find_countries,
    is_valid_zone,
    zone_label,
)
from bot.services.members import CITY_MAX, INTERESTS, NAME_MAX, complete_profile, update_profile
from bot.services.roles import organization_of
from bot.services.text import TextRejected, clean_line
from handlers.callbacks import CountryChoice, InterestToggle, MuteToggle, ProfileEdit, StepAction, ZoneChoice
from handlers.events.member import show_linked_event
from handlers.fallback import stale_button
from handlers.filters import IsRegistered
from handlers.states import ProfileStates
from handlers.surveys import show_linked_survey
from handlers.trainings import show_linked_training
from handlers.ui import INTEREST_LABELS, interests_keyboard, locale_now, muted_keyboard, profile_card
from storage.models import Member

# Deep links (`?start=event_12`) that open something once the member is registered (at /start,
# or at the end of registration for a newcomer who came through one).
LINKED = {"event": show_linked_event, "training": show_linked_training, "survey": show_linked_survey}

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private", IsRegistered())
router.callback_query.filter(IsRegistered())

ORDER: Final = (
    ProfileStates.name,
    ProfileStates.origin,
    ProfileStates.residence,
    ProfileStates.city,
    ProfileStates.timezone,
    ProfileStates.interests,
)
EDIT_FIELDS: Final = {
    "name": ProfileStates.name,
    "origin": ProfileStates.origin,
    "residence": ProfileStates.residence,
    "city": ProfileStates.city,
    "timezone": ProfileStates.timezone,
    "interests": ProfileStates.interests,
    "muted": ProfileStates.muted,
}


# -- entering and leaving the wizard -----------------------------------------------------------


async def start_profile(
    bot: Bot, chat_id: int, member: Member, state: FSMContext, telegram_name: str
) -> None:
    await state.update_data(mode="onboarding", telegram_name=telegram_name)
    await bot.send_message(
        chat_id, _("Let's set up your profile. It takes a minute, and you can skip any step.")
    )
    await ask(bot, chat_id, member, state, ProfileStates.name)


async def resume_profile(bot: Bot, chat_id: int, member: Member, state: FSMContext) -> None:
    current = await state.get_state()
    step = next((step for step in ORDER if step.state == current), ProfileStates.name)
    await ask(bot, chat_id, member, state, step)


async def ask(bot: Bot, chat_id: int, member: Member, state: FSMContext, step: State) -> None:
    """Send the question of a step with its buttons and wait for the answer in that state."""
    await state.set_state(step)
    data = await state.get_data()
    builder = InlineKeyboardBuilder()
    if step == ProfileStates.name:
        text = _("What name should we use for you? Send it as a message.")
        suggestion = _suggested_name(member, data)
        if suggestion:
            label = _("Use “{name}”").format(name=suggestion)
            if len(label) <= 60:
                builder.button(text=label, callback_data=StepAction(action="keep_name"))
    elif step == ProfileStates.origin:
        text = _("Which country are you originally from? Type its name in any language, e.g. Senegal.")
    elif step == ProfileStates.residence:
        text = _("Which country do you live in now? Type its name, e.g. Canada.")
    elif step == ProfileStates.city:
        text = _("And which city or town? (You can skip this.)")
    elif step == ProfileStates.timezone:
        text, zones = _zone_question(member)
        for zone in zones:
            builder.button(text=zone_label(zone, locale_now()), callback_data=ZoneChoice(zone=zone))
    elif step == ProfileStates.muted:
        text = _("Which topics do you NOT want announcements about? Tap to mute or unmute, then press Done.")
        await bot.send_message(chat_id, text, reply_markup=muted_keyboard(list(member.muted)))
        return
    else:
        text = _("What are you interested in? Choose as many as you like, then press Done.")
        await bot.send_message(chat_id, text, reply_markup=interests_keyboard(list(member.interests)))
        return
    builder.button(text=_("Skip"), callback_data=StepAction(action="skip"))
    builder.adjust(1 if step != ProfileStates.timezone else 2)
    await bot.send_message(chat_id, text, reply_markup=builder.as_markup())


def _suggested_name(member: Member, data: dict[str, object]) -> str | None:
    """The name we already know (saved, or Telegram's), if it is a usable name."""
    try:
        return clean_line(str(member.display_name or data.get("telegram_name") or ""), NAME_MAX)
    except TextRejected:
        return None


def _zone_question(member: Member) -> tuple[str, tuple[str, ...]]:
    zones = country_zones(member.residence_country) if member.residence_country else ()
    if len(zones) == 1:
        return _("Your time zone seems to be this one. Is it right?"), zones
    if zones:
        return _("Your country has several time zones. Which one are you in?"), zones
    current = member.timezone or "UTC"
    return _("I will use this time zone for dates and reminders. Press it to confirm, or skip."), (current,)


async def advance(bot: Bot, chat_id: int, member: Member, state: FSMContext, session: AsyncSession) -> None:
    """After a step: next question during onboarding, or back to the card when editing."""
    current = await state.get_state()
    data = await state.get_data()
    if data.get("mode") == "edit" and current != ProfileStates.residence.state:
        await state.set_state(None)
        await bot.send_message(
            chat_id, _("✅ Saved.") + "\n\n" + profile_card(member), reply_markup=edit_keyboard()
        )
        return
    index = next(i for i, step in enumerate(ORDER) if step.state == current)
    if index + 1 < len(ORDER):
        await ask(bot, chat_id, member, state, ORDER[index + 1])
        return
    await state.set_state(None)
    await complete_profile(session, member)
    pending = parse_deep_link(data.get("pending_link"))
    await bot.send_message(
        chat_id,
        _("🎉 Your profile is ready!")
        + "\n\n"
        + profile_card(member)
        + "\n\n"
        + _("Change anything with /profile. See what I can do with /help."),
    )
    if pending is not None and pending.kind in LINKED:  # they came through a link
        await state.update_data(pending_link=None)
        organization = await organization_of(session, member)
        if organization is not None:
            await LINKED[pending.kind](
                bot, chat_id, session, int(pending.value), member, organization, locale_now()
            )


def edit_keyboard() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    labels = {
        "name": _("✏️ Name"),
        "origin": _("✏️ Origin"),
        "residence": _("✏️ Country"),
        "city": _("✏️ City"),
        "timezone": _("✏️ Time zone"),
        "interests": _("✏️ Interests"),
        "muted": _("🔕 Muted topics"),
    }
    for field, label in labels.items():
        builder.button(text=label, callback_data=ProfileEdit(field=field))
    builder.adjust(2)
    return builder.as_markup()


# -- /profile ----------------------------------------------------------------------------------


@router.message(Command("profile"), flags=rights(Action.PUBLIC))
async def show_profile(message: Message, member: Member, state: FSMContext) -> None:
    await state.set_state(None)
    await message.answer(profile_card(member), reply_markup=edit_keyboard())


@router.callback_query(ProfileEdit.filter(), flags=rights(Action.PUBLIC))
async def edit_field(
    query: CallbackQuery,
    callback_data: ProfileEdit,
    member: Member,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    step = EDIT_FIELDS.get(callback_data.field)
    if step is None:
        stale_button(callback_answer)
        return
    await state.update_data(mode="edit")
    await ask(bot, query.from_user.id, member, state, step)


# -- answers -----------------------------------------------------------------------------------


@router.message(ProfileStates.name, F.text, flags=rights(Action.PUBLIC))
async def name_typed(
    message: Message, member: Member, state: FSMContext, session: AsyncSession, bot: Bot
) -> None:
    name = await _clean(message, NAME_MAX)
    if name is None:
        return
    await update_profile(session, member, display_name=name)
    await message.answer(_("Nice to meet you, {name}!").format(name=escape(name)))
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
    name = _suggested_name(member, await state.get_data())
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


@router.message(ProfileStates.city, F.text, flags=rights(Action.PUBLIC))
async def city_typed(
    message: Message, member: Member, state: FSMContext, session: AsyncSession, bot: Bot
) -> None:
    city = await _clean(message, CITY_MAX)
    if city is None:
        return
    await update_profile(session, member, residence_city=city)
    await message.answer(_("City: {city}").format(city=escape(city)))
    await _after_city(bot, message.chat.id, member, state, session)


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
    query: CallbackQuery, member: Member, state: FSMContext, session: AsyncSession
) -> None:
    chosen = ", ".join(str(INTEREST_LABELS[key]) for key in member.interests) or _("none")
    await _close_question(query, _("Interests: {interests}").format(interests=escape(chosen)))
    await advance(query.bot, query.from_user.id, member, state, session)  # type: ignore[arg-type]


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
    query: CallbackQuery, member: Member, state: FSMContext, session: AsyncSession
) -> None:
    await _close_question(query, _("Skipped."))
    if await state.get_state() == ProfileStates.city.state:
        await _after_city(query.bot, query.from_user.id, member, state, session)  # type: ignore[arg-type]
        return
    await advance(query.bot, query.from_user.id, member, state, session)  # type: ignore[arg-type]


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

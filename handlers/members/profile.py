"""The member's profile: the onboarding wizard after consent, and `/profile` to edit any field
(the answers to each step are handled in `profile_steps.py`).

Each step is skippable where sensible; finite choices are buttons; countries are typed in any
language and confirmed with buttons. The step and what was typed are kept in the FSM storage (in the
database), so a restart in the middle loses nothing.
"""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config import Settings
from bot.i18n import _
from bot.policy import Action, rights
from bot.services.deep_links import parse_deep_link
from bot.services.geo import zone_choices, zone_label
from bot.services.library import digest_on
from bot.services.members import NAME_MAX, complete_profile
from bot.services.roles import deployment_organization, organization_of
from bot.services.text import TextRejected, clean_line
from handlers.fallback import stale_button
from handlers.filters import IsRegistered
from handlers.members.callbacks import ProfileEdit, StepAction, ZoneChoice
from handlers.members.links import open_link
from handlers.members.states import ProfileStates
from handlers.members.views import edit_keyboard, interests_keyboard, muted_keyboard, profile_card
from handlers.ui import locale_now
from storage.models import Member

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


async def prepare_profile(state: FSMContext, telegram_name: str) -> None:
    """The wizard's first step, saved before anything is sent: a crash after the consent's reply
    leaves the member at the name question, where /start resumes."""
    await state.update_data(mode="onboarding", telegram_name=telegram_name)
    await state.set_state(ProfileStates.name)


async def start_profile(bot: Bot, chat_id: int, member: Member, state: FSMContext) -> None:
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
        suggestion = suggested_name(member, data)
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
        text, zones, others = _zone_question(member)
        for zone in zones:
            builder.button(text=zone_label(zone, locale_now()), callback_data=ZoneChoice(zone=zone))
        if others:  # the rare zones of the country (Büsingen) wait behind "Other…"
            builder.button(text=_("Other…"), callback_data=StepAction(action="more_zones"))
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


def suggested_name(member: Member, data: dict[str, object]) -> str | None:
    """The name we already know (saved, or Telegram's), if it is a usable name."""
    try:
        return clean_line(str(member.display_name or data.get("telegram_name") or ""), NAME_MAX)
    except TextRejected:
        return None


def _zone_question(member: Member) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The question, the zones offered (the country's main zone first) and those under "Other…"."""
    zones, others = zone_choices(member.residence_country) if member.residence_country else ((), ())
    if len(zones) == 1:
        return _("Your time zone seems to be this one. Is it right?"), zones, others
    if zones:
        return _("Your country has several time zones. Which one are you in?"), zones, others
    current = member.timezone or "UTC"
    question = _("I will use this time zone for dates and reminders. Press it to confirm, or skip.")
    return question, (current,), ()


def zone_keyboard(member: Member) -> InlineKeyboardMarkup:
    """Every zone of the member's country (after "Other…"), west to east, and Skip."""
    builder = InlineKeyboardBuilder()
    zones, others = zone_choices(member.residence_country or "")
    for zone in (*zones, *others):
        builder.button(text=zone_label(zone, locale_now()), callback_data=ZoneChoice(zone=zone))
    builder.button(text=_("Skip"), callback_data=StepAction(action="skip"))
    builder.adjust(2)
    return builder.as_markup()


async def advance(
    bot: Bot,
    chat_id: int,
    member: Member,
    state: FSMContext,
    session: AsyncSession,
    super_admins: frozenset[int] = frozenset(),
) -> None:
    """After a step: next question during onboarding, or back to the card when editing. The step
    that ends the onboarding (interests, or a skip) passes `super_admins`: an invite link opened
    then may ask an organization with no admin yet to take the newcomer in."""
    current = await state.get_state()
    data = await state.get_data()
    if data.get("mode") == "edit" and current != ProfileStates.residence.state:
        await state.set_state(None)
        await bot.send_message(
            chat_id,
            _("✅ Saved.") + "\n\n" + profile_card(member),
            reply_markup=edit_keyboard(digest=await digest_on(session, member.id or 0)),
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
    if pending is not None:  # they came through a link
        await state.update_data(pending_link=None)
        # The organization joined at consent (a newcomer invited by another one joins it now).
        organization = await organization_of(session, member) or await deployment_organization(session)
        await open_link(bot, chat_id, session, pending, member, organization, locale_now(), super_admins)


# -- /profile ----------------------------------------------------------------------------------


@router.message(Command("profile"), flags=rights(Action.PUBLIC))
async def show_profile(
    message: Message, member: Member, state: FSMContext, settings: Settings, session: AsyncSession
) -> None:
    await state.set_state(None)
    digest = await digest_on(session, member.id or 0)
    await message.answer(
        profile_card(member),
        reply_markup=edit_keyboard(calendar_feed=settings.public_url is not None, digest=digest),
    )


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

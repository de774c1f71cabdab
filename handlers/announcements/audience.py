"""Who receives an announcement: interests and languages ticked on the kit's picker, countries of
residence or origin typed in any language, a city, or everyone; "reaches N members" as it changes."""

from __future__ import annotations

from html import escape
from typing import Any, Final

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import SHIPPED_LANGUAGES
from bot.context import Context
from bot.i18n import _, ngettext
from bot.policy import Action, rights
from bot.services.announcements import count_audience, set_audience
from bot.services.geo import country_codes, country_name, find_countries
from bot.services.members import CITY_MAX, INTERESTS
from bot.services.reach import reach_of, with_reach
from bot.services.text import clean_line
from handlers.announcements.callbacks import AnnounceAction
from handlers.announcements.composer import COMPOSER, step_announcement
from handlers.announcements.states import AnnounceStates
from handlers.announcements.views import audience_keyboard, send_composer
from handlers.composer import TextRule, Turn, audience_summary, draft_button, echo_choice, read_text, toggled
from handlers.composer.reach import CODES as REACH_CODES
from handlers.composer.reach import offers_reach, reach_choice
from handlers.ui import locale_now
from storage.models import Announcement

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")
FLAGS: Final = rights(Action.ANNOUNCE)
TICKS: Final = {"aud_interest": ("interests", INTERESTS), "aud_language": ("languages", SHIPPED_LANGUAGES)}


@draft_button(COMPOSER, router, "audience")
async def audience(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    await turn.say(_("Who should receive it?"), audience_keyboard(announcement, await offers_reach(turn.ctx)))


@draft_button(COMPOSER, router, "aud_interest", "aud_language", "aud_clear")
async def audience_ticked(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    """An interest or a language ticked or unticked, or Everyone (no filter at all: the
    organizations reached stay as they are)."""
    chosen = with_reach({}, reach_of(announcement.audience))
    if data.action in TICKS:
        field, allowed = TICKS[data.action]
        chosen = dict(announcement.audience)
        if data.value in allowed:
            chosen = toggled(chosen, field, data.value)
    await set_audience(turn.ctx.session, announcement, chosen)
    if turn.message is not None:
        keyboard = audience_keyboard(announcement, await offers_reach(turn.ctx))
        await turn.message.edit_reply_markup(reply_markup=keyboard)
    await _tell_count(turn, announcement)


async def _tell_count(turn: Turn, announcement: Announcement) -> None:
    count = await count_audience(turn.ctx.session, announcement)
    turn.toast(ngettext("Reaches {count} member", "Reaches {count} members", count).format(count=count))


@draft_button(COMPOSER, router, *REACH_CODES)
async def reach_chosen(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    """A super-admin's reach: all organizations, those active in a country, or chosen ones."""

    def picker(audience: dict[str, Any]) -> InlineKeyboardMarkup:
        return audience_keyboard(announcement, True, audience)

    def button(action: str, value: str = "") -> AnnounceAction:
        return AnnounceAction(action=action, id=announcement.id or 0, value=value)

    widened = await reach_choice(turn, dict(announcement.audience), data.action, data.value, button, picker)
    if widened is None:
        turn.stale()
        return
    if widened != announcement.audience:
        await set_audience(turn.ctx.session, announcement, widened)
        await _tell_count(turn, announcement)


@draft_button(COMPOSER, router, "aud_residence", "aud_origin", "aud_city")
async def audience_to_type(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    """A country of residence or origin, or a city: typed next."""
    city = data.action == "aud_city"
    await turn.state.set_state(AnnounceStates.city if city else AnnounceStates.country)
    await turn.state.update_data(announcement_id=announcement.id, field=data.action)
    prompt = (
        _("Which city? Members who live there receive it.")
        if city
        else _("Type a country (in any language). Send it again to remove it.")
    )
    await turn.say(prompt)


@draft_button(COMPOSER, router, "aud_country")
async def country_chosen(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    if data.value not in country_codes():
        turn.stale()
        return
    origin = (await turn.state.get_data()).get("field") == "aud_origin"
    field = "origin_countries" if origin else "residence_countries"
    await set_audience(turn.ctx.session, announcement, toggled(announcement.audience, field, data.value))
    await turn.state.set_state(None)
    await echo_choice(turn)
    await send_composer(turn.bot, turn.chat_id, turn.ctx.session, announcement)


@draft_button(COMPOSER, router, "aud_done")
async def audience_done(turn: Turn, announcement: Announcement, data: AnnounceAction) -> None:
    """Done (or ← Back from a confirmation): the audience echoed, the composer card again."""
    await echo_choice(turn, audience_summary(announcement.audience))
    await send_composer(turn.bot, turn.chat_id, turn.ctx.session, announcement)


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
